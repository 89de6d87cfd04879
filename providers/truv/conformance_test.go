package truv_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/conformance"
	"github.com/ordersync/verification-operator/providers/simkit"
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

		// testdata/README.md names each file's source.
		Shapes: []conformance.Shape{
			{File: "cancel-order-response.json", Setup: expiredOrder, Call: conformance.Observe, Method: "GET", Status: 200, Nullable: orderNullable},
			{File: "cancel-order-response.json", State: "sent", Call: conformance.Observe, Method: "GET", Status: 200, Nullable: orderNullable},
			{File: "cancel-order-response.json", State: "completed", Call: conformance.Observe, Method: "GET", Status: 200, Nullable: orderNullable},
			{File: "cancel-order-response.json", State: "pending", Call: conformance.Cancel, Method: "POST", Status: 200, Nullable: orderNullable},
			{File: "error-invalid-params.json", State: "completed", Call: conformance.Cancel, Method: "POST", Status: 400},
			{File: "not-found.json", Call: conformance.Observe, Method: "GET", Status: 404},
		},
		OwnRateLimit: &conformance.OwnRateLimit{MaxCalls: 1000, RetryAfter: true, Body: "error.json"},
		// Orders expire as a whole after the account's lifetime (weekends
		// not counted); their employers keep their last status.
		Expiry: &conformance.Expiry{Make: expiredOrder, Reads: providers.StateExpired},
		Refusals: []conformance.Refusal{
			{Name: "400-invalid-params", State: "completed", Call: conformance.Cancel, Method: "POST",
				Status: 400, Kind: providers.KindRejected, Mentions: []string{"status: "}, Body: "error-invalid-params.json"},
			// Truv answers 406 to an Accept header that excludes JSON,
			// which the client never sends; injected, it must still read
			// as a refusal, never as something to retry.
			{Name: "406", State: "pending", Provoke: func(sim conformance.Sim, _ string) error {
				sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusNotAcceptable}})
				return nil
			}, Call: conformance.Observe, Method: "GET", Status: 406, Kind: providers.KindRejected, Body: "error.json"},
		},
	}
}

// expiredOrder is an order Truv expired by itself: a lifetime of one hour
// (weekday hours), and four days later, weekends or not, it is over.
func expiredOrder(sim conformance.Sim) (string, error) {
	s := sim.(*truvsim.Server)
	s.SetOrderLifetime(time.Hour)
	id, err := s.CreateOrder("pending")
	s.Clock.Advance(4 * 24 * time.Hour)
	return id, err
}

// orderNullable are the order's fields that are null until they apply:
// the times of states the order may not be in, and the custom field, which
// "must be enabled in the customization section".
var orderNullable = map[string]string{"canceled_at": "string", "completed_at": "string", "custom_field": "string"}
