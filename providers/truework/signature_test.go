package truework_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// simulatorKeys are the keys a provider names to verify the simulator, as
// controllers' tests and the sandbox configure spec.responseSignatures.
func simulatorKeys(t *testing.T) map[string][]byte {
	t.Helper()
	keys := map[string][]byte{}
	for id, encoded := range twsim.Entry().SigningKeys {
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatal(err)
		}
		keys[id] = raw
	}
	return keys
}

// verifying is a's client that verifies signatures with keys, its calls
// served by handler in process, each answer passed through change (nil:
// as is) before the client reads it.
func (a account) verifying(t *testing.T, keys map[string][]byte, handler http.Handler, change func(h http.Header, body []byte) []byte) *truework.Client {
	t.Helper()
	return newClientWith(t, providers.Config{
		BaseURL: "https://truework.test", APIVersion: a.version,
		Credentials: map[string][]byte{truework.CredentialKey: []byte(a.key)},
		HTTPClient:  &http.Client{Transport: inProcess{handler: handler, change: change}},
		Signatures:  providers.Signatures{Verify: true, PublicKeys: keys},
	})
}

// inProcess serves a call with handler and lets change alter the answer:
// a proxy, or an attacker, between Truework and the client.
type inProcess struct {
	handler http.Handler
	change  func(h http.Header, body []byte) []byte
}

func (p inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	p.handler.ServeHTTP(rec, r)
	resp := rec.Result()
	body := rec.Body.Bytes()
	if p.change != nil {
		body = p.change(resp.Header, body)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// With the simulator's key every call works, in every version.
func TestSignedAnswersAreBelieved(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim := twsim.New()
		c := a.verifying(t, simulatorKeys(t), sim, nil)
		orderID := createOrder(t, sim, "processing")
		if obs, err := c.Observe(ctx, a.managed(t, sim, orderID)); err != nil || obs.VendorState != "processing" {
			t.Fatalf("Observe = %+v, %v", obs, err)
		}
		if obs, err := c.Cancel(ctx, a.managed(t, sim, orderID), providers.Cancellation{}); err != nil || obs.State != providers.StateCanceled {
			t.Fatalf("Cancel = %+v, %v", obs, err)
		}
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		since := sim.Clock.Now()
		created, err := c.Reverify(ctx, source, sim.ReportID(source))
		if err != nil {
			t.Fatalf("Reverify: %v", err)
		}
		if obs, found, err := c.FindReverification(ctx, source, since); err != nil || !found || obs.ID != created.ID {
			t.Fatalf("FindReverification = %+v %v %v", obs, found, err)
		}
		if obs, err := c.Reverified().Cancel(ctx, created.ID, providers.Cancellation{}); err != nil || obs.State != providers.StateCanceled {
			t.Fatalf("Reverified().Cancel = %+v, %v", obs, err)
		}
	})
}

// No answer without a valid signature is believed, whatever it says: not
// an order's state, not "not found", not a refusal (which would tell the
// controller a reverification never happened).
func TestUnsignedOrAlteredAnswersAreRefused(t *testing.T) {
	// The provider names the simulator's key and one the test holds.
	keys := simulatorKeys(t)
	testPublic, testPrivate, _ := ed25519.GenerateKey(rand.Reader)
	keys["tw-test"] = testPublic
	_, otherPrivate, _ := ed25519.GenerateKey(rand.Reader)
	resign := func(keyID string, private ed25519.PrivateKey) func(h http.Header, body []byte) []byte {
		return func(h http.Header, body []byte) []byte {
			h.Set("X-Truework-Signature", twsim.Sign(keyID, private, h, body))
			return body
		}
	}
	cases := []struct {
		name    string
		call    string // observe, cancel (of a completed order: 400), missing (404), reverify (400: the window)
		change  func(h http.Header, body []byte) []byte
		wantMsg string
	}{
		{"no signature on a 200", "observe", func(h http.Header, b []byte) []byte { h.Del("X-Truework-Signature"); return b },
			"carries no X-Truework-Signature header"},
		{"no signature on a 404", "missing", func(h http.Header, b []byte) []byte { h.Del("X-Truework-Signature"); return b },
			"carries no X-Truework-Signature header"},
		{"no signature on a 400", "cancel", func(h http.Header, b []byte) []byte { h.Del("X-Truework-Signature"); return b },
			"carries no X-Truework-Signature header"},
		{"no signature on a refused reverify", "reverify", func(h http.Header, b []byte) []byte {
			h.Del("X-Truework-Signature")
			return b
		}, "carries no X-Truework-Signature header"},
		{"a state changed in the body", "observe", func(_ http.Header, b []byte) []byte {
			return bytes.Replace(b, []byte(`"processing"`), []byte(`"completedX"`), 1)
		}, "does not match its signed headers and body"},
		{"a body cut short", "observe", func(_ http.Header, b []byte) []byte { return b[:len(b)-1] },
			"a content-length that does not match the"},
		{"another date", "observe", func(h http.Header, b []byte) []byte {
			h.Set("Date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
			return b
		}, "does not match"},
		{"signed by a key the provider does not name", "observe", resign("tw-other", otherPrivate),
			`is signed with key "tw-other", which is not one of the provider's keys (tw-simulator, tw-test)`},
		{"a key id posing as the provider's", "observe", resign(twsim.SigningKeyID, otherPrivate), "does not match"},
		{"a valid signature of the date and body only", "observe", func(h http.Header, b []byte) []byte {
			sig := ed25519.Sign(testPrivate, append([]byte("date: "+h.Get("Date")+"\n"), b...))
			h.Set("X-Truework-Signature", `keyId="tw-test", headers="date", signature="`+base64.StdEncoding.EncodeToString(sig)+`"`)
			return b
		}, "does not cover the content-length header"},
		{"signed by the provider's other key", "observe", resign("tw-test", testPrivate), ""},
		{"two signatures", "observe", func(h http.Header, b []byte) []byte {
			h.Add("X-Truework-Signature", h.Get("X-Truework-Signature"))
			return b
		}, "carries 2 X-Truework-Signature headers"},
		{"a malformed header", "observe", func(h http.Header, b []byte) []byte {
			h.Set("X-Truework-Signature", "keyId=tw-simulator, signature=abc")
			return b
		}, "malformed X-Truework-Signature"},
		{"a signature of the wrong length", "observe", func(h http.Header, b []byte) []byte {
			h.Set("X-Truework-Signature", `keyId="tw-simulator", headers="date content-length", signature="c2hvcnQ="`)
			return b
		}, "malformed X-Truework-Signature"},
	}
	forEachAccount(t, func(t *testing.T, a account) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sim := twsim.New()
				c := a.verifying(t, keys, sim, tc.change)
				processing := a.managed(t, sim, createOrder(t, sim, "processing"))
				completed := onlyRequest(t, sim, createOrder(t, sim, "completed"))
				var err error
				switch tc.call {
				case "observe":
					_, err = c.Observe(ctx, processing)
				case "missing":
					_, err = c.Observe(ctx, "AAAAAAAAmissing")
				case "cancel":
					_, err = c.Reverified().Cancel(ctx, completed, providers.Cancellation{})
				case "reverify":
					sim.Clock.Advance(truework.ReverifyWindow + time.Hour)
					_, err = c.Reverify(ctx, completed, sim.ReportID(completed))
				}
				if tc.wantMsg == "" { // the control: a valid signature
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				wantKind(t, err, providers.KindSignatureInvalid)
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error = %v, want %q", err, tc.wantMsg)
				}
				assertClean(t, err)
				if got, _ := sim.OrderState(completed); got != "completed" || len(sim.Reverifications(completed)) != 0 {
					t.Errorf("the completed request moved to %s", got)
				}
			})
		}
	})
}

// A 429 or 5xx without any signature is what a proxy answers: it delays
// the next call (transient, Retry-After honored), and being transient it
// keeps a reverification's intent. Truework's own, signed, is a rate
// limit; one whose signature does not verify is refused.
func TestRetryableAnswers(t *testing.T) {
	keys := simulatorKeys(t)
	_, otherPrivate, _ := ed25519.GenerateKey(rand.Reader)
	proxy := func(status int, sign bool) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			body := []byte("<html>busy</html>")
			w.Header().Set("Retry-After", "7")
			w.Header().Set("Date", time.Now().UTC().Format(http.TimeFormat))
			w.Header().Set("Content-Length", "17")
			if sign {
				w.Header().Set("X-Truework-Signature", twsim.Sign("tw-other", otherPrivate, w.Header(), body))
			}
			w.WriteHeader(status)
			_, _ = w.Write(body)
		})
	}
	for _, tc := range []struct {
		name     string
		handler  http.Handler
		wantKind providers.ErrorKind
		wantWait time.Duration
	}{
		{"an unsigned 429", proxy(http.StatusTooManyRequests, false), providers.KindTransient, 7 * time.Second},
		{"an unsigned 502", proxy(http.StatusBadGateway, false), providers.KindTransient, 7 * time.Second},
		{"a 503 signed by another key", proxy(http.StatusServiceUnavailable, true), providers.KindSignatureInvalid, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := accounts[0].verifying(t, keys, tc.handler, nil).Observe(ctx, "AAAAAAAAany")
			perr := wantKind(t, err, tc.wantKind)
			if perr.RetryAfter != tc.wantWait {
				t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, tc.wantWait)
			}
		})
	}
	t.Run("Truework's own 429", func(t *testing.T) {
		sim := twsim.New()
		c := accounts[0].verifying(t, keys, sim, nil)
		id := createOrder(t, sim, "processing")
		var err error
		for i := 0; i < 4*twsim.RateLimit && err == nil; i++ {
			_, err = c.Observe(ctx, id)
		}
		if perr := wantKind(t, err, providers.KindRateLimited); perr.RetryAfter != time.Second {
			t.Errorf("RetryAfter = %v", perr.RetryAfter)
		}
	})
}

// A rotation at Truework: a provider naming both keys verifies either.
func TestKeyRotation(t *testing.T) {
	sim := twsim.New()
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	keys := simulatorKeys(t)
	keys["tw-next"] = public
	c := accounts[0].verifying(t, keys, sim, nil)
	id := createOrder(t, sim, "processing")
	if _, err := c.Observe(ctx, id); err != nil {
		t.Fatalf("old key: %v", err)
	}
	sim.SetSigningKey("tw-next", private)
	if _, err := c.Observe(ctx, id); err != nil {
		t.Fatalf("new key: %v", err)
	}
}

// Without keys of its own a provider verifies with the keys Truework
// publishes for its environment, which the simulator cannot sign with.
func TestPublishedKeysByDefault(t *testing.T) {
	documented := map[string]map[string]string{
		providers.EnvProduction: {"tw-2021-11-11": "Ad14e4K+/6At51wUH2B3M4ONNlRmLiSpI4NUAl+IcyA="},
		providers.EnvSandbox:    {"tw-sandbox-2021-11-11": "yJBzPH0p+gdRuj4qnjU1+ob0AH52gHRDXxnDW1xGaYk="},
	}
	for env, want := range documented {
		got := truework.PublishedKeys(env)
		for id, encoded := range want {
			if base64.StdEncoding.EncodeToString(got[id]) != encoded || len(got) != 1 {
				t.Errorf("%s: PublishedKeys = %v, want %s = %s", env, got, id, encoded)
			}
			sim := twsim.New()
			c := newClientWith(t, providers.Config{
				BaseURL: "https://truework.test", Environment: env,
				Credentials: map[string][]byte{truework.CredentialKey: []byte(twsim.LiveAPIKey)},
				HTTPClient:  &http.Client{Transport: inProcess{handler: sim}},
				Signatures:  providers.Signatures{Verify: true},
			})
			_, err := c.Observe(ctx, createOrder(t, sim, "processing"))
			wantKind(t, err, providers.KindSignatureInvalid)
			if !strings.Contains(err.Error(), "provider's keys ("+id+")") {
				t.Errorf("%s: error = %v, want the published key named", env, err)
			}
		}
	}
}

func TestSignatureConfigRefused(t *testing.T) {
	for name, cfg := range map[string]providers.Config{
		"a key of 31 bytes": {Environment: providers.EnvSandbox,
			Signatures: providers.Signatures{Verify: true, PublicKeys: map[string][]byte{"tw-x": make([]byte, 31)}}},
		"no key for the environment": {Environment: "staging", BaseURL: "https://truework.test",
			Signatures: providers.Signatures{Verify: true}},
	} {
		cfg.Credentials = map[string][]byte{truework.CredentialKey: []byte(twsim.TestAPIKey)}
		if _, err := truework.New(cfg); providers.KindOf(err) != providers.KindRejected {
			t.Errorf("%s: New = %v, want a refusal", name, err)
		}
	}
}
