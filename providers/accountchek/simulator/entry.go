package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Entry describes this simulator to the suites and the sandbox.
func Entry() simkit.Entry {
	return simkit.Entry{
		Name: "accountchek", New: func() simkit.Sim { return New() }, APIRoot: "/v1",
		Credentials:    map[string]string{"username": TestUsername, "password": TestPassword},
		BadCredentials: map[string]string{"username": TestUsername, "password": "not-the-password"},
		PII:            PII, MutatingMethod: http.MethodPatch,
		Cancelable: "opened", Completed: "closed", Canceled: "canceled",
		// Cancels and closes weigh most: they are the operator's main work.
		// A cancel once the borrower started, and a close before the order
		// opened, are illegal transitions.
		Chaos: simkit.Chaos{Share: 30, Plays: []simkit.Play{
			{Kind: simkit.PlayCancel, Words: []string{"building", "opened"}, Desired: providers.StateCanceled, Weight: 6},
			{Kind: simkit.PlayClose, Words: []string{"opened", "inprogress"}, Desired: providers.StateClosed, Weight: 4},
			{Kind: simkit.PlayActive, Words: []string{"opened", "inprogress"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayAlreadyThere, Words: []string{"closed"}, Desired: providers.StateClosed, Weight: 1},
			{Kind: simkit.PlayObserveOnly, Words: []string{"opened"}, Desired: providers.StateClosed, Weight: 1},
			{Kind: simkit.PlayPaused, Words: []string{"opened"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayDeleteCancel, Words: []string{"building", "opened"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayDeleteOrphan, Words: []string{"opened"}, Desired: providers.StateActive, Weight: 1},
			{Kind: simkit.PlayAlreadyTerminal, Words: []string{"canceled"}, Desired: providers.StateClosed, Weight: 1},
			{Kind: simkit.PlayIllegal, Words: []string{"inprogress"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayIllegal, Words: []string{"building"}, Desired: providers.StateClosed, Weight: 1},
		}},
	}
}
