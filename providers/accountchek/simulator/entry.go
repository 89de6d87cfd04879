package simulator

import (
	"net/http"

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
	}
}
