package truework_test

import (
	"context"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/conformance"
	truework "github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// The conformance suite, against this vendor's client and simulator. The
// adapter restates docs/vendors.md as tables, in the vendor's own words,
// rather than importing the client's constants: a mistake in the client's
// table must not be mirrored in its expectations. Seeds are read from
// testdata/.
func TestConformance(t *testing.T) { conformance.Run(t, adapter()) }

// adapter describes Truework for the conformance suite: an order holds verification requests and has no state of its
// own; the client and simulator sum the requests up the same way. Reverify
// works on a providers.StateCompleted request and answers with a new one.
func adapter() conformance.Adapter {
	return conformance.Adapter{
		Name:           truework.Name,
		Vendor:         truework.Vendor(),
		NewSimulator:   func() conformance.Sim { return twsim.New() },
		BaseURL:        conformance.SameURL,
		Environment:    "sandbox",
		Credentials:    map[string][]byte{"apiKey": []byte(twsim.TestAPIKey)},
		BadCredentials: map[string][]byte{"apiKey": []byte("tw_sk_test_00000000000000000000000000000000")},
		// A production secret key in a sandbox provider.
		WrongEnvironment: map[string][]byte{"apiKey": []byte(twsim.LiveAPIKey)},
		States: map[string]providers.State{
			"pending-approval": providers.StateActive, "action-required": providers.StateActive, "processing": providers.StateActive, "other": providers.StateActive,
			"completed": providers.StateCompleted, "canceled": providers.StateCanceled, "invalid": providers.StateFailed,
		},
		Parts:     true,
		UnknownID: "AAAAAAAAQnIAAYd5Y0000000000000000000000000000000000000000",
		Actions: []conformance.Action{
			{Name: providers.ActionCancel, Invoke: conformance.CancelOrder, Repeatable: true, From: map[string]conformance.Outcome{
				"pending-approval": conformance.Becomes(providers.StateCanceled, "canceled"),
				"action-required":  conformance.Becomes(providers.StateCanceled, "canceled"),
				"processing":       conformance.Becomes(providers.StateCanceled, "canceled"),
				"other":            conformance.Becomes(providers.StateCanceled, "canceled"),
				"canceled":         conformance.Becomes(providers.StateCanceled, "canceled"), // already there: success
				"completed":        conformance.Refused(),
				"invalid":          conformance.Refused(),
			}},
			{Name: providers.ActionReverify, Invoke: reverifyFirstRequest, From: map[string]conformance.Outcome{
				// The answer is the new request; the order reverified stays completed.
				"completed": {State: providers.StateActive, VendorState: "pending-approval", Leaves: "completed"},
				// 2023-10-30 reverifies a report, and only a completed
				// request has one: the report named for any other is
				// unknown to Truework, which the client reads before
				// sending anything.
				"pending-approval": notFound,
				"action-required":  notFound,
				"processing":       notFound,
				"other":            notFound,
				"canceled":         notFound,
				"invalid":          notFound,
			}},
		},
		NewComposite: func(sim conformance.Sim, parts []string) (string, error) {
			tw := sim.(*twsim.Server)
			id, err := tw.CreateOrder(parts[0])
			for _, p := range parts[1:] {
				if err == nil {
					_, err = tw.AddRequest(id, p)
				}
			}
			return id, err
		},
		Composites: []conformance.Composite{
			// Cancel cancels the requests still moving and leaves the rest.
			{Parts: []string{"processing", "completed"}, VendorState: "processing", State: providers.StateActive,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Becomes(providers.StateCanceled, "canceled")}},
			{Parts: []string{"completed", "canceled"}, VendorState: "canceled", State: providers.StateCanceled,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Becomes(providers.StateCanceled, "canceled")}},
			{Parts: []string{"completed", "invalid"}, VendorState: "completed", State: providers.StateCompleted,
				Outcomes: map[providers.Action]conformance.Outcome{providers.ActionCancel: conformance.Refused()}},
		},
		Seeds: trueworkSeeds(),
		PII:   twsim.PII,

		// Documented shapes: shapes_test.go holds every route and version
		// of the simulator to testdata/ (see its README).
		//
		// No Retry-After is documented; the simulator sends one (Assume,
		// docs/vendors.md) and the client must carry it.
		OwnRateLimit: &conformance.OwnRateLimit{MaxCalls: 1000, RetryAfter: true, Body: "errors/error.json"},
		Refusals: []conformance.Refusal{
			{Name: "451-read", State: "processing", Provoke: freeze, Call: conformance.Observe, Method: "GET",
				Status: 451, Kind: providers.KindLegalHold, Mentions: []string{"frozen"}, Body: "errors/error.json"},
			{Name: "451-cancel", State: "processing", Provoke: freeze, Call: conformance.Cancel, Method: "PUT",
				Status: 451, Kind: providers.KindLegalHold, Mentions: []string{"frozen"}, Body: "errors/error.json"},
			// The key is pinned to 2023-10-30; a client speaking an older
			// version is refused.
			{Name: "406", State: "processing", APIVersion: "2022-08-01", Call: conformance.Observe, Method: "GET",
				Status: 406, Kind: providers.KindRejected, Mentions: []string{"2022-08-01"}, Body: "errors/error.json"},
			{Name: "400-invalid-fields", State: "processing", Call: cancelFor("bored"), Method: "PUT",
				Status: 400, Kind: providers.KindRejected, Mentions: []string{"cancellation_reason"}, Body: "errors/error-invalid-fields.json"},
		},
	}
}

// freeze is a target freezing their SSN: Truework answers 451.
func freeze(sim conformance.Sim, id string) error { return sim.(*twsim.Server).Freeze(id) }

// cancelFor cancels with a reason Truework may refuse.
func cancelFor(reason string) func(string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(id string) func(context.Context, providers.Client) (providers.Observation, error) {
		return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
			return c.Cancel(ctx, id, providers.Cancellation{Reason: reason})
		}
	}
}

// notFound is a refusal with KindNotFound: nothing is created.
var notFound = conformance.Outcome{Err: providers.KindNotFound}

// trueworkSeeds are the documented examples of version 2023-10-30, the
// version the suite's client speaks (testdata/README.md names their
// sources); decode_test.go decodes every example, the older versions'
// included.
func trueworkSeeds() []conformance.Seed {
	const (
		order   = "AAAAAAAAQnIAAYd5YDFVbNp5ls-iMKkX6EuxRcS0lWHtavg12A2Le7m1"
		request = "AAAAAAAAQnIAAYd5YHFVOm8PNX2ecFbEjqV__upOKUE8YE_IK2GwSQTP"
		done    = "AAAAAAAAQnIAAYd5YKx7Qm1Tz9Vb3Nc5Ld8Rf2Gh6Jk0Wp4Ys7Ua1Ie3"
	)
	return []conformance.Seed{
		{File: "2023-10-30/order.json", Call: conformance.Observe(order), Want: providers.Observation{
			ID: order, VendorState: "processing", State: providers.StateActive, Requests: []providers.Request{
				{ID: request, VendorState: "processing", State: providers.StateActive},
				{ID: done, VendorState: "completed", State: providers.StateCompleted},
			}}},
		{File: "2023-10-30/order-canceled.json", Call: conformance.Observe(order), Want: providers.Observation{
			ID: order, VendorState: "canceled", State: providers.StateCanceled,
			Requests: []providers.Request{{ID: request, VendorState: "canceled", State: providers.StateCanceled}},
		}},
		{File: "2023-10-30/order-cancel.json", Call: conformance.Cancel(order), Want: providers.Observation{
			ID: order, VendorState: "canceled", State: providers.StateCanceled, Requests: []providers.Request{
				{ID: request, VendorState: "canceled", State: providers.StateCanceled},
				{ID: done, VendorState: "completed", State: providers.StateCompleted},
			}}},
		{File: "errors/error.json", Status: 404, Call: conformance.Observe(order), Err: providers.KindNotFound},
		{File: "errors/error-invalid-fields.json", Status: 400, Call: conformance.Cancel(order), Err: providers.KindRejected},
	}
}

// reverifyFirstRequest reverifies the order's first verification request
// with its report id, through the Reverifier interface.
func reverifyFirstRequest(ctx context.Context, c providers.Client, sim conformance.Sim, orderID string) (providers.Observation, error) {
	tw := sim.(*twsim.Server)
	requestID := orderID // an unknown order has no requests: send its id as is
	if ids := tw.RequestIDs(orderID); len(ids) > 0 {
		requestID = ids[0]
	}
	// Only a providers.StateCompleted request has a report. Send a report id anyway, so
	// Truework judges the request's state rather than a missing field.
	reportID := tw.ReportID(requestID)
	if reportID == "" {
		reportID = "AAAAAAAAnoReport"
	}
	return conformance.Reverify(requestID, reportID)(ctx, c)
}
