package providers

import (
	"context"
	"time"
)

// Every Retry-After is honored wherever it arrives.
//
// A vendor's Retry-After speaks for the account, not for the call that
// received it, and it may arrive on any call: the first of an operation or
// the fourth page of a search, on a 429, a 503 or any other status, in an
// answer whose body never arrives because the caller's context ended
// meanwhile. Were the wait only read from the error an operation returns,
// each of these would lose it. So the wait is reported the moment it is
// known: vendorhttp calls Throttled on every response that carries a
// Retry-After, as soon as its status line and headers are in (before the
// body is read, whatever the caller's context says by then), with the wait
// read as a duration and capped at vendorhttp.MaxRetryAfter; again, with the
// longer wait, when the vendor's error body asks for longer than its header
// (txcloud's retry_after). A receiver may therefore hear one response twice,
// and must keep the longest wait it heard.
//
// The controller puts a Throttle on each reconcile's context that pauses
// the account's budget; an operation of several calls puts a Hold on its
// own (WithHold), so that it makes no further call within the wait.

// A Throttle hears a vendor's Retry-After: wait is measured from the moment
// the answer arrived, which is now. It is called on the goroutine of the
// call, under any context (also one that has ended), so it must be cheap,
// must not block, and must be safe to call from several goroutines at once.
type Throttle func(wait time.Duration)

type throttleKey struct{}

// throttles are the Throttles on a context, innermost first.
type throttles struct {
	hear  Throttle
	outer *throttles
}

// WithThrottle returns a context under which every Retry-After a vendor
// sends is reported to t, as well as to every Throttle ctx already carries:
// an operation's own Hold and the controller's account pause both hear it.
func WithThrottle(ctx context.Context, t Throttle) context.Context {
	outer, _ := ctx.Value(throttleKey{}).(*throttles)
	return context.WithValue(ctx, throttleKey{}, &throttles{hear: t, outer: outer})
}

// Throttled reports a Retry-After of wait to every Throttle on ctx. A wait
// of zero or less is no Retry-After and reports nothing.
func Throttled(ctx context.Context, wait time.Duration) {
	if wait <= 0 {
		return
	}
	for ts, _ := ctx.Value(throttleKey{}).(*throttles); ts != nil; ts = ts.outer {
		ts.hear(wait)
	}
}
