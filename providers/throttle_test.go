package providers_test

import (
	"context"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// TestThrottledReachesEveryThrottle: a Retry-After reaches the innermost
// Throttle and every one around it; no wait reaches none.
func TestThrottledReachesEveryThrottle(t *testing.T) {
	var outer, inner []time.Duration
	ctx := providers.WithThrottle(context.Background(), func(w time.Duration) { outer = append(outer, w) })
	ctx = providers.WithThrottle(ctx, func(w time.Duration) { inner = append(inner, w) })
	providers.Throttled(ctx, 3*time.Second)
	providers.Throttled(ctx, 0)
	providers.Throttled(ctx, -time.Second)
	if len(outer) != 1 || outer[0] != 3*time.Second || len(inner) != 1 || inner[0] != 3*time.Second {
		t.Errorf("outer heard %v, inner %v; want [3s] each", outer, inner)
	}
	providers.Throttled(context.Background(), time.Second) // no throttle: nothing to do, no panic
}

// TestThrottledUnderAnEndedContext: the wait is reported even when the
// context has ended, which is when a reconcile's deadline meets a 429.
func TestThrottledUnderAnEndedContext(t *testing.T) {
	var heard time.Duration
	ctx, cancel := context.WithCancel(providers.WithThrottle(context.Background(), func(w time.Duration) { heard = w }))
	cancel()
	providers.Throttled(ctx, 5*time.Second)
	if heard != 5*time.Second {
		t.Errorf("heard %v, want 5s", heard)
	}
}

// TestHold: a Hold keeps the longest wait it heard, on its own clock, as
// does a Hold around it; a call under it is refused until then.
func TestHold(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := func() time.Time { return now }
	var controller []time.Duration
	ctx := providers.WithThrottle(context.Background(), func(w time.Duration) { controller = append(controller, w) })
	ctx, outer := providers.WithHold(ctx, clock)
	if err := providers.Held(ctx); err != nil {
		t.Fatalf("a fresh hold holds: %v", err)
	}
	providers.Throttled(ctx, 10*time.Second)
	inner, hold := providers.WithHold(ctx, clock)
	providers.Throttled(inner, 2*time.Second)
	if len(controller) != 2 || !outer.Until().Equal(now.Add(10*time.Second)) || !hold.Until().Equal(now.Add(2*time.Second)) {
		t.Fatalf("controller heard %v, outer holds until %v, inner until %v", controller, outer.Until(), hold.Until())
	}
	now = now.Add(4 * time.Second)
	err := providers.Held(inner) // its own wait is over, the outer one's is not
	if perr, ok := err.(*providers.Error); !ok || perr.Kind != providers.KindRateLimited || !perr.NotSent || perr.RetryAfter != 6*time.Second {
		t.Errorf("Held = %v, want RateLimited, not sent, 6s left", err)
	}
	hold.HoldUntil(now.Add(time.Second)) // shorter than it holds already: no change
	now = now.Add(6 * time.Second)
	if err := providers.Held(inner); err != nil {
		t.Errorf("Held after every wait = %v", err)
	}
}
