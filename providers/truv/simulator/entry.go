package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Entry describes this simulator to the suites and the sandbox.
func Entry() simkit.Entry {
	return simkit.Entry{
		Name: "truv", New: func() simkit.Sim { return New() },
		Credentials:    map[string]string{"clientID": TestClientID, "accessSecret": TestAccessSecret},
		BadCredentials: map[string]string{"clientID": TestClientID, "accessSecret": "sandbox-00000000000000000000000000000000"},
		PII:            PII, MutatingMethod: http.MethodPost,
		Cancelable: "sent", Completed: "completed", Canceled: "canceled", Parts: true,
		// Truv signs its webhooks with the access secret.
		WebhookSecret: TestAccessSecret,
		// Cancels weigh most: they are the operator's main work.
		Chaos: simkit.Chaos{Share: 28, Plays: []simkit.Play{
			{Kind: simkit.PlayCancel, Words: []string{"pending", "sent"}, Desired: providers.StateCanceled, Weight: 8},
			{Kind: simkit.PlayActive, Words: []string{"pending", "sent"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayAlreadyThere, Words: []string{"canceled"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayObserveOnly, Words: []string{"sent"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayPaused, Words: []string{"pending"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayDeleteCancel, Words: []string{"sent"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayDeleteOrphan, Words: []string{"pending"}, Desired: providers.StateActive, Weight: 1},
			{Kind: simkit.PlayAlreadyTerminal, Words: []string{"completed", "expired", "no_data"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayUnsupported, Words: []string{"sent"}, Desired: providers.StateClosed, Weight: 1},
		}},
	}
}
