package simulator

import (
	"net/http"

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
	}
}
