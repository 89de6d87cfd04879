package truv_test

import (
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/conformance"
	"github.com/ordersync/verification-operator/providers/truv"
	truvsim "github.com/ordersync/verification-operator/providers/truv/simulator"
)

// The conformance suite, against this vendor's client and simulator. The
// adapter restates docs/vendors.md as tables, in the vendor's own words,
// rather than importing the client's constants: a mistake in the client's
// table must not be mirrored in its expectations. Seeds are read from
// testdata/.
func TestConformance(t *testing.T) { conformance.Run(t, adapter()) }

// adapter describes Truv for the conformance suite: an order's status is derived from its employers. Cancel is allowed
// only while every employer is open, which a capability table keyed by the
// order's status cannot say: a partly finished order reads "pending" yet is
// refused (see the composite below and truv.Vendor).
func adapter() conformance.Adapter {
	const seedOrder, seedEmployer = "39aa1486ccca4bc19cda071ffc1ba392", "ad9f14440d624ec3b0f66e81e44518c7"
	return conformance.Adapter{
		Name:         truv.Name,
		Vendor:       truv.Vendor(),
		NewSimulator: func() conformance.Sim { return truvsim.New() },
		BaseURL:      conformance.SameURL, // paths start with /v1/
		Environment:  "sandbox",
		Credentials: map[string][]byte{
			"clientID": []byte(truvsim.TestClientID), "accessSecret": []byte(truvsim.TestAccessSecret),
		},
		BadCredentials: map[string][]byte{
			"clientID": []byte("00000000000000000000000000000000"), "accessSecret": []byte("sandbox-00000000000000000000000000000000"),
		},
		WrongEnvironment: map[string][]byte{
			"clientID": []byte(truvsim.TestClientID), "accessSecret": []byte("prod-8c1e5a7d3f9b2e6c4a0d8f1b3e5c7a9d"),
		},
		States: map[string]providers.State{
			"pending": providers.StateActive, "sent": providers.StateActive, "completed": providers.StateCompleted, "canceled": providers.StateCanceled,
			"expired": providers.StateExpired, "error": providers.StateFailed, "no_data": providers.StateFailed, "skipped": providers.StateFailed,
		},
		Parts:     true,
		UnknownID: "00000000000000000000000000000000",
		Actions: []conformance.Action{
			{Name: providers.ActionCancel, Invoke: conformance.CancelOrder, Repeatable: true, From: map[string]conformance.Outcome{
				"pending":   conformance.Becomes(providers.StateCanceled, "canceled"),
				"sent":      conformance.Becomes(providers.StateCanceled, "canceled"),
				"canceled":  conformance.Becomes(providers.StateCanceled, "canceled"), // already there: success
				"completed": conformance.Refused(),
				"expired":   conformance.Refused(),
				"error":     conformance.Refused(),
				"no_data":   conformance.Refused(),
				"skipped":   conformance.Refused(),
			}},
		},
		NewComposite: func(sim conformance.Sim, parts []string) (string, error) {
			return sim.(*truvsim.Server).CreateOrderWithEmployers(parts...)
		},
		Composites: []conformance.Composite{
			{Parts: []string{"sent", "pending"}, VendorState: "sent", State: providers.StateActive,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Becomes(providers.StateCanceled, "canceled")}},
			// Still open, yet not cancelable: one employer already finished.
			{Parts: []string{"completed", "pending"}, VendorState: "pending", State: providers.StateActive,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Refused()}},
			{Parts: []string{"completed", "error"}, VendorState: "completed", State: providers.StateCompleted,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Refused()}},
		},
		Seeds: []conformance.Seed{
			// The documented answer to a cancel is an expired order
			// (is_expired: true) whose employer still says pending: it is
			// over, not active.
			{File: "cancel-order-response.json", Call: conformance.Cancel(seedOrder), Want: providers.Observation{
				ID: seedOrder, VendorState: "expired", State: providers.StateExpired,
				Requests: []providers.Request{{ID: seedEmployer, VendorState: "pending", State: providers.StateActive}},
			}, PII: []string{"123456789", "1234567890", "john.doe@example.com", "1992-03-03", "6503087300", "1 Morgan Ave"}},
		},
		PII: truvsim.PII,
	}
}
