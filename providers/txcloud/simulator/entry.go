package simulator

import (
	"net/http"

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
