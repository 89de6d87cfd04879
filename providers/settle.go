package providers

import "context"

// Settle turns a refused mutation into success when the order is already
// where the mutation would have taken it. That is what a retry after a lost
// response looks like: the vendor applied the first call, so it refuses the
// second (Truework 400, AccountChek 422, Truv 400, txcloud 409). Any other
// error, or an order somewhere else, returns the original error.
func Settle(ctx context.Context, c Client, orderID string, err error, want func(Observation) bool) (Observation, error) {
	if KindOf(err) != KindRejected {
		return Observation{}, err
	}
	obs, oerr := c.Observe(ctx, orderID)
	if oerr == nil && want(obs) {
		return obs, nil
	}
	return Observation{}, err
}
