package vendorhttp

import (
	"fmt"
	"net/http"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/verification-operator/providers"
)

// MaxThrottleWait is the longest a worker waits for a token before giving
// the slot back and asking to be requeued instead.
const MaxThrottleWait = 2 * time.Second

// Throttled returns a transport that takes a token from lim before each
// request. All clients of one VerificationProvider share lim, so all workers
// together stay within the vendor's limit. When the next token is further
// away than maxWait the request is not sent and a KindRateLimited error
// carries the wait as RetryAfter.
func Throttled(next http.RoundTripper, lim *rate.Limiter, maxWait time.Duration) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		r := lim.Reserve()
		delay := r.Delay()
		if !r.OK() || delay > maxWait {
			r.Cancel()
			if !r.OK() { // burst < 1: no token will ever come (Delay is InfDuration)
				delay = MaxThrottleWait
			}
			return nil, &providers.Error{Kind: providers.KindRateLimited, RetryAfter: delay.Round(time.Millisecond) + time.Millisecond,
				Message: fmt.Sprintf("client-side limit of %g requests/s for this provider reached", float64(lim.Limit()))}
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-req.Context().Done():
				t.Stop()
				r.Cancel()
				return nil, req.Context().Err()
			case <-t.C:
			}
		}
		return next.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
