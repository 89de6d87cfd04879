package vendorhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// throttled starts a server counting requests and returns a Client whose
// transport is Throttled by lim.
func throttled(t *testing.T, lim *rate.Limiter, maxWait time.Duration) (*vendorhttp.Client, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	hc := &http.Client{Transport: vendorhttp.Throttled(srv.Client().Transport, lim, maxWait)}
	return &vendorhttp.Client{BaseURL: srv.URL, HTTP: hc}, &hits
}

func get(ctx context.Context, cl *vendorhttp.Client) error {
	_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
	return err
}

func TestThrottledRefusesBeyondMaxWait(t *testing.T) {
	lim := rate.NewLimiter(1, 1)
	cl, hits := throttled(t, lim, 10*time.Millisecond)
	if err := get(context.Background(), cl); err != nil {
		t.Fatalf("first request: %v", err)
	}
	// Refused requests cancel their reservation, so however many are
	// refused, the wait they report stays at most one token's worth and
	// the limiter is not pushed into debt.
	for i := range 5 {
		err := get(context.Background(), cl)
		perr := providerError(t, err)
		if perr.Kind != providers.KindRateLimited || perr.StatusCode != 0 {
			t.Fatalf("refusal %d: %v, want RateLimited without a status", i, perr)
		}
		if perr.RetryAfter <= 0 || perr.RetryAfter > time.Second+5*time.Millisecond {
			t.Errorf("refusal %d: RetryAfter = %v, want in (0, ~1s]", i, perr.RetryAfter)
		}
		if tok := lim.Tokens(); tok < -0.1 {
			t.Errorf("refusal %d: limiter has %.2f tokens; a refused request drained it", i, tok)
		}
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

func TestThrottledRoundTripDirect(t *testing.T) {
	lim := rate.NewLimiter(1, 1)
	rt := vendorhttp.Throttled(roundTripper(func(*http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: 204, Body: http.NoBody}, nil
	}), lim, 10*time.Millisecond)
	req, _ := http.NewRequest("GET", "http://vendor.invalid/x", nil)
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatalf("first: %v", err)
	}
	_, err := rt.RoundTrip(req)
	if perr := providerError(t, err); perr.Kind != providers.KindRateLimited || perr.RetryAfter <= 0 {
		t.Errorf("second: %v (RetryAfter %v), want RateLimited with a wait", perr, perr.RetryAfter)
	}
}

func TestThrottledNeverAllowed(t *testing.T) {
	// A burst of 0 can never grant a token: the request is refused with a
	// positive wait, not an overflowed negative one.
	lim := rate.NewLimiter(1, 0)
	cl, hits := throttled(t, lim, time.Second)
	perr := providerError(t, get(context.Background(), cl))
	if perr.Kind != providers.KindRateLimited || perr.RetryAfter <= 0 {
		t.Errorf("got %v with RetryAfter %v, want RateLimited with a positive wait", perr, perr.RetryAfter)
	}
	if hits.Load() != 0 {
		t.Error("request was sent")
	}
}

func TestThrottledWaitsWithinMaxWait(t *testing.T) {
	lim := rate.NewLimiter(10, 1) // a token every 100ms
	cl, hits := throttled(t, lim, time.Second)
	start := time.Now()
	for i := range 3 {
		if err := get(context.Background(), cl); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("3 requests at 10/s with burst 1 took %v; the limiter did not make them wait", el)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("server saw %d requests, want 3", n)
	}
}

func TestThrottledCanceledWhileWaiting(t *testing.T) {
	lim := rate.NewLimiter(1, 1)
	cl, hits := throttled(t, lim, 5*time.Second)
	if err := get(context.Background(), cl); err != nil {
		t.Fatalf("first request: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := get(ctx, cl)
	if el := time.Since(start); el > 500*time.Millisecond {
		t.Errorf("canceled request returned after %v, want promptly", el)
	}
	if perr := providerError(t, err); perr.Kind != providers.KindTransient {
		t.Errorf("canceled: %v, want Transient", perr)
	}
	if tok := lim.Tokens(); tok < -0.1 {
		t.Errorf("limiter has %.2f tokens after a canceled wait; the reservation was kept", tok)
	}
	if n := hits.Load(); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
