package accountchek_test

import (
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	acsim "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	"github.com/ordersync/verification-operator/providers/conformance"
)

// The conformance suite, against this vendor's client and simulator. The
// adapter restates docs/vendors.md as tables, in the vendor's own words,
// rather than importing the client's constants: a mistake in the client's
// table must not be mirrored in its expectations. Seeds are read from
// testdata/.
func TestConformance(t *testing.T) { conformance.Run(t, adapter()) }

// adapter describes AccountChek for the conformance suite: cancel before the borrower acts, close once they have; both
// are terminal. The API lives under /v1.
func adapter() conformance.Adapter {
	const seedOrder = "b943cae2-a8f5-e911-b5e9-0003ff4f1b49"
	seedPII := []string{"johndoe@gmail.com", "1983-05-24", "706-123-4567", "1122334455", "1234 Hawthorne Avenue"}
	return conformance.Adapter{
		Name:         accountchek.Name,
		Vendor:       accountchek.Vendor(),
		NewSimulator: func() conformance.Sim { return acsim.New() },
		BaseURL:      conformance.WithV1,
		Environment:  "sandbox",
		Credentials: map[string][]byte{
			"username": []byte(acsim.TestUsername), "password": []byte(acsim.TestPassword),
			"integratorID": []byte(acsim.TestIntegratorID),
		},
		BadCredentials: map[string][]byte{"username": []byte("unknown-verifier"), "password": []byte("not-the-password")},
		// CTE and production users have the same form: nothing to tell apart.
		WrongEnvironment: nil,
		States: map[string]providers.State{
			"building": providers.StateActive, "opened": providers.StateActive, "inprogress": providers.StateActive, "closed": providers.StateClosed, "canceled": providers.StateCanceled,
		},
		UnknownID: "00000000-0000-4000-8000-000000000000",
		Actions: []conformance.Action{
			{Name: providers.ActionCancel, Invoke: conformance.CancelOrder, Repeatable: true, From: map[string]conformance.Outcome{
				"building":   conformance.Becomes(providers.StateCanceled, "canceled"),
				"opened":     conformance.Becomes(providers.StateCanceled, "canceled"),
				"canceled":   conformance.Becomes(providers.StateCanceled, "canceled"), // already there: success
				"inprogress": conformance.Refused(),
				"closed":     conformance.Refused(),
			}},
			{Name: providers.ActionClose, Invoke: conformance.CloseOrder, Repeatable: true, From: map[string]conformance.Outcome{
				"opened":     conformance.Becomes(providers.StateClosed, "closed"),
				"inprogress": conformance.Becomes(providers.StateClosed, "closed"),
				"closed":     conformance.Becomes(providers.StateClosed, "closed"), // already there: success
				"building":   conformance.Refused(),
				"canceled":   conformance.Refused(),
			}},
		},
		Seeds: []conformance.Seed{
			{File: "seed-order-canceled.json", Call: conformance.Cancel(seedOrder),
				Want: providers.Observation{ID: seedOrder, VendorState: "canceled", State: providers.StateCanceled}, PII: seedPII},
			{File: "seed-order-closed.json", Call: conformance.Close(seedOrder),
				Want: providers.Observation{ID: seedOrder, VendorState: "closed", State: providers.StateClosed}, PII: seedPII},
			// The documented 422 body (its placeholder text) is a refusal.
			{File: "seed-error.json", Status: 422, Call: conformance.Cancel(seedOrder), Err: providers.KindRejected},
		},
		PII: acsim.PII,

		// testdata/README.md names each file's source.
		Shapes: []conformance.Shape{
			{File: "seed-order-canceled.json", State: "opened", Call: conformance.Observe, Method: "GET", Status: 200, Nullable: orderNullable},
			{File: "seed-order-canceled.json", State: "opened", Call: conformance.Cancel, Method: "PATCH", Status: 200, Nullable: orderNullable},
			{File: "seed-order-closed.json", State: "inprogress", Call: conformance.Close, Method: "PATCH", Status: 200, Nullable: orderNullable},
			{File: "seed-error.json", State: "inprogress", Call: conformance.Cancel, Method: "PATCH", Status: 422},
		},
		// No limit is published: a bare 429, no Retry-After, no body
		// (docs/vendors.md).
		OwnRateLimit: &conformance.OwnRateLimit{MaxCalls: 1000},
		// When daysRemaining reaches 0 AccountChek cancels an order the
		// borrower never started.
		Expiry: &conformance.Expiry{Reads: providers.StateCanceled, Make: func(sim conformance.Sim) (string, error) {
			id, err := sim.CreateOrder("opened")
			sim.(*acsim.Server).Clock.Advance(acsim.OrderLifetime + time.Hour)
			return id, err
		}},
		Refusals: []conformance.Refusal{
			{Name: "422-properties", State: "inprogress", Call: conformance.Cancel, Method: "PATCH",
				Status: 422, Kind: providers.KindRejected, Mentions: []string{"status"}, Body: "seed-error.json"},
		},
	}
}

// orderNullable: the example's nulls, which an order fills in when it has
// them (a notification or return URL, a second address line).
var orderNullable = map[string]string{"notificationUrl": "string", "returnUrl": "string", "address.street2": "string"}
