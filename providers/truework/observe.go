package truework

import (
	"fmt"
	"net/http"

	"github.com/ordersync/verification-operator/providers"
)

// observeOrder builds the Observation of an order from its requests. An
// answer about another order than requestedID (a signed answer of another
// call, replayed) is not believed.
func observeOrder(o wireOrder, requestedID string) (providers.Observation, error) {
	if err := answers(o.ID, requestedID); err != nil {
		return providers.Observation{}, err
	}
	if len(o.VerificationRequests) == 0 {
		// Not documented; an order is created with its requests, so this is
		// a partial answer worth reading again rather than a final state.
		return providers.Observation{}, providers.Errorf(providers.KindTransient, http.StatusOK,
			"Truework returned the order without verification requests")
	}
	obs := providers.Observation{ID: firstNonEmpty(o.ID, requestedID)}
	for _, r := range o.VerificationRequests {
		obs.Requests = append(obs.Requests, requestOf(r))
	}
	obs.VendorState, obs.State = orderState(obs.Requests)
	if len(o.VerificationRequests) == 1 {
		obs.CompletedAt = o.VerificationRequests[0].DateOfCompletion.t
	}
	return obs, nil
}

// observeRequest builds the Observation of a single verification request;
// requestedID "" is a request Truework just created.
func observeRequest(r wireRequest, requestedID string) (providers.Observation, error) {
	if err := answers(r.ID, requestedID); err != nil {
		return providers.Observation{}, err
	}
	req := requestOf(r)
	req.ID = firstNonEmpty(req.ID, requestedID)
	return providers.Observation{
		ID:          req.ID,
		VendorState: req.VendorState,
		State:       req.State,
		Requests:    []providers.Request{req},
		CompletedAt: r.DateOfCompletion.t,
	}, nil
}

// answers refuses an answer whose id is not the one asked for.
func answers(got, asked string) error {
	if got == "" || asked == "" || got == asked {
		return nil
	}
	return &providers.Error{Kind: providers.KindTransient, StatusCode: http.StatusOK, Message: fmt.Sprintf(
		"Truework answered about %s when asked about %s", got, asked)}
}

func requestOf(r wireRequest) providers.Request {
	word := string(r.State)
	return providers.Request{ID: r.ID, VendorState: word, State: normalize(word)}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
