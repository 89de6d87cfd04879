package vendorhttp_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// listen returns a context whose Throttle appends the waits it hears to
// *waits: Do calls it on the caller's goroutine.
func listen(ctx context.Context) (context.Context, *[]time.Duration) {
	waits := &[]time.Duration{}
	return providers.WithThrottle(ctx, func(w time.Duration) { *waits = append(*waits, w) }), waits
}

// last is the last wait heard, 0 for none: the longest, as Do reports a
// body's longer hint after the header's wait.
func last(waits *[]time.Duration) time.Duration {
	if len(*waits) == 0 {
		return 0
	}
	return (*waits)[len(*waits)-1]
}

// TestRetryAfterIsReportedOnEveryStatus: whatever the status that carries
// a Retry-After, the Throttle on the context hears it; an answer without
// one reports nothing.
func TestRetryAfterIsReportedOnEveryStatus(t *testing.T) {
	for _, status := range []int{429, 503, 500, 502, 409, 200} {
		for _, header := range []string{"7", ""} {
			t.Run(fmt.Sprintf("%d Retry-After %q", status, header), func(t *testing.T) {
				h := http.Header{"Content-Type": {"application/json"}}
				if header != "" {
					h.Set("Retry-After", header)
				}
				cl := serve(t, reply(status, h, `{}`))
				ctx, waits := listen(context.Background())
				_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
				want := time.Duration(0)
				if header != "" {
					want = 7 * time.Second
				}
				if want == 0 && len(*waits) != 0 || want != 0 && (len(*waits) != 1 || (*waits)[0] != want) {
					t.Errorf("the throttle heard %v, want %v", *waits, want)
				}
				if status >= 300 && providers.RetryAfterOf(err) != want {
					t.Errorf("the error carries %v, want %v", providers.RetryAfterOf(err), want)
				}
			})
		}
	}
}

// TestRetryAfterIsReportedWhenTheContextEndsDuringTheBody: the reconcile's
// deadline ends the call's context right as the vendor's answer arrives:
// the status line and headers are in, the body is not. The wait is known,
// so it is reported, and the error carries it, although the body never
// comes.
func TestRetryAfterIsReportedWhenTheContextEndsDuringTheBody(t *testing.T) {
	for _, status := range []int{429, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			release := make(chan struct{})
			defer close(release)
			cl := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "9")
				w.Header().Set("Content-Length", "100")
				w.WriteHeader(status)
				_, _ = w.Write([]byte(`{"error":`))
				w.(http.Flusher).Flush()
				select { // the rest of the body never comes
				case <-release:
				case <-r.Context().Done():
				}
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			cl.HTTP.Transport = cancelOnHeaders{next: cl.HTTP.Transport, cancel: cancel}
			listening, waits := listen(ctx)
			_, err := cl.Do(listening, vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
			if ctx.Err() == nil {
				t.Fatal("the context did not end during the call")
			}
			if last(waits) != 9*time.Second {
				t.Errorf("the throttle heard %v, want 9s", *waits)
			}
			if perr := providerError(t, err); perr.RetryAfter != 9*time.Second || perr.Kind != providers.KindTransient {
				t.Errorf("error %v (Retry-After %v), want Transient carrying 9s", perr, perr.RetryAfter)
			}
		})
	}
}

// cancelOnHeaders ends the call's context as soon as the answer's status
// line and headers are in, before anyone reads its body.
type cancelOnHeaders struct {
	next   http.RoundTripper
	cancel context.CancelFunc
}

func (c cancelOnHeaders) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	c.cancel()
	return resp, err
}

// TestRetryAfterIsCapped: a wait beyond MaxRetryAfter, in the header of a
// 429 or a 503 or in a vendor's body hint, is heard and carried as
// MaxRetryAfter, never as none or as a wrapped-around negative.
func TestRetryAfterIsCapped(t *testing.T) {
	type answer struct {
		status int
		header string        // the Retry-After header
		hint   time.Duration // the body's
	}
	for _, c := range []answer{
		{status: 429, header: "99999999999"},
		{status: 503, header: "99999999999"},
		{status: 500, header: "99999999999999999999999"}, // overflows an int64
		{status: 429, header: "1", hint: 2 * vendorhttp.MaxRetryAfter},
	} {
		t.Run(fmt.Sprintf("%d %s %v", c.status, c.header, c.hint), func(t *testing.T) {
			cl := serve(t, reply(c.status, http.Header{"Retry-After": {c.header}, "Content-Type": {"application/json"}}, `{}`))
			cl.DecodeError = func(int, []byte) (string, time.Duration) { return "slow down", c.hint }
			ctx, waits := listen(context.Background())
			_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
			if last(waits) != vendorhttp.MaxRetryAfter || slices.Max(*waits) != vendorhttp.MaxRetryAfter {
				t.Errorf("the throttle heard %v, want at most and at last %v", *waits, vendorhttp.MaxRetryAfter)
			}
			if ra := providers.RetryAfterOf(err); ra != vendorhttp.MaxRetryAfter {
				t.Errorf("the error carries %v, want %v", ra, vendorhttp.MaxRetryAfter)
			}
		})
	}
}

// TestALongerBodyHintIsReportedToo: txcloud's 429 body may ask for longer
// than its header; the throttle hears the header's wait at once, then the
// longer one once the body is read.
func TestALongerBodyHintIsReportedToo(t *testing.T) {
	cl := serve(t, reply(429, http.Header{"Retry-After": {"1"}, "Content-Type": {"application/json"}}, `{}`))
	cl.DecodeError = func(int, []byte) (string, time.Duration) { return "slow down", 7 * time.Second }
	ctx, waits := listen(context.Background())
	_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
	if !slices.Equal(*waits, []time.Duration{time.Second, 7 * time.Second}) {
		t.Errorf("the throttle heard %v, want [1s 7s]", *waits)
	}
	if ra := providers.RetryAfterOf(err); ra != 7*time.Second {
		t.Errorf("the error carries %v, want 7s", ra)
	}
}

// TestNoCallWithinAHold: under a providers.Hold, the call after an answer
// that asked to wait is not sent until the wait is over (on the Hold's
// clock, which only the test moves).
func TestNoCallWithinAHold(t *testing.T) {
	var calls atomic.Int32
	cl := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "30")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ctx, _ := providers.WithHold(context.Background(), func() time.Time { return now })
	if _, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/page/1"}, nil); providers.RetryAfterOf(err) != 30*time.Second {
		t.Fatalf("first call: %v, want a 503 carrying 30s", err)
	}
	now = now.Add(29 * time.Second)
	_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/page/2"}, nil)
	if perr := providerError(t, err); perr.Kind != providers.KindRateLimited || !perr.NotSent || perr.RetryAfter != time.Second || calls.Load() != 1 {
		t.Errorf("a call within the wait: %v (%v left, not sent: %v) after %d calls; want RateLimited, not sent, 1s left, 1 call",
			perr, perr.RetryAfter, perr.NotSent, calls.Load())
	}
	now = now.Add(time.Second)
	if _, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/page/2"}, nil); err != nil || calls.Load() != 2 {
		t.Errorf("a call after the wait: %v after %d calls; want it sent", err, calls.Load())
	}
}
