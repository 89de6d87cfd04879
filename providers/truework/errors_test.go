package truework_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
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
	_, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	for name, call := range map[string]func() error{
		"observe order":   func() error { _, err := c.Observe(ctx, "AAAAAAAAmissing"); return err },
		"cancel order":    func() error { _, err := c.Cancel(ctx, "AAAAAAAAmissing", providers.Cancellation{}); return err },
		"observe request": func() error { _, err := c.Reverified().Observe(ctx, "AAAAAAAAmissing"); return err },
		"cancel request": func() error {
			_, err := c.Reverified().Cancel(ctx, "AAAAAAAAmissing", providers.Cancellation{})
			return err
		},
		// Escaped, so it stays one path segment and cannot reach another route.
		"path traversal": func() error { _, err := c.Observe(ctx, "../orders/x"); return err },
	} {
		t.Run(name, func(t *testing.T) { wantKind(t, call(), providers.KindNotFound) })
	}
}

func TestFrozenSSNIsLegalHold(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "processing")
	if err := sim.Freeze(orderID); err != nil {
		t.Fatal(err)
	}
	_, err := c.Observe(ctx, orderID)
	wantKind(t, err, providers.KindLegalHold)
	_, err = c.Cancel(ctx, orderID, providers.Cancellation{})
	wantKind(t, err, providers.KindLegalHold)
	_, err = c.Reverified().Observe(ctx, onlyRequest(t, sim, orderID))
	wantKind(t, err, providers.KindLegalHold)
	if got, _ := sim.OrderState(orderID); got != "processing" {
		t.Errorf("frozen order moved to %s", got)
	}
}

func TestRateLimited(t *testing.T) {
	t.Run("vendor limit sends Retry-After", func(t *testing.T) {
		sim, srv := startSim(t)
		c := newClient(t, srv.URL, twsim.TestAPIKey)
		orderID := createOrder(t, sim, "processing")
		var limited error
		for i := 0; i < 40 && limited == nil; i++ {
			if _, err := c.Observe(ctx, orderID); err != nil {
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
		c := newClient(t, srv.URL, twsim.TestAPIKey)
		orderID := createOrder(t, sim, "processing")
		sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusTooManyRequests}})
		_, err := c.Observe(ctx, orderID)
		wantKind(t, err, providers.KindRateLimited)
		if got := providers.RetryAfterOf(err); got != 0 {
			t.Errorf("RetryAfter = %v, want 0", got)
		}
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

// The request carries the secret key and the pinned version.
func TestRequestHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		http.NotFound(w, r)
	}))
	defer srv.Close()
	_, _ = newClient(t, srv.URL, twsim.TestAPIKey).Observe(ctx, "x")
	if got.Get("Authorization") != "Bearer "+twsim.TestAPIKey {
		t.Errorf("Authorization header not the bearer key")
	}
	if got.Get("Accept") != "application/json; version=2023-10-30" {
		t.Errorf("Accept = %q", got.Get("Accept"))
	}
}
