package truework_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

func TestCredentialsRefusedByVendor(t *testing.T) {
	sim, srv := startSim(t)
	orderID := createOrder(t, sim, "processing")

	unknown := newClient(t, srv.URL, "tw_sk_test_00000000000000000000000000000000")
	_, err := unknown.Observe(ctx, orderID)
	wantKind(t, err, providers.KindUnauthorized)
	assertClean(t, err)

	// A rotated key works once the vendor knows it; the revoked one stops.
	const rotated = "tw_sk_test_rotated0000000000000000000000000"
	sim.AddCredentials(rotated)
	if _, err := newClient(t, srv.URL, rotated).Observe(ctx, orderID); err != nil {
		t.Fatalf("rotated key: %v", err)
	}
	sim.RevokeCredentials(twsim.TestAPIKey)
	_, err = newClient(t, srv.URL, twsim.TestAPIKey).Observe(ctx, orderID)
	wantKind(t, err, providers.KindUnauthorized)
	if !strings.Contains(err.Error(), "Invalid token") {
		t.Errorf("error = %v, want the vendor's message", err)
	}
}

func TestNotFound(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		_, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
		for name, call := range map[string]func() error{
			"observe order":   func() error { _, err := c.Observe(ctx, "AAAAAAAAmissing"); return err },
			"cancel order":    func() error { _, err := c.Cancel(ctx, "AAAAAAAAmissing", providers.Cancellation{}); return err },
			"observe request": func() error { _, err := c.Reverified().Observe(ctx, "AAAAAAAAmissing"); return err },
			"cancel request": func() error {
				_, err := c.Reverified().Cancel(ctx, "AAAAAAAAmissing", providers.Cancellation{})
				return err
			},
			"reverify": func() error { _, err := c.Reverify(ctx, "AAAAAAAAmissing", "AAAAAAAAmissing"); return err },
			// Escaped, so it stays one path segment and cannot reach another route.
			"path traversal": func() error { _, err := c.Observe(ctx, "../orders/x"); return err },
		} {
			t.Run(name, func(t *testing.T) {
				wantKind(t, call(), providers.KindNotFound)
			})
		}
	})
}

// Truework documents an unknown order on cancel as "400 Bad Request or
// Order not found": such a 400 is not found, not a refusal that settles.
func TestCancelAnswered400NotFound(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		for _, tc := range []struct {
			message  string
			wantKind providers.ErrorKind
		}{
			{"Order not found.", providers.KindNotFound},
			{"Verification request not found", providers.KindNotFound},
			{"Bad Request", providers.KindRejected},
		} {
			var reads atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					reads.Add(1) // Settle reading the order back
					http.NotFound(w, r)
					return
				}
				w.WriteHeader(http.StatusBadRequest)
				_, _ = fmt.Fprintf(w, `{"error":{"message":%q}}`, tc.message)
			}))
			_, err := a.client(t, srv.URL, nil).Cancel(ctx, "AAAAAAAAmissing", providers.Cancellation{})
			srv.Close()
			perr := wantKind(t, err, tc.wantKind)
			if perr.StatusCode != http.StatusBadRequest || perr.Message != tc.message {
				t.Errorf("%q: error = %#v", tc.message, perr)
			}
			if got := reads.Load(); (got == 0) != (tc.wantKind == providers.KindNotFound) {
				t.Errorf("%q: %d reads after the cancel; only a refusal is settled by one", tc.message, got)
			}
		}
	})
}

func TestFrozenSSNIsLegalHold(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
		orderID := createOrder(t, sim, "completed")
		requestID := onlyRequest(t, sim, orderID)
		if err := sim.Freeze(orderID); err != nil {
			t.Fatal(err)
		}
		_, err := c.Observe(ctx, a.managed(t, sim, orderID))
		wantKind(t, err, providers.KindLegalHold)
		_, err = c.Cancel(ctx, a.managed(t, sim, orderID), providers.Cancellation{})
		wantKind(t, err, providers.KindLegalHold)
		_, err = c.Reverified().Observe(ctx, requestID)
		wantKind(t, err, providers.KindLegalHold)
		_, err = c.Reverify(ctx, requestID, sim.ReportID(requestID))
		wantKind(t, err, providers.KindLegalHold)
		if got, _ := sim.OrderState(orderID); got != "completed" || len(sim.Reverifications(requestID)) != 0 {
			t.Errorf("frozen order moved to %s", got)
		}
	})
}

// The simulator's own limiter (10 requests/s per key), not an injected
// fault: a 429 with Retry-After.
func TestRateLimited(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		t.Run("vendor limit sends Retry-After", func(t *testing.T) {
			sim, srv := startSim(t)
			c := a.client(t, srv.URL, nil)
			id := a.managed(t, sim, createOrder(t, sim, "processing"))
			var limited error
			for i := 0; i < 4*twsim.RateLimit && limited == nil; i++ {
				if _, err := c.Observe(ctx, id); err != nil {
					limited = err
				}
			}
			wantKind(t, limited, providers.KindRateLimited)
			if got := providers.RetryAfterOf(limited); got != time.Second {
				t.Errorf("RetryAfter = %v, want 1s", got)
			}
		})
		t.Run("without Retry-After", func(t *testing.T) {
			sim, srv := startSim(t)
			c := a.client(t, srv.URL, nil)
			id := a.managed(t, sim, createOrder(t, sim, "processing"))
			sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusTooManyRequests}})
			_, err := c.Observe(ctx, id)
			wantKind(t, err, providers.KindRateLimited)
			if got := providers.RetryAfterOf(err); got != 0 {
				t.Errorf("RetryAfter = %v, want 0", got)
			}
		})
	})
}

func TestServerErrorsAreTransient(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable} {
		sim, srv := startSim(t)
		c := newClient(t, srv.URL, twsim.TestAPIKey)
		orderID := createOrder(t, sim, "processing")
		sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}, RetryAfterSeconds: 3})
		_, err := c.Cancel(ctx, orderID, providers.Cancellation{})
		wantKind(t, err, providers.KindTransient)
		if status == http.StatusServiceUnavailable && providers.RetryAfterOf(err) != 3*time.Second {
			t.Errorf("503 RetryAfter = %v", providers.RetryAfterOf(err))
		}
		if got, _ := sim.OrderState(orderID); got != "processing" {
			t.Errorf("order moved to %s on a fault", got)
		}
	}
}

// Responses that are not Truework's JSON become clear transient errors.
func TestUnreadableResponses(t *testing.T) {
	big := `{"id":"x","verification_requests":[],"pad":"` + strings.Repeat("a", vendorhttp.MaxResponseBytes) + `"}`
	cases := []struct {
		name, contentType, body string
		status                  int
		wantKind                providers.ErrorKind
		wantMsg                 string
	}{
		{"malformed JSON", "application/json", `{"id": "x", "verification_requests": [`, 200, providers.KindTransient, "malformed JSON"},
		{"HTML with 200", "text/html", "<html><body>Maintenance</body></html>", 200, providers.KindTransient, "HTML"},
		{"HTML error page", "text/html", "<html><body>502 Bad Gateway</body></html>", 502, providers.KindTransient, "HTML"},
		{"too large", "application/json", big, 200, providers.KindTransient, "larger than"},
		{"state of the wrong type", "application/json", `{"id":"x","verification_requests":[{"id":"r","state":42}]}`, 200, providers.KindTransient, "malformed JSON"},
		{"order without requests", "application/json", `{"id":"x","verification_requests":[]}`, 200, providers.KindTransient, "without verification requests"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, twsim.TestAPIKey).Observe(ctx, "x")
			wantKind(t, err, tc.wantKind)
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("error = %v, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

// Every call carries the secret key, the provider's API version (the
// current one by default) and asks for an uncompressed body, whose bytes
// the signature covers.
func TestRequestHeaders(t *testing.T) {
	for _, version := range append([]string{""}, truework.APIVersions...) {
		var got http.Header
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Clone()
			http.NotFound(w, r)
		}))
		_, _ = newClientWith(t, providers.Config{BaseURL: srv.URL, APIVersion: version,
			Credentials: map[string][]byte{truework.CredentialKey: []byte(twsim.TestAPIKey)}}).Observe(ctx, "x")
		srv.Close()
		want := version
		if want == "" {
			want = "2023-10-30"
		}
		if got.Get("Authorization") != "Bearer "+twsim.TestAPIKey {
			t.Errorf("%q: Authorization header not the bearer key", version)
		}
		if got.Get("Accept") != "application/json; version="+want {
			t.Errorf("%q: Accept = %q", version, got.Get("Accept"))
		}
		if got.Get("Accept-Encoding") != "identity" {
			t.Errorf("%q: Accept-Encoding = %q", version, got.Get("Accept-Encoding"))
		}
	}
}

// An empty id is refused before any call: sent, it would name the
// collection.
func TestEmptyIDIsRefused(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
		for name, call := range map[string]func() error{
			"observe":          func() error { _, err := c.Observe(ctx, ""); return err },
			"cancel":           func() error { _, err := c.Cancel(ctx, "", providers.Cancellation{}); return err },
			"observe request":  func() error { _, err := c.Reverified().Observe(ctx, ""); return err },
			"cancel request":   func() error { _, err := c.Reverified().Cancel(ctx, "", providers.Cancellation{}); return err },
			"reverify, report": func() error { _, err := c.Reverify(ctx, "AAAAAAAAsource", ""); return err },
		} {
			if err := call(); providers.KindOf(err) != providers.KindRejected || !strings.Contains(err.Error(), "empty") {
				t.Errorf("%s: %v", name, err)
			}
		}
		if stats := sim.Stats(); len(stats) != 0 {
			t.Errorf("calls reached Truework: %+v", stats)
		}
	})
}
