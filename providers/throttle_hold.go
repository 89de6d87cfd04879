package providers

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// A Hold keeps an operation of several vendor calls (a cancel and the read
// that settles it, a reverification's report check and its POST, the pages
// of a search) from making its next call within a Retry-After one of its
// calls received, whatever the status that carried it. The controller's
// account pause would refuse that call too, but only where it is wired; the
// Hold makes it the client's own rule, and says how long is left.
type Hold struct {
	now   func() time.Time
	outer *Hold
	mu    sync.Mutex
	until time.Time
}

type holdKey struct{}

// WithHold returns a context whose Retry-Afters the returned Hold keeps
// (besides reporting them to the Throttles ctx carries), and under which
// vendorhttp sends no call while the Hold, or one around it, holds. now is
// the Hold's clock; nil is time.Now.
func WithHold(ctx context.Context, now func() time.Time) (context.Context, *Hold) {
	if now == nil {
		now = time.Now
	}
	outer, _ := ctx.Value(holdKey{}).(*Hold)
	h := &Hold{now: now, outer: outer}
	return WithThrottle(context.WithValue(ctx, holdKey{}, h), h.wait), h
}

// wait is the Hold's Throttle: no call for wait from now.
func (h *Hold) wait(wait time.Duration) { h.HoldUntil(h.now().Add(wait)) }

// HoldUntil holds the operation's calls until t, unless it holds them
// longer already: a wait learned before the operation began (a search
// that a Retry-After cut short, going on).
func (h *Hold) HoldUntil(t time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if t.After(h.until) {
		h.until = t
	}
}

// Until is when the operation may call again: the zero time, or a time
// past, when it may now.
func (h *Hold) Until() time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.until
}

// left is how long the operation, or one around it, must still wait.
func (h *Hold) left() time.Duration {
	left := h.Until().Sub(h.now())
	if h.outer != nil {
		left = max(left, h.outer.left())
	}
	return max(left, 0)
}

// Err is nil when the operation may make its next call, else the error of
// that call, which is not made: KindRateLimited, NotSent, with the wait
// left as its RetryAfter.
func (h *Hold) Err() error {
	if left := h.left(); left > 0 {
		return waiting(left, "not sent: the vendor asked, answering an earlier call of this operation, to wait")
	}
	return nil
}

// Held is the Err of the Hold on ctx, nil without one: vendorhttp asks it
// before each call.
func Held(ctx context.Context) error {
	if h, ok := ctx.Value(holdKey{}).(*Hold); ok {
		return h.Err()
	}
	return nil
}

// waiting is the error of a call an operation did not make because the
// vendor asked it to wait: rate limited, never sent, so safe to make once
// the wait is over. The wait itself has already been reported (Throttled),
// so NotSent also keeps the controller from pausing the account again for
// it, later than the vendor meant.
func waiting(left time.Duration, why string) *Error {
	return &Error{Kind: KindRateLimited, NotSent: true, RetryAfter: left,
		Message: fmt.Sprintf("%s %s", why, roundWait(left))}
}

// roundWait rounds a wait for a person: whole seconds, but never down to
// nothing.
func roundWait(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
