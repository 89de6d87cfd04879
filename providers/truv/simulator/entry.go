package simulator

import (
	"net/http"

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
	}
}
