package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Entry describes this simulator to the suites and the sandbox.
func Entry() simkit.Entry {
	return simkit.Entry{
		Name: "txcloud", New: func() simkit.Sim { return New() }, APIRoot: "/v1",
		Credentials:    map[string]string{"apiKey": TestAPIKey},
		BadCredentials: map[string]string{"apiKey": "txc_test_00000000000000000000"},
		PII:            PII, MutatingMethod: http.MethodPost,
		// txcloud has no canceled state: a canceled verification reads "expired".
		Cancelable: "pending", Completed: "verified",
		WebhookSecret: "whsec_sandbox_5f2b8c0e9a7d4f1b",
	}
}
