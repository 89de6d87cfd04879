package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Entry describes this simulator to the suites and the sandbox.
func Entry() simkit.Entry {
	return simkit.Entry{
		Name: "truework", New: func() simkit.Sim { return New() },
		Credentials:    map[string]string{"apiKey": TestAPIKey},
		BadCredentials: map[string]string{"apiKey": "tw_sk_test_00000000000000000000000000000000"},
		PII:            PII, MutatingMethod: http.MethodPut,
		Cancelable: "pending-approval", Completed: "completed", Canceled: "canceled", Parts: true,
		SigningKeys: map[string]string{SigningKeyID: SigningPublicKey()},
		// The static token Truework puts in X-Truework-Token.
		WebhookSecret: "tw_webhook_token_sandbox",
		// Cancels weigh most: they are the operator's main work.
		Chaos: simkit.Chaos{Share: 30, Plays: []simkit.Play{
			{Kind: simkit.PlayCancel, Words: []string{"pending-approval", "action-required", "processing", "other"}, Desired: providers.StateCanceled, Weight: 8},
			{Kind: simkit.PlayReverify, Words: []string{"completed"}, Desired: providers.StateActive, Weight: 3},
			{Kind: simkit.PlayActive, Words: []string{"pending-approval", "processing"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayAlreadyThere, Words: []string{"canceled"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayObserveOnly, Words: []string{"pending-approval"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayPaused, Words: []string{"processing"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayDeleteCancel, Words: []string{"pending-approval", "action-required"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayDeleteOrphan, Words: []string{"pending-approval"}, Desired: providers.StateActive, Weight: 1},
			{Kind: simkit.PlayAlreadyTerminal, Words: []string{"completed", "invalid"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayUnsupported, Words: []string{"pending-approval"}, Desired: providers.StateClosed, Weight: 1},
		}},
	}
}
