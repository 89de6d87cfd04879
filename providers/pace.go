package providers

import "context"

// A Pacer pays for one vendor call from the account's budget before it is
// made: it returns when the call may go, or an error when ctx ends first.
type Pacer func(context.Context) error

type pacerKey struct{}

// WithPacer returns a context under which every vendor call a client makes
// is first paid for by p. The controller pays for an operation's first call
// itself; an operation of several calls (a refused cancel and the read that
// settles it, the pages of a search for a reverification in doubt) pays for
// the others through the pacer, so that the vendor never sees a call the
// account's budget did not allow.
func WithPacer(ctx context.Context, p Pacer) context.Context {
	return context.WithValue(ctx, pacerKey{}, p)
}

// Pace pays for one vendor call under ctx; it is free without a pacer.
func Pace(ctx context.Context) error {
	if p, ok := ctx.Value(pacerKey{}).(Pacer); ok {
		return p(ctx)
	}
	return nil
}
