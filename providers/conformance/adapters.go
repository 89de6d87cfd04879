package conformance

import (
	"context"
	"fmt"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	acsim "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
	"github.com/ordersync/verification-operator/providers/truv"
	truvsim "github.com/ordersync/verification-operator/providers/truv/simulator"
	"github.com/ordersync/verification-operator/providers/txcloud"
	txsim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

// The adapters restate docs/vendors.md as tables, in the vendors' own words,
// rather than importing the clients' constants: a mistake in a client's
// table must not be mirrored in its expectations.

const (
	active    = providers.StateActive
	canceled  = providers.StateCanceled
	closed    = providers.StateClosed
	completed = providers.StateCompleted
	expired   = providers.StateExpired
	failed    = providers.StateFailed
)

// Truework is the Truework adapter: an order holds verification requests and has no state of its
// own; the client and simulator sum the requests up the same way. Reverify
// works on a completed request and answers with a new one.
func Truework() Adapter {
	return Adapter{
		Name:           truework.Name,
		Vendor:         truework.Vendor(),
		NewSimulator:   func() Sim { return twsim.New() },
		BaseURL:        sameURL,
		Environment:    "sandbox",
		Credentials:    map[string][]byte{"apiKey": []byte(twsim.TestAPIKey)},
		BadCredentials: map[string][]byte{"apiKey": []byte("tw_sk_test_00000000000000000000000000000000")},
		// A production secret key in a sandbox provider.
		WrongEnvironment: map[string][]byte{"apiKey": []byte(twsim.LiveAPIKey)},
		States: map[string]providers.State{
			"pending-approval": active, "action-required": active, "processing": active, "other": active,
			"completed": completed, "canceled": canceled, "invalid": failed,
		},
		Parts:     true,
		UnknownID: "AAAAAAAAQnIAAYd5Y0000000000000000000000000000000000000000",
		Actions: []Action{
			{Name: providers.ActionCancel, Invoke: CancelOrder, Repeatable: true, From: map[string]Outcome{
				"pending-approval": Becomes(canceled, "canceled"),
				"action-required":  Becomes(canceled, "canceled"),
				"processing":       Becomes(canceled, "canceled"),
				"other":            Becomes(canceled, "canceled"),
				"canceled":         Becomes(canceled, "canceled"), // already there: success
				"completed":        Refused(),
				"invalid":          Refused(),
			}},
			{Name: providers.ActionReverify, Invoke: reverifyFirstRequest, From: map[string]Outcome{
				// The answer is the new request; the order reverified stays completed.
				"completed":        {State: active, VendorState: "pending-approval", Leaves: "completed"},
				"pending-approval": Refused(),
				"action-required":  Refused(),
				"processing":       Refused(),
				"other":            Refused(),
				"canceled":         Refused(),
				"invalid":          Refused(),
			}},
		},
		NewComposite: func(sim Sim, parts []string) (string, error) {
			tw := sim.(*twsim.Server)
			id, err := tw.CreateOrder(parts[0])
			for _, p := range parts[1:] {
				if err == nil {
					_, err = tw.AddRequest(id, p)
				}
			}
			return id, err
		},
		Composites: []Composite{
			// Cancel cancels the requests still moving and leaves the rest.
			{Parts: []string{"processing", "completed"}, VendorState: "processing", State: active,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Becomes(canceled, "canceled")}},
			{Parts: []string{"completed", "canceled"}, VendorState: "canceled", State: canceled,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Becomes(canceled, "canceled")}},
			{Parts: []string{"completed", "invalid"}, VendorState: "completed", State: completed,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Refused()}},
		},
		Seeds: trueworkSeeds(),
		PII:   twsim.PII,
	}
}

// Truework's seeds carry no example JSON; these bodies were composed from
// the seeds' field lists by the truework package (its testdata/README.md).
func trueworkSeeds() []Seed {
	const (
		order   = "AAAAAAAAQnIAAYd5YDFVbNp5ls-iMKkX6EuxRcS0lWHtavg12A2Le7m1"
		request = "AAAAAAAAQnIAAYd5YHFVOm8PNX2ecFbEjqV__upOKUE8YE_IK2GwSQTP"
		done    = "AAAAAAAAQnIAAYd5YKx7Qm1Tz9Vb3Nc5Ld8Rf2Gh6Jk0Wp4Ys7Ua1Ie3"
		created = "AAAAAAAAQnIAAYd5YLmN2kXqW8rT0pZ3vB6cH1sJ4uE7yD9fA5gK2oMw" // by the reverify
	)
	twoRequests := providers.Observation{ID: order, VendorState: "processing", State: active, Requests: []providers.Request{
		{ID: request, VendorState: "processing", State: active},
		{ID: done, VendorState: "completed", State: completed},
	}}
	return []Seed{
		{File: "truework-cancel-order.json", Call: cancel(order), Want: providers.Observation{
			ID: order, VendorState: "canceled", State: canceled,
			Requests: []providers.Request{{ID: request, VendorState: "canceled", State: canceled}},
		}},
		{File: "truework-reverify.json", Status: 201, Call: reverify(request, "report"), Want: providers.Observation{
			ID: created, VendorState: "pending-approval", State: active,
			Requests: []providers.Request{{ID: created, VendorState: "pending-approval", State: active}},
		}},
		{File: "truework-order-two-requests.json", Call: observe(order), Want: twoRequests},
		// The same order as an unversioned call sees it: plain-string states.
		{File: "truework-order-legacy-strings.json", Call: observe(order), Want: twoRequests},
	}
}

// reverifyFirstRequest reverifies the order's first verification request
// with its report id, through the Reverifier interface.
func reverifyFirstRequest(ctx context.Context, c providers.Client, sim Sim, orderID string) (providers.Observation, error) {
	tw := sim.(*twsim.Server)
	requestID := orderID // an unknown order has no requests: send its id as is
	if ids := tw.RequestIDs(orderID); len(ids) > 0 {
		requestID = ids[0]
	}
	// Only a completed request has a report. Send a report id anyway, so
	// Truework judges the request's state rather than a missing field.
	reportID := tw.ReportID(requestID)
	if reportID == "" {
		reportID = "AAAAAAAAnoReport"
	}
	return reverify(requestID, reportID)(ctx, c)
}

// Truv is the Truv adapter: an order's status is derived from its employers. Cancel is allowed
// only while every employer is open, which a capability table keyed by the
// order's status cannot say: a partly finished order reads "pending" yet is
// refused (see the composite below and truv.Vendor).
func Truv() Adapter {
	const seedOrder, seedEmployer = "39aa1486ccca4bc19cda071ffc1ba392", "ad9f14440d624ec3b0f66e81e44518c7"
	return Adapter{
		Name:         truv.Name,
		Vendor:       truv.Vendor(),
		NewSimulator: func() Sim { return truvsim.New() },
		BaseURL:      sameURL, // paths start with /v1/
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
			"pending": active, "sent": active, "completed": completed, "canceled": canceled,
			"expired": expired, "error": failed, "no_data": failed, "skipped": failed,
		},
		Parts:     true,
		UnknownID: "00000000000000000000000000000000",
		Actions: []Action{
			{Name: providers.ActionCancel, Invoke: CancelOrder, Repeatable: true, From: map[string]Outcome{
				"pending":   Becomes(canceled, "canceled"),
				"sent":      Becomes(canceled, "canceled"),
				"canceled":  Becomes(canceled, "canceled"), // already there: success
				"completed": Refused(),
				"expired":   Refused(),
				"error":     Refused(),
				"no_data":   Refused(),
				"skipped":   Refused(),
			}},
		},
		NewComposite: func(sim Sim, parts []string) (string, error) {
			return sim.(*truvsim.Server).CreateOrderWithEmployers(parts...)
		},
		Composites: []Composite{
			{Parts: []string{"sent", "pending"}, VendorState: "sent", State: active,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Becomes(canceled, "canceled")}},
			// Still open, yet not cancelable: one employer already finished.
			{Parts: []string{"completed", "pending"}, VendorState: "pending", State: active,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Refused()}},
			{Parts: []string{"completed", "error"}, VendorState: "completed", State: completed,
				Outcomes: map[providers.Action]Outcome{providers.ActionCancel: Refused()}},
		},
		Seeds: []Seed{
			// The documented answer to a cancel still shows the employer pending.
			{File: "truv-cancel-order.json", Call: cancel(seedOrder), Want: providers.Observation{
				ID: seedOrder, VendorState: "pending", State: active,
				Requests: []providers.Request{{ID: seedEmployer, VendorState: "pending", State: active}},
			}, PII: []string{"123456789", "1234567890", "john.doe@example.com", "1992-03-03", "6503087300", "1 Morgan Ave"}},
		},
		PII: truvsim.PII,
	}
}

// AccountChek is the AccountChek adapter: cancel before the borrower acts, close once they have; both
// are terminal. The API lives under /v1.
func AccountChek() Adapter {
	const seedOrder = "b943cae2-a8f5-e911-b5e9-0003ff4f1b49"
	seedPII := []string{"johndoe@gmail.com", "1983-05-24", "706-123-4567", "1122334455", "1234 Hawthorne Avenue"}
	return Adapter{
		Name:         accountchek.Name,
		Vendor:       accountchek.Vendor(),
		NewSimulator: func() Sim { return acsim.New() },
		BaseURL:      withV1,
		Environment:  "sandbox",
		Credentials: map[string][]byte{
			"username": []byte(acsim.TestUsername), "password": []byte(acsim.TestPassword),
			"integratorID": []byte(acsim.TestIntegratorID),
		},
		BadCredentials: map[string][]byte{"username": []byte("unknown-verifier"), "password": []byte("not-the-password")},
		// CTE and production users have the same form: nothing to tell apart.
		WrongEnvironment: nil,
		States: map[string]providers.State{
			"building": active, "opened": active, "inprogress": active, "closed": closed, "canceled": canceled,
		},
		UnknownID: "00000000-0000-4000-8000-000000000000",
		Actions: []Action{
			{Name: providers.ActionCancel, Invoke: CancelOrder, Repeatable: true, From: map[string]Outcome{
				"building":   Becomes(canceled, "canceled"),
				"opened":     Becomes(canceled, "canceled"),
				"canceled":   Becomes(canceled, "canceled"), // already there: success
				"inprogress": Refused(),
				"closed":     Refused(),
			}},
			{Name: providers.ActionClose, Invoke: CloseOrder, Repeatable: true, From: map[string]Outcome{
				"opened":     Becomes(closed, "closed"),
				"inprogress": Becomes(closed, "closed"),
				"closed":     Becomes(closed, "closed"), // already there: success
				"building":   Refused(),
				"canceled":   Refused(),
			}},
		},
		Seeds: []Seed{
			{File: "accountchek-cancel-order.json", Call: cancel(seedOrder),
				Want: providers.Observation{ID: seedOrder, VendorState: "canceled", State: canceled}, PII: seedPII},
			{File: "accountchek-close-order.json", Call: closeOrder(seedOrder),
				Want: providers.Observation{ID: seedOrder, VendorState: "closed", State: closed}, PII: seedPII},
			// The documented 422 body (its placeholder text) is a refusal.
			{File: "accountchek-error.json", Status: 422, Call: cancel(seedOrder), Err: providers.KindRejected},
		},
		PII: acsim.PII,
	}
}

// TxCloud is the TxCloud adapter: one verification per order, cancelable only while pending. It
// has no canceled status: a canceled verification reads "expired"
// (Capabilities.CanceledReadsAs), and only the cancel's own answer says
// canceled. The API lives under /v1.
func TxCloud() Adapter {
	const seedID = "ver_a1b2c3d4e5f6"
	seedPII := []string{"AE123456", "Mohammed", "El Amrani"}
	return Adapter{
		Name:             txcloud.Name,
		Vendor:           txcloud.Vendor(),
		NewSimulator:     func() Sim { return txsim.New() },
		BaseURL:          withV1,
		Environment:      "sandbox",
		Credentials:      map[string][]byte{"apiKey": []byte(txsim.TestAPIKey)},
		BadCredentials:   map[string][]byte{"apiKey": []byte("txc_test_00000000000000000000")},
		WrongEnvironment: map[string][]byte{"apiKey": []byte(txsim.LiveAPIKey)},
		States: map[string]providers.State{
			"pending": active, "review": active, "verified": completed, "rejected": failed, "expired": expired, "error": failed,
		},
		UnknownID: "ver_000000000000",
		Actions: []Action{
			{Name: providers.ActionCancel, Invoke: CancelOrder, Repeatable: true, From: map[string]Outcome{
				"pending": Becomes(canceled, "expired"),
				// A retry after a lost answer meets "expired" and cannot tell
				// it from expiry on its own; either way the verification is
				// over, so the client calls it canceled (txcloud.Client.Cancel).
				"expired":  Becomes(canceled, "expired"),
				"review":   Refused(),
				"verified": Refused(),
				"rejected": Refused(),
				"error":    Refused(),
			}},
		},
		Seeds: []Seed{
			// The documented example has no status at all: read, it is an
			// error (not a pending verification); answering a cancel, the
			// client reads the verification, here the same body again.
			{File: "txcloud-cancel-verification.json", Call: cancel(seedID), Err: providers.KindTransient, PII: seedPII},
			{File: "txcloud-cancel-verification.json", Call: observe(seedID), Err: providers.KindTransient, PII: seedPII},
			{File: "txcloud-verification-pending.json", Call: observe(seedID),
				Want: providers.Observation{ID: seedID, VendorState: "pending", State: active}, PII: seedPII},
		},
		PII: txsim.PII,
	}
}

// CancelOrder is the Invoke of every vendor's Cancel.
func CancelOrder(ctx context.Context, c providers.Client, _ Sim, orderID string) (providers.Observation, error) {
	return cancel(orderID)(ctx, c)
}

// CloseOrder is the Invoke of Close, for vendors whose client is a Closer.
func CloseOrder(ctx context.Context, c providers.Client, _ Sim, orderID string) (providers.Observation, error) {
	return closeOrder(orderID)(ctx, c)
}

// The calls seeds are fed through.

func observe(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		return c.Observe(ctx, id)
	}
}

func cancel(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		return c.Cancel(ctx, id, providers.Cancellation{Reason: "wrong-info", Details: "conformance suite"})
	}
}

func closeOrder(id string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		closer, ok := c.(providers.Closer)
		if !ok {
			return providers.Observation{}, fmt.Errorf("%T does not implement providers.Closer", c)
		}
		return closer.Close(ctx, id)
	}
}

func reverify(requestID, reportID string) func(context.Context, providers.Client) (providers.Observation, error) {
	return func(ctx context.Context, c providers.Client) (providers.Observation, error) {
		r, ok := c.(providers.Reverifier)
		if !ok {
			return providers.Observation{}, fmt.Errorf("%T does not implement providers.Reverifier", c)
		}
		return r.Reverify(ctx, requestID, reportID)
	}
}

func sameURL(serverURL string) string { return serverURL }
func withV1(serverURL string) string  { return serverURL + "/v1" }
