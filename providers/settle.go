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
//
// A refusal that itself carries a Retry-After is not read back within it
// (the read would be a call the vendor asked not to get yet): the error is
// then a KindRateLimited one, NotSent, for the read that was not made.
func Settle(ctx context.Context, c Client, orderID string, err error, want func(Observation) bool) (Observation, error) {
	if KindOf(err) != KindRejected {
		return Observation{}, err
	}
	if wait := RetryAfterOf(err); wait > 0 {
		return Observation{}, waiting(wait, "not read back: the vendor refused ("+err.Error()+") and asked to wait")
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
