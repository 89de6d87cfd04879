package txcloud_test

import (
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/conformance"
	"github.com/ordersync/verification-operator/providers/txcloud"
	txsim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

// The conformance suite, against this vendor's client and simulator. The
// adapter restates docs/vendors.md as tables, in the vendor's own words,
// rather than importing the client's constants: a mistake in the client's
// table must not be mirrored in its expectations. Seeds are read from
// testdata/.
func TestConformance(t *testing.T) { conformance.Run(t, adapter()) }

// TestConformanceCancelledStatus runs the suite against a simulator whose
// cancel leaves the final status "cancelled" (txcloud's status reference)
// rather than "expired" (the seed's enum has no canceled word): the client
// must read both right.
func TestConformanceCancelledStatus(t *testing.T) {
	a := adapter()
	a.NewSimulator = func() conformance.Sim {
		s := txsim.New()
		if err := s.SetCanceledStatus(txsim.StateCancelled); err != nil {
			t.Fatal(err)
		}
		return s
	}
	for i, action := range a.Actions {
		if action.Name == providers.ActionCancel {
			a.Actions[i].From["pending"] = conformance.Becomes(providers.StateCanceled, "cancelled")
			a.Actions[i].From["cancelled"] = conformance.Becomes(providers.StateCanceled, "cancelled")
		}
	}
	conformance.Run(t, a)
}

// adapter describes TxCloud for the conformance suite: one verification per order, cancelable only while pending. It
// has no providers.StateCanceled status: a providers.StateCanceled verification reads "expired"
// (Capabilities.CanceledReadsAs), and only the cancel's own answer says
// canceled. The API lives under /v1.
func adapter() conformance.Adapter {
	const seedID = "ver_a1b2c3d4e5f6"
	seedPII := []string{"AE123456", "Mohammed", "El Amrani"}
	return conformance.Adapter{
		Name:             txcloud.Name,
		Vendor:           txcloud.Vendor(),
		NewSimulator:     func() conformance.Sim { return txsim.New() },
		BaseURL:          conformance.WithV1,
		Environment:      "sandbox",
		Credentials:      map[string][]byte{"apiKey": []byte(txsim.TestAPIKey)},
		BadCredentials:   map[string][]byte{"apiKey": []byte("txc_test_00000000000000000000")},
		WrongEnvironment: map[string][]byte{"apiKey": []byte(txsim.LiveAPIKey)},
		States: map[string]providers.State{
			"pending": providers.StateActive, "review": providers.StateActive, "verified": providers.StateCompleted, "rejected": providers.StateFailed, "expired": providers.StateExpired, "error": providers.StateFailed,
			"manual_review": providers.StateActive, "failed": providers.StateFailed, "cancelled": providers.StateCanceled,
		},
		UnknownID: "ver_000000000000",
		Actions: []conformance.Action{
			{Name: providers.ActionCancel, Invoke: conformance.CancelOrder, Repeatable: true, From: map[string]conformance.Outcome{
				"pending": conformance.Becomes(providers.StateCanceled, "expired"),
				// A retry after a lost answer meets "expired" and cannot tell
				// it from expiry on its own; either way the verification is
				// over, so the client calls it providers.StateCanceled (txcloud.Client.Cancel).
				"expired":       conformance.Becomes(providers.StateCanceled, "expired"),
				"review":        conformance.Refused(),
				"verified":      conformance.Refused(),
				"rejected":      conformance.Refused(),
				"error":         conformance.Refused(),
				"manual_review": conformance.Refused(),
				"failed":        conformance.Refused(),
				// Canceled already (by someone else, or our answer was lost):
				// txcloud refuses, and the client reads it canceled.
				"cancelled": conformance.Becomes(providers.StateCanceled, "cancelled"),
			}},
		},
		Seeds: []conformance.Seed{
			// The documented example has no status at all: read, it is an
			// error (not a pending verification); answering a cancel, the
			// client reads the verification, here the same body again.
			{File: "cancel-verification.json", Call: conformance.Cancel(seedID), Err: providers.KindTransient, PII: seedPII},
			{File: "cancel-verification.json", Call: conformance.Observe(seedID), Err: providers.KindTransient, PII: seedPII},
			{File: "verification-pending.json", Call: conformance.Observe(seedID),
				Want: providers.Observation{ID: seedID, VendorState: "pending", State: providers.StateActive}, PII: seedPII},
		},
		PII: txsim.PII,
	}
}
