package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// checkRetryAfterHeard: a vendor's Retry-After, on a 429 or a 503, reaches
// the providers.Throttle on the call's context (the controller's account
// pause) from every call a client makes, reads and actions alike; the error
// carries the same wait; and an operation of several calls makes no call
// after the one that was told to wait.
func checkRetryAfterHeard(t *testing.T, a Adapter) {
	const seconds = 7
	calls := map[string]func(ctx context.Context, c providers.Client, sim Sim, id string) (providers.Observation, error){
		"Observe": func(ctx context.Context, c providers.Client, _ Sim, id string) (providers.Observation, error) {
			return c.Observe(ctx, id)
		},
	}
	for _, act := range a.Actions {
		calls[string(act.Name)] = act.Invoke
	}
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		for name, call := range calls {
			t.Run(fmt.Sprintf("%d/%s", status, name), func(t *testing.T) {
				e := start(t, a)
				id := e.create(t, firstState(a))
				e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}, RetryAfterSeconds: seconds})
				before := len(e.sim.Timeline())
				var heard []time.Duration // the client calls the throttle on this goroutine
				obs, err := call(providers.WithThrottle(t.Context(), func(w time.Duration) { heard = append(heard, w) }), e.client, e.sim, id)
				e.assertClean(t, obs, err)
				want := seconds * time.Second
				if len(heard) == 0 || slices.Max(heard) != want {
					t.Errorf("the throttle heard %v, want %v", heard, want)
				}
				if got := providers.RetryAfterOf(err); !carries(err, want) {
					t.Errorf("error %v carries %v, want %v", err, got, want)
				}
				if n := len(e.sim.Timeline()) - before; n != 1 {
					t.Errorf("%d calls reached the vendor, want 1: none after the answer that asked to wait", n)
				}
			})
		}
	}
}

// carries: err carries the vendor's wait; the error of a call the
// operation held back (NotSent) carries what is left of it, on the wall
// clock, so a little less.
func carries(err error, want time.Duration) bool {
	got := providers.RetryAfterOf(err)
	var perr *providers.Error
	if errors.As(err, &perr) && perr.NotSent {
		return got <= want && got > want-time.Second
	}
	return got == want
}
