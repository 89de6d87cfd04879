package txcloud_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/txcloud"
	sim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// seedPII are the personal values in the seed's example JSON.
var seedPII = []string{"AE123456", "Mohammed", "El Amrani", "2023-12-25"}

// assertNoPII fails when any served personal value shows in v's %+v.
func assertNoPII(t *testing.T, v any) {
	t.Helper()
	if v == nil {
		return
	}
	text := fmt.Sprintf("%+v", v)
	if err, ok := v.(error); ok {
		text += " " + err.Error()
	}
	for _, p := range append(append([]string{}, sim.PII...), seedPII...) {
		if strings.Contains(text, p) {
			t.Errorf("PII %q leaked into %q", p, text)
		}
	}
}

// setup starts a simulator and a sandbox client for it. The endpoint
// override includes /v1, as txcloud's base URLs do.
func setup(t *testing.T) (*sim.Server, *txcloud.Client) {
	t.Helper()
	s := sim.New()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, newClient(t, ts.URL+sim.BasePath, sim.TestAPIKey)
}

func newClient(t *testing.T, baseURL, key string) *txcloud.Client {
	t.Helper()
	c, err := txcloud.New(providers.Config{
		BaseURL: baseURL, Environment: providers.EnvSandbox,
		Credentials: map[string][]byte{txcloud.KeyAPIKey: []byte(key)},
		HTTPClient:  &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c.(*txcloud.Client)
}

// serve runs a one-off vendor that answers every call with handler.
func serve(t *testing.T, handler http.HandlerFunc) *txcloud.Client {
	t.Helper()
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	return newClient(t, ts.URL+"/v1", sim.TestAPIKey)
}

func wantKind(t *testing.T, err error, kind providers.ErrorKind) {
	t.Helper()
	if got := providers.KindOf(err); got != kind || err == nil {
		t.Fatalf("error %v: kind %q, want %q", err, got, kind)
	}
	assertNoPII(t, err)
	for _, secret := range []string{sim.TestAPIKey, sim.LiveAPIKey, secretPart} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error reveals a key: %v", err)
		}
	}
}

// secretPart is the secret part of every made-up key in these tests.
const secretPart = "s3cr3tPART"

var ctx = context.Background()

func TestVendor(t *testing.T) {
	v := txcloud.Vendor()
	if v.Name != "txcloud" || v.BaseURLs["sandbox"] != "https://sandbox.api.txcloud.io/v1" || v.BaseURLs["production"] != "https://api.txcloud.io/v1" {
		t.Errorf("vendor %+v", v)
	}
	if v.RateLimit != (providers.RateLimit{RequestsPerSecond: 1, Burst: 5, MaxInFlight: 10}) {
		t.Errorf("rate limit %+v", v.RateLimit)
	}
	for _, st := range sim.Statuses {
		if got, want := v.Capabilities.Allows(providers.ActionCancel, st), st == sim.StatePending; got != want {
			t.Errorf("cancel from %s allowed=%v", st, got)
		}
	}
	if v.Capabilities.CanceledReadsAs != "expired" {
		t.Errorf("CanceledReadsAs %q, want expired", v.Capabilities.CanceledReadsAs)
	}
	if v.Capabilities.Supports(providers.ActionClose) || v.Capabilities.Supports(providers.ActionReverify) {
		t.Errorf("txcloud can only cancel: %s", v.Capabilities.Describe())
	}
}

func TestValidateCredentials(t *testing.T) {
	cases := []struct {
		name, env string
		data      map[string][]byte
		wantErr   string
	}{
		{"sandbox key", "sandbox", key("txc_test_" + secretPart), ""},
		{"live key", "production", key("txc_live_" + secretPart), ""},
		{"missing", "sandbox", map[string][]byte{}, `"apiKey" is missing`},
		{"empty", "sandbox", key(""), "empty"},
		{"live key in sandbox", "sandbox", key("txc_live_" + secretPart), "production key"},
		{"test key in production", "production", key("txc_test_" + secretPart), "sandbox key"},
		{"not a txcloud key", "sandbox", key("sk_test_" + secretPart), "txc_test_"},
		{"prefix only", "sandbox", key("txc_test_"), "nothing after"},
		{"trailing newline", "sandbox", key("txc_test_" + secretPart + "\n"), "newline"},
		{"unknown environment", "staging", key("txc_test_" + secretPart), "staging"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := txcloud.ValidateCredentials(c.env, c.data)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), secretPart) {
				t.Errorf("error reveals the secret: %v", err)
			}
		})
	}
}

func key(v string) map[string][]byte { return map[string][]byte{txcloud.KeyAPIKey: []byte(v)} }

func TestConnectRefusesUnusableCredentialsWithoutACall(t *testing.T) {
	var calls atomic.Int32
	ts := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer ts.Close()
	for _, k := range []string{"txc_live_" + secretPart, "", "txc_test_", "txc_test_" + secretPart + " "} {
		c, err := txcloud.Vendor().Connect(providers.Config{BaseURL: ts.URL + "/v1", Environment: "sandbox", Credentials: key(k), HTTPClient: ts.Client()})
		if c != nil {
			t.Errorf("key %q: got a client", k)
		}
		wantKind(t, err, providers.KindUnauthorized)
	}
	if calls.Load() != 0 {
		t.Errorf("%d calls made with unusable credentials", calls.Load())
	}
}

func TestNewDefaultsToTheEnvironmentsURL(t *testing.T) {
	// No network: the context is already canceled, so Do fails before dialing
	// and the error says so; what matters is that New accepted a config
	// without BaseURL or HTTPClient.
	c, err := txcloud.New(providers.Config{Environment: "production", Credentials: key("txc_live_abc123")})
	if err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Observe(cctx, "ver_a1b2c3d4e5f6")
	wantKind(t, err, providers.KindTransient)
}

func TestObserveEveryStatus(t *testing.T) {
	want := map[string]providers.State{
		"pending": providers.StateActive, "review": providers.StateActive,
		"verified": providers.StateCompleted, "rejected": providers.StateFailed,
		"expired": providers.StateExpired, "error": providers.StateFailed,
		// The status reference's words beside the seed's: failed is over
		// (never polled again), manual_review is not.
		"manual_review": providers.StateActive, "failed": providers.StateFailed,
		"cancelled": providers.StateCanceled,
	}
	s, c := setup(t)
	for _, status := range sim.Statuses {
		t.Run(status, func(t *testing.T) {
			id, _ := s.CreateOrder(status)
			obs, err := c.Observe(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if obs.ID != id || obs.VendorState != status || obs.State != want[status] || obs.CompletedAt != nil || len(obs.Requests) != 0 {
				t.Errorf("observation %+v, want state %s", obs, want[status])
			}
			assertNoPII(t, obs)
		})
	}
}

func TestNormalizeUnknownWordIsActive(t *testing.T) {
	if got := txcloud.Normalize("on_hold"); got != providers.StateActive {
		t.Errorf("unknown word normalized to %q", got)
	}
}

func TestCancelFromEveryStatus(t *testing.T) {
	cases := []struct {
		from      string
		wantErr   providers.ErrorKind
		wantAfter string
	}{
		{"pending", "", "expired"},
		// Already expired reads like a cancel whose response was lost:
		// 409, then Settle finds expired and reports canceled.
		{"expired", "", "expired"},
		{"review", providers.KindRejected, "review"},
		{"verified", providers.KindRejected, "verified"},
		{"rejected", providers.KindRejected, "rejected"},
		{"error", providers.KindRejected, "error"},
	}
	s, c := setup(t)
	for _, tc := range cases {
		t.Run(tc.from, func(t *testing.T) {
			id, _ := s.CreateOrder(tc.from)
			obs, err := c.Cancel(ctx, id, providers.Cancellation{Reason: "other"})
			if tc.wantErr != "" {
				wantKind(t, err, tc.wantErr)
				var perr *providers.Error
				if !errors.As(err, &perr) || perr.StatusCode != 409 || !strings.Contains(perr.Message, "verification_not_cancelable") || strings.Contains(perr.Message, "req_") {
					t.Errorf("error %+v: want 409 with the vendor's code and no request id", perr)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if obs.ID != id || obs.State != providers.StateCanceled || obs.VendorState != sim.StateExpired {
				t.Errorf("observation %+v, want canceled (vendor word expired)", obs)
			}
			assertNoPII(t, obs)
			if got, _ := s.OrderState(id); got != tc.wantAfter {
				t.Errorf("vendor state %s, want %s", got, tc.wantAfter)
			}
			if n := s.CountCalls(id, http.MethodPost); n != 1 {
				t.Errorf("%d cancel calls, want 1", n)
			}
		})
	}
}

func TestCancelRepeatAfterLostResponse(t *testing.T) {
	s, c := setup(t)
	id, _ := s.CreateOrder(sim.StatePending)
	s.SetFaults(simkit.Faults{DropAfterCommit: 1})
	_, err := c.Cancel(ctx, id, providers.Cancellation{})
	wantKind(t, err, providers.KindTransient)
	s.SetFaults(simkit.Faults{})

	obs, err := c.Cancel(ctx, id, providers.Cancellation{})
	if err != nil {
		t.Fatalf("retry: %v", err)
	}
	if obs.State != providers.StateCanceled || obs.VendorState != sim.StateExpired {
		t.Errorf("retry observed %+v", obs)
	}
	var applied, refused int
	for _, call := range s.Calls(id) {
		if call.Method == http.MethodPost && call.Status == 200 {
			applied++
		}
		if call.Method == http.MethodPost && call.Status == 409 {
			refused++
		}
	}
	if applied != 1 || refused != 1 {
		t.Errorf("calls %+v: want the cancel applied once and refused once", s.Calls(id))
	}
}

func TestWrongAndRotatedKeys(t *testing.T) {
	s := sim.New()
	ts := httptest.NewServer(s)
	defer ts.Close()
	id, _ := s.CreateOrder(sim.StatePending)

	_, err := newClient(t, ts.URL+sim.BasePath, "txc_test_"+secretPart).Observe(ctx, id)
	wantKind(t, err, providers.KindUnauthorized)

	const rotated = "txc_test_rotated_5678"
	s.AddAPIKey(rotated)
	s.RevokeAPIKey(sim.TestAPIKey)
	_, err = newClient(t, ts.URL+sim.BasePath, sim.TestAPIKey).Observe(ctx, id)
	wantKind(t, err, providers.KindUnauthorized)
	if _, err := newClient(t, ts.URL+sim.BasePath, rotated).Observe(ctx, id); err != nil {
		t.Errorf("rotated key: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	_, c := setup(t)
	_, err := c.Observe(ctx, "ver_000000000000")
	wantKind(t, err, providers.KindNotFound)
	_, err = c.Cancel(ctx, "ver_000000000000", providers.Cancellation{})
	wantKind(t, err, providers.KindNotFound)
}

func TestEmptyIDIsRefusedWithoutACall(t *testing.T) {
	s, c := setup(t)
	_, err := c.Observe(ctx, "")
	wantKind(t, err, providers.KindRejected)
	if len(s.Stats()) != 0 {
		t.Errorf("calls made: %+v", s.Stats())
	}
}

func TestRateLimited(t *testing.T) {
	t.Run("simulator budget", func(t *testing.T) {
		s, c := setup(t)
		id, _ := s.CreateOrder(sim.StatePending)
		var err error
		for i := 0; i <= sim.RequestsPerMinute && err == nil; i++ {
			_, err = c.Observe(ctx, id)
		}
		wantKind(t, err, providers.KindRateLimited)
		if ra := providers.RetryAfterOf(err); ra < time.Second {
			t.Errorf("RetryAfter %v", ra)
		}
	})
	t.Run("injected with Retry-After", func(t *testing.T) {
		s, c := setup(t)
		id, _ := s.CreateOrder(sim.StatePending)
		s.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}, RetryAfterSeconds: 7})
		_, err := c.Observe(ctx, id)
		wantKind(t, err, providers.KindRateLimited)
		if ra := providers.RetryAfterOf(err); ra != 7*time.Second {
			t.Errorf("RetryAfter %v, want 7s", ra)
		}
	})
	t.Run("injected without Retry-After", func(t *testing.T) {
		s, c := setup(t)
		id, _ := s.CreateOrder(sim.StatePending)
		s.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}})
		_, err := c.Observe(ctx, id)
		wantKind(t, err, providers.KindRateLimited)
		if ra := providers.RetryAfterOf(err); ra != 0 {
			t.Errorf("RetryAfter %v, want 0", ra)
		}
	})
	bodyOnly := []struct{ name, body string }{
		{"retry_after in the error object", `{"error":{"code":"rate_limit_exceeded","message":"Slow down","type":"rate_limit_error","param":null,"request_id":"req_1","retry_after":30}}`},
		{"retry_after at the top level", `{"error":{"code":"rate_limit_exceeded","message":"Slow down","type":"rate_limit_error"},"retry_after":30}`},
		{"retry_after as a string", `{"error":{"message":"Slow down","retry_after":"30"}}`},
	}
	for _, b := range bodyOnly {
		t.Run(b.name, func(t *testing.T) {
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(http.StatusTooManyRequests)
				fmt.Fprint(w, b.body)
			})
			_, err := c.Observe(ctx, "ver_a1b2c3d4e5f6")
			wantKind(t, err, providers.KindRateLimited)
			if ra := providers.RetryAfterOf(err); ra != 30*time.Second {
				t.Errorf("RetryAfter %v, want 30s from the body", ra)
			}
			if !strings.Contains(err.Error(), "Slow down") {
				t.Errorf("message lost: %v", err)
			}
		})
	}
}

func TestServerErrorsAreTransient(t *testing.T) {
	for _, status := range []int{500, 502, 503} {
		s, c := setup(t)
		id, _ := s.CreateOrder(sim.StatePending)
		s.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}})
		_, err := c.Cancel(ctx, id, providers.Cancellation{})
		wantKind(t, err, providers.KindTransient)
		if st, _ := s.OrderState(id); st != sim.StatePending {
			t.Errorf("%d: a failed cancel moved the verification to %s", status, st)
		}
	}
}

func TestUnreadableResponses(t *testing.T) {
	cases := []struct {
		name, contentType string
		status            int
		body              string
		wantMsg           string
	}{
		{"malformed JSON", "application/json", 200, `{"id": "ver_1", "status": `, "malformed JSON"},
		{"HTML error page", "text/html", 502, "<html><body>Bad Gateway</body></html>", "HTML"},
		{"HTML with 200", "text/html", 200, "<html><body>Sign in</body></html>", "HTML"},
		{"too large", "application/json", 200, `{"id":"ver_1","status":"pending","pad":"` + strings.Repeat("x", vendorhttp.MaxResponseBytes) + `"}`, "larger than"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			})
			_, err := c.Observe(ctx, "ver_a1b2c3d4e5f6")
			wantKind(t, err, providers.KindTransient)
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error %q does not say %q", err, tc.wantMsg)
			}
		})
	}
}

// The seed's own example (which omits status) decodes to the id, an empty
// vendor word treated as active, and, for cancel, canceled.
func TestSeedExample(t *testing.T) {
	seed, err := os.ReadFile("testdata/cancel-verification.json")
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	canceled := false
	c := serve(t, func(w http.ResponseWriter, r *http.Request) {
		paths = append(paths, r.Method+" "+r.URL.Path)
		if r.Header.Get("Authorization") != "Bearer "+sim.TestAPIKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodPost:
			canceled = true
			_, _ = w.Write(seed) // the documented answer: no status
		case canceled:
			_, _ = w.Write([]byte(`{"id":"ver_a1b2c3d4e5f6","object":"identity.verification","status":"expired"}`))
		default:
			_, _ = w.Write(seed)
		}
	})
	// Read, the documented body (no status) is an error, not a pending
	// verification.
	if _, err := c.Observe(ctx, "ver_a1b2c3d4e5f6"); providers.KindOf(err) != providers.KindTransient {
		t.Fatalf("observe: %v, want a transient error", err)
	}
	// Answering a cancel, it makes the client read the verification.
	obs, err := c.Cancel(ctx, "ver_a1b2c3d4e5f6", providers.Cancellation{})
	if err != nil {
		t.Fatal(err)
	}
	if obs.ID != "ver_a1b2c3d4e5f6" || obs.State != providers.StateCanceled || obs.VendorState != "expired" {
		t.Errorf("cancel: %+v", obs)
	}
	assertNoPII(t, obs)
	want := []string{"GET /v1/identity/verifications/ver_a1b2c3d4e5f6", "POST /v1/identity/verifications/ver_a1b2c3d4e5f6/cancel", "GET /v1/identity/verifications/ver_a1b2c3d4e5f6"}
	if fmt.Sprint(paths) != fmt.Sprint(want) {
		t.Errorf("paths %v, want %v", paths, want)
	}
}

// txcloud's daily quota answers 429 with a Retry-After of hours (until the
// next UTC midnight). The client keeps that wait whole, as a rate limit
// (never a transient failure to retry with a short backoff), for reads and
// cancels alike, and a refused cancel changes nothing.
func TestDailyQuotaRetryAfterIsKept(t *testing.T) {
	t.Run("simulator", func(t *testing.T) {
		s, c := setup(t)
		id, _ := s.CreateOrder(sim.StatePending)
		// Start of a UTC day, then spend the Free plan's day in whole
		// minutes, in-process.
		now := s.Clock.Now().UTC()
		s.Clock.Advance(time.Date(now.Year(), now.Month(), now.Day()+1, 0, 1, 0, 0, time.UTC).Sub(now))
		for i := range sim.PlanFree.PerDay {
			if i > 0 && i%sim.PlanFree.PerMinute == 0 {
				s.Clock.Advance(time.Minute)
			}
			req := httptest.NewRequest(http.MethodGet, sim.BasePath+"/identity/verifications/ver_000000000000", nil)
			req.Header.Set("Authorization", "Bearer "+sim.TestAPIKey)
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("call %d: HTTP %d", i+1, rec.Code)
			}
		}
		// Ten hours before the next UTC midnight.
		now = s.Clock.Now().UTC()
		s.Clock.Advance(time.Date(now.Year(), now.Month(), now.Day(), 14, 0, 0, 0, time.UTC).Sub(now))

		lastRetryAfter := func() time.Duration {
			tl := s.Timeline()
			return tl[len(tl)-1].RetryAfter
		}
		_, err := c.Observe(ctx, id)
		wantKind(t, err, providers.KindRateLimited)
		sent := lastRetryAfter()
		if sent < 9*time.Hour || sent > 10*time.Hour {
			t.Fatalf("the simulator sent Retry-After %v, want about 10h", sent)
		}
		if got := providers.RetryAfterOf(err); got != sent {
			t.Errorf("RetryAfter %v, want the %v the vendor sent", got, sent)
		}
		_, err = c.Cancel(ctx, id, providers.Cancellation{})
		wantKind(t, err, providers.KindRateLimited)
		if got := providers.RetryAfterOf(err); got != lastRetryAfter() {
			t.Errorf("cancel: RetryAfter %v, want %v", got, lastRetryAfter())
		}
		if st, _ := s.OrderState(id); st != sim.StatePending {
			t.Errorf("a refused cancel left the verification %s", st)
		}
		if n := s.CountCalls(id, http.MethodPost); n != 1 {
			t.Errorf("%d cancel calls, want 1 (no retry on the spot)", n)
		}
	})
	t.Run("header and body", func(t *testing.T) {
		const longWait = 10 * time.Hour
		for _, tc := range []struct{ name, header, body string }{
			{"header", "36000", `{"error":{"code":"rate_limit_exceeded","message":"Daily request limit exceeded","type":"rate_limit_error"}}`},
			{"body", "", `{"error":{"code":"rate_limit_exceeded","message":"Daily request limit exceeded","type":"rate_limit_error","retry_after":36000}}`},
			{"both", "36000", `{"error":{"code":"rate_limit_exceeded","message":"Daily request limit exceeded","type":"rate_limit_error","retry_after":36000}}`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var calls atomic.Int32
				c := serve(t, func(w http.ResponseWriter, _ *http.Request) {
					calls.Add(1)
					if tc.header != "" {
						w.Header().Set("Retry-After", tc.header)
					}
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, tc.body)
				})
				_, err := c.Observe(ctx, "ver_a1b2c3d4e5f6")
				wantKind(t, err, providers.KindRateLimited)
				if ra := providers.RetryAfterOf(err); ra != longWait {
					t.Errorf("RetryAfter %v, want %v", ra, longWait)
				}
				if n := calls.Load(); n != 1 {
					t.Errorf("%d calls, want 1", n)
				}
			})
		}
	})
}
