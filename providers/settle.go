package providers

import "context"

// Settle turns a refused mutation into success when the order is already
// where the mutation would have taken it. That is what a retry after a lost
// response looks like: the vendor applied the first call, so it refuses the
// second (Truework 400, AccountChek 422, Truv 400, txcloud 409). An order
// somewhere else returns the refusal with what the read found, so that the
// caller knows where the order is without paying for another read; any
// other error returns the original error.
//
// When the read could not be made now (a 5xx, a cut connection, a 429), its
// error is returned, not the refusal: the refusal may mean the order is
// already done, so the caller must neither report it as refused nor read
// again before the read's Retry-After.
func Settle(ctx context.Context, c Client, orderID string, err error, want func(Observation) bool) (Observation, error) {
	if KindOf(err) != KindRejected {
		return Observation{}, err
	}
	obs, oerr := c.Observe(ctx, orderID)
	switch {
	case oerr != nil && couldNotCheck(oerr):
		return Observation{}, oerr
	case oerr == nil && want(obs):
		return obs, nil
	case oerr == nil:
		return obs, err
	}
	return Observation{}, err
}

func couldNotCheck(err error) bool {
	k := KindOf(err)
	return k == KindTransient || k == KindRateLimited
}
