package accountchek

import (
	"strings"

	"github.com/ordersync/verification-operator/providers"
)

// AccountChek order statuses, from the seed's table.
const (
	// StateBuilding: services (VOA, VOIE) are still being added.
	StateBuilding = "building"
	// StateOpened: built and waiting for the borrower.
	StateOpened = "opened"
	// StateInProgress: the borrower has started.
	StateInProgress = "inprogress"
	// StateClosed: closed by the system (or by us) and considered completed.
	StateClosed = "closed"
	// StateCanceled: canceled before the borrower acted.
	StateCanceled = "canceled"
)

// states normalizes AccountChek's words. closed maps to closed, not
// completed: it is the word users write in spec.state for this vendor, and
// canceled and closed are both terminal and irreversible.
var states = providers.StateTable{
	StateBuilding:   providers.StateActive,
	StateOpened:     providers.StateActive,
	StateInProgress: providers.StateActive,
	StateClosed:     providers.StateClosed,
	StateCanceled:   providers.StateCanceled,
}

// Normalize maps a vendor word to a State; unknown words count as active
// (see providers.StateTable).
func Normalize(status string) providers.State { return states.Normalize(status) }

// order holds the only fields of an AccountChek order the operator needs.
// The response also carries the borrower's name, email, phone, SSN, date of
// birth and address; they are deliberately not decoded.
type order struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// observation reduces the order. requestedID stands in for a missing id.
func (o order) observation(requestedID string) (providers.Observation, error) {
	// The documented words are lowercase; folding case keeps a casing change
	// at the vendor from turning "Opened" into an unknown word.
	status := strings.ToLower(strings.TrimSpace(o.Status))
	if status == "" {
		// A 200 without a status is not an AccountChek order (a proxy's
		// "{}", a truncated body); guessing "active" would hide that.
		return providers.Observation{}, providers.Errorf(providers.KindTransient, 0,
			"AccountChek answered without an order status; not an order response")
	}
	id := o.ID
	if id == "" {
		id = requestedID
	}
	return providers.Observation{ID: id, VendorState: status, State: Normalize(status)}, nil
}
