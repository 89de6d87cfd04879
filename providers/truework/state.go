package truework

import (
	"github.com/ordersync/verification-operator/providers"
)

// Truework's verification request states (seed
// truework-reverify-verification.txt; 2023-10-30 adds "other").
const (
	StatePendingApproval = "pending-approval"
	StateActionRequired  = "action-required"
	StateProcessing      = "processing"
	StateOther           = "other"
	StateCompleted       = "completed"
	StateCanceled        = "canceled"
	StateInvalid         = "invalid"
)

// states normalizes a request's state word. completed, canceled and invalid
// are terminal; everything else is still moving.
var states = providers.StateTable{
	StatePendingApproval: providers.StateActive,
	StateActionRequired:  providers.StateActive,
	StateProcessing:      providers.StateActive,
	StateOther:           providers.StateActive,
	StateCompleted:       providers.StateCompleted,
	StateCanceled:        providers.StateCanceled,
	StateInvalid:         providers.StateFailed,
}

// normalize maps a vendor word to a State; unknown words count as active
// (see providers.StateTable).
func normalize(word string) providers.State { return states.Normalize(word) }

// orderState sums up the requests of an order, which has no state of its
// own: while any request is still moving the order is active (and shows that
// request's word); otherwise a canceled request makes it canceled, then a
// completed one completed, and an order of invalid requests failed.
func orderState(requests []providers.Request) (vendorState string, state providers.State) {
	for _, r := range requests {
		if !r.State.Terminal() {
			return r.VendorState, providers.StateActive
		}
	}
	for _, terminal := range []string{StateCanceled, StateCompleted, StateInvalid} {
		for _, r := range requests {
			if r.VendorState == terminal {
				return terminal, normalize(terminal)
			}
		}
	}
	// Unreachable with the table above: every terminal word is listed.
	return requests[0].VendorState, requests[0].State
}
