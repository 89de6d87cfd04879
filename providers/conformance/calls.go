package conformance

import (
	"context"
	"fmt"

	"github.com/ordersync/verification-operator/providers"
)

// The calls an adapter's actions and seeds are made of.

// CancelOrder is the Invoke of every vendor's Cancel.
func CancelOrder(ctx context.Context, c providers.Client, _ Sim, orderID string) (providers.Observation, error) {
	return Cancel(orderID)(ctx, c)
}

// CloseOrder is the Invoke of Close, for vendors whose client is a Closer.
func CloseOrder(ctx context.Context, c providers.Client, _ Sim, orderID string) (providers.Observation, error) {
	return Close(orderID)(ctx, c)
}

// The calls seeds are fed through.

// Observe is the call of a seed that reads order id.
func Observe(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		return c.Observe(ctx, id)
	}
}

// Cancel is the call of a seed that cancels order id.
func Cancel(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		return c.Cancel(ctx, id, providers.Cancellation{Reason: "wrong-info", Details: "conformance suite"})
	}
}

// Close is the call of a seed that closes order id.
func Close(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		closer, ok := c.(providers.Closer)
		if !ok {
			return providers.Observation{}, fmt.Errorf("%T does not implement providers.Closer", c)
		}
		return closer.Close(ctx, id)
	}
}

// Reverify is the call of a seed that reverifies a request.
func Reverify(requestID, reportID string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		r, ok := c.(providers.Reverifier)
		if !ok {
			return providers.Observation{}, fmt.Errorf("%T does not implement providers.Reverifier", c)
		}
		return r.Reverify(ctx, requestID, reportID)
	}
}

// SameURL is the BaseURL of a vendor whose paths are served at the root.
func SameURL(serverURL string) string { return serverURL }

// WithV1 is the BaseURL of a vendor whose API lives under /v1.
func WithV1(serverURL string) string { return serverURL + "/v1" }
