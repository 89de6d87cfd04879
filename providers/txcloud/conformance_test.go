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
// The adapter's mode "cancelled" runs the whole suite again with a
// simulator whose cancel leaves "cancelled" instead of "expired".
func TestConformance(t *testing.T) { conformance.Run(t, adapter()) }

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

		// testdata/README.md names each file's source.
		Shapes: []conformance.Shape{
			{File: "verification-pending.json", State: "pending", Call: conformance.Observe, Method: "GET", Status: 200, Nullable: errorNullable},
			// rejected: the one status whose fraud_signals and checks.fraud.signals have items.
			{File: "verification-pending.json", State: "rejected", Call: conformance.Observe, Method: "GET", Status: 200},
			{File: "verification-pending.json", State: "pending", Call: conformance.Cancel, Method: "POST", Status: 200},
			{File: "error.json", State: "review", Call: conformance.Cancel, Method: "POST", Status: 409, Nullable: errorNullable},
			{File: "error.json", Call: conformance.Observe, Method: "GET", Status: 404, Nullable: errorNullable},
		},
		// Every key is on the Free plan until told otherwise: 60 calls a
		// minute, then 429 until the minute's window ends.
		OwnRateLimit: &conformance.OwnRateLimit{
			MaxCalls: 200, RetryAfter: true, Body: "error-rate-limit.json",
			Headers: map[string]string{"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "", "X-RateLimit-Window": "60"},
		},
		// txcloud ends a pending verification as expired by itself.
		Expiry: &conformance.Expiry{Reads: providers.StateExpired, Make: func(sim conformance.Sim) (string, error) {
			id, err := sim.CreateOrder("pending")
			if err == nil {
				err = sim.(*txsim.Server).SetOrderState(id, "expired")
			}
			return id, err
		}},
		Modes: []conformance.Mode{{
			// txcloud's status reference lists a final "cancelled"; the
			// seed's enum has no canceled word. A cancel may leave either.
			Name: "cancelled",
			Setup: func(sim conformance.Sim) error {
				return sim.(*txsim.Server).SetCanceledStatus("cancelled")
			},
			Outcomes: map[providers.Action]map[string]conformance.Outcome{providers.ActionCancel: {
				"pending":   conformance.Becomes(providers.StateCanceled, "cancelled"),
				"cancelled": conformance.Becomes(providers.StateCanceled, "cancelled"),
			}},
		}},
	}
}

// errorNullable: txcloud's error object documents param as the name of
// the parameter at fault, null when there is none.
var errorNullable = map[string]string{"error.param": "string"}
