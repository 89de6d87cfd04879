package truework

import (
	"context"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// Client manages one Truework account in the API version its key is pinned
// to (routes): what it observes and cancels by spec.orderID is an order in
// 2023-10-30 and a verification request in the older versions, which have
// no orders endpoint. It reverifies completed requests, and Reverified
// returns a client for requests by id, for the request a reverification
// starts from and the one it creates.
//
// The controller keeps one Client per provider across reconciles, so a
// search for a lost reverification that a reconcile could not finish goes
// on in the next (searches, find.go). A Client is safe for concurrent use.
type Client struct {
	routes routes
	// now is the client's clock (nil: time.Now): when a Retry-After ends,
	// when a kept search expires.
	now      func() time.Time
	searches searches
}

// RequestClient observes and cancels single verification requests by id,
// in every version.
type RequestClient struct {
	routes routes
	now    func() time.Time
}

// clock is the client's time, time.Now unless a test set another.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

var (
	_ providers.Client     = (*Client)(nil)
	_ providers.Reverifier = (*Client)(nil)
	_ providers.Client     = (*RequestClient)(nil)
)

// routes are one API version's endpoints for each thing the client does:
// orderRoutes (2023-10-30, /orders) and requestRoutes (older versions,
// /verification-requests).
type routes interface {
	// observeOrder and cancelOrder act on what spec.orderID names.
	observeOrder(ctx context.Context, id string) (providers.Observation, error)
	cancelOrder(ctx context.Context, id string, body cancelRequest) (providers.Observation, error)
	// observeRequest and cancelRequest act on one verification request.
	observeRequest(ctx context.Context, id string) (providers.Observation, error)
	cancelRequest(ctx context.Context, id string, body cancelRequest) (providers.Observation, error)
	// reverify creates a request reverifying requestID's report reportID.
	reverify(ctx context.Context, requestID, reportID string) (providers.Observation, error)
	// request reads one verification request, with its order's loan_id
	// when it has none of its own.
	request(ctx context.Context, id string) (wireRequest, error)
	// page reads the account's verification requests from offset,
	// grouped by order, newest first (find.go).
	page(ctx context.Context, limit, offset int) (listPage, error)
}

// Observe reads what orderID names (an order in 2023-10-30, a verification
// request before) and sums up its verification requests.
func (c *Client) Observe(ctx context.Context, orderID string) (providers.Observation, error) {
	return c.routes.observeOrder(ctx, orderID)
}

// Cancel cancels every verification request of the order that is not
// terminal. Truework refuses (400) an order whose requests are all terminal,
// which is also what a retry after a lost response meets: an order found
// canceled then counts as success.
func (c *Client) Cancel(ctx context.Context, orderID string, cn providers.Cancellation) (providers.Observation, error) {
	ctx, _ = providers.WithHold(ctx, clock(c.now)) // the read that settles a refusal waits out its Retry-After
	obs, err := c.routes.cancelOrder(ctx, orderID, cancelBody(cn))
	if err != nil {
		return providers.Settle(ctx, c, orderID, err, isCanceled)
	}
	return obs, nil
}

// Reverify asks Truework to verify a completed request again. Truework
// answers 201 with a new verification request (in an order of its own); the
// Observation describes it, with ID the new request's id, to be managed
// through Reverified.
//
// Unlike Cancel this is NOT safe to repeat: every accepted call creates a new
// billable request, and Truework takes no idempotency key. After a lost
// response the caller must not call again blindly (see docs/design.md#exactly-once).
//
// In 2023-10-30 it is two calls, the report's read and the reverification:
// when the read's answer asks to wait (a Retry-After, on any status), the
// reverification is not sent within the wait; the error is then
// KindRateLimited and NotSent, so the caller knows nothing was created.
func (c *Client) Reverify(ctx context.Context, requestID, reportID string) (providers.Observation, error) {
	if requestID == "" || reportID == "" {
		return providers.Observation{}, providers.Errorf(providers.KindRejected, 0, "empty Truework request or report id")
	}
	ctx, _ = providers.WithHold(ctx, clock(c.now))
	return c.routes.reverify(ctx, requestID, reportID)
}

// Reverified returns a client for the same account that observes and
// cancels by verification request id. The controller uses it for the
// request a reverification starts from and for the one it creates.
func (c *Client) Reverified() providers.Client { return &RequestClient{routes: c.routes, now: c.now} }

// Observe reads one verification request.
func (c *RequestClient) Observe(ctx context.Context, requestID string) (providers.Observation, error) {
	return c.routes.observeRequest(ctx, requestID)
}

// Cancel cancels one verification request; a request found canceled after
// Truework's 400 counts as success, as for orders.
//
// In 2023-10-30 that is the lookup of the request's order, then its
// cancel: neither that cancel nor the read that settles a refusal goes
// within a Retry-After an earlier answer sent.
func (c *RequestClient) Cancel(ctx context.Context, requestID string, cn providers.Cancellation) (providers.Observation, error) {
	ctx, _ = providers.WithHold(ctx, clock(c.now))
	obs, err := c.routes.cancelRequest(ctx, requestID, cancelBody(cn))
	if err != nil {
		return providers.Settle(ctx, c, requestID, err, isCanceled)
	}
	return obs, nil
}

func isCanceled(o providers.Observation) bool { return o.State == providers.StateCanceled }

// cancelRequest is the body of both cancel endpoints.
type cancelRequest struct {
	Reason  string  `json:"cancellation_reason"`
	Details *string `json:"cancellation_details"`
}

// cancelBody fills in Truework's catch-all reason when the user gave none
// (the field is required) and sends null details rather than "".
func cancelBody(cn providers.Cancellation) cancelRequest {
	body := cancelRequest{Reason: cn.Reason}
	if body.Reason == "" {
		body.Reason = "other"
	}
	if cn.Details != "" {
		body.Details = &cn.Details
	}
	return body
}
