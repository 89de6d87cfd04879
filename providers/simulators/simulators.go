// Package simulators lists every vendor simulator with what it takes to
// point a VerificationProvider at it: the sandbox, the controller suites and
// the end-to-end suite all start vendors from here.
package simulators

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers/simkit"

	accountchek "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	truework "github.com/ordersync/verification-operator/providers/truework/simulator"
	truv "github.com/ordersync/verification-operator/providers/truv/simulator"
	txcloud "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

// Sim is what every vendor simulator offers beyond its vendor's API.
type Sim interface {
	http.Handler
	simkit.Backend
	Calls(orderID string) []simkit.Call
	CountCalls(orderID, method string) int
	SetFaults(simkit.Faults)
	Stats() []simkit.Stat
}

// Simulated is one simulated vendor.
type Simulated struct {
	// Name is the VerificationProvider spec.vendor value.
	Name string
	// New starts an empty simulator.
	New func() Sim
	// APIRoot is appended to the simulator's URL to form the provider's
	// endpoint (the vendors whose base URL ends in /v1).
	APIRoot string
	// Credentials are Secret data the simulator accepts (sandbox).
	Credentials map[string]string
	// BadCredentials are well-formed but unknown to the simulator.
	BadCredentials map[string]string
	// PII is every personal value the simulator serves.
	PII []string
	// MutatingMethod is the HTTP method of the vendor's cancel call.
	MutatingMethod string
	// Words are vendor state words for the scenarios every vendor shares.
	Cancelable, Completed, Canceled string
}

// All returns every simulated vendor.
func All() []Simulated {
	return []Simulated{
		{
			Name: "truework", New: func() Sim { return truework.New() },
			Credentials:    map[string]string{"apiKey": truework.TestAPIKey},
			BadCredentials: map[string]string{"apiKey": "tw_sk_test_00000000000000000000000000000000"},
			PII:            truework.PII, MutatingMethod: http.MethodPut,
			Cancelable: "pending-approval", Completed: "completed", Canceled: "canceled",
		},
		{
			Name: "accountchek", New: func() Sim { return accountchek.New() }, APIRoot: "/v1",
			Credentials:    map[string]string{"username": accountchek.TestUsername, "password": accountchek.TestPassword},
			BadCredentials: map[string]string{"username": accountchek.TestUsername, "password": "not-the-password"},
			PII:            accountchek.PII, MutatingMethod: http.MethodPatch,
			Cancelable: "opened", Completed: "closed", Canceled: "canceled",
		},
		{
			Name: "truv", New: func() Sim { return truv.New() },
			Credentials:    map[string]string{"clientID": truv.TestClientID, "accessSecret": truv.TestAccessSecret},
			BadCredentials: map[string]string{"clientID": truv.TestClientID, "accessSecret": "sandbox-00000000000000000000000000000000"},
			PII:            truv.PII, MutatingMethod: http.MethodPost,
			Cancelable: "sent", Completed: "completed", Canceled: "canceled",
		},
		{
			Name: "txcloud", New: func() Sim { return txcloud.New() }, APIRoot: "/v1",
			Credentials:    map[string]string{"apiKey": txcloud.TestAPIKey},
			BadCredentials: map[string]string{"apiKey": "txc_test_00000000000000000000"},
			PII:            txcloud.PII, MutatingMethod: http.MethodPost,
			// txcloud has no canceled state: a canceled verification reads "expired".
			Cancelable: "pending", Completed: "verified",
		},
	}
}

// Get returns the named vendor.
func Get(name string) Simulated {
	for _, v := range All() {
		if v.Name == name {
			return v
		}
	}
	panic("no simulator for vendor " + name)
}
