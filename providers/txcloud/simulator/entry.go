package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Entry describes this simulator to the suites and the sandbox.
func Entry() simkit.Entry {
	return simkit.Entry{
		Name: "txcloud", New: newOnGrowth, APIRoot: "/v1",
		Credentials:    map[string]string{"apiKey": TestAPIKey},
		BadCredentials: map[string]string{"apiKey": "txc_test_00000000000000000000"},
		PII:            PII, MutatingMethod: http.MethodPost,
		// txcloud has no canceled state: a canceled verification reads "expired".
		Cancelable: "pending", Completed: "verified",
		WebhookSecret: "whsec_sandbox_5f2b8c0e9a7d4f1b",
		// A small share: the operator's default budget for txcloud is 1
		// call/s, a tenth of the others'. No already-there play: txcloud has
		// no canceled state to seed; a cancel from review is illegal.
		Chaos: simkit.Chaos{Share: 12, Plays: []simkit.Play{
			{Kind: simkit.PlayCancel, Words: []string{"pending"}, Desired: providers.StateCanceled, Weight: 6},
			{Kind: simkit.PlayActive, Words: []string{"pending", "review"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayObserveOnly, Words: []string{"pending"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayPaused, Words: []string{"pending"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayDeleteCancel, Words: []string{"pending"}, Desired: providers.StateActive, Weight: 2},
			{Kind: simkit.PlayDeleteOrphan, Words: []string{"pending"}, Desired: providers.StateActive, Weight: 1},
			{Kind: simkit.PlayAlreadyTerminal, Words: []string{"verified", "rejected"}, Desired: providers.StateCanceled, Weight: 1},
			{Kind: simkit.PlayUnsupported, Words: []string{"pending"}, Desired: providers.StateClosed, Weight: 1},
			{Kind: simkit.PlayIllegal, Words: []string{"review"}, Desired: providers.StateCanceled, Weight: 1},
		}},
	}
}

// newOnGrowth is the simulator the sandbox and the operator's suites run:
// its test key on the Growth plan, as a Free key's 1,000 calls a day last
// about an hour of the sandbox's 2-second polls, and its 10 concurrent
// calls are fewer than a chaos run's slow answers hold. The conformance
// suite holds the Free plan to the documented limits.
func newOnGrowth() simkit.Sim {
	s := New()
	s.SetPlan(TestAPIKey, PlanGrowth)
	return s
}
