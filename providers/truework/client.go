package truework

import (
	"context"
	"net/http"
	"net/url"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Client observes and cancels Truework orders (ids of GET /orders/{id}) and
// reverifies completed verification requests.
type Client struct{ api *api }

// RequestClient observes and cancels single verification requests (ids of
// GET /verification-requests/{id}/), such as the one a reverify creates.
type RequestClient struct{ api *api }

var (
	_ providers.Client     = (*Client)(nil)
	_ providers.Reverifier = (*Client)(nil)
	_ providers.Client     = (*RequestClient)(nil)
)

// Observe reads the order and sums up its verification requests.
func (c *Client) Observe(ctx context.Context, orderID string) (providers.Observation, error) {
	var o wireOrder
	if err := c.api.do(ctx, http.MethodGet, "/orders/", orderID, "", nil, nil, &o); err != nil {
		return providers.Observation{}, err
	}
	return observeOrder(o, orderID)
}

// Cancel cancels every verification request of the order that is not
// terminal. Truework refuses (400) an order whose requests are all terminal,
// which is also what a retry after a lost response meets: an order found
// canceled then counts as success.
func (c *Client) Cancel(ctx context.Context, orderID string, cn providers.Cancellation) (providers.Observation, error) {
	var o wireOrder
	err := c.api.do(ctx, http.MethodPut, "/orders/", orderID, "/cancel", nil, cancelBody(cn), &o)
	if err != nil {
		return providers.Settle(ctx, c, orderID, err, isCanceled)
	}
	return observeOrder(o, orderID)
}

// Reverify asks Truework to verify a completed request again. Truework
// answers 201 with a new verification request (in an order of its own); the
// Observation describes it, with ID the new request's id, to be managed
// through Reverified.
//
// Unlike Cancel this is NOT safe to repeat: every accepted call creates a new
// billable request, and Truework takes no idempotency key. After a lost
// response the caller must not call again blindly (see docs/design.md#exactly-once).
func (c *Client) Reverify(ctx context.Context, requestID, reportID string) (providers.Observation, error) {
	var r wireRequest
	header := http.Header{"Request-Sync": {"async"}}
	body := map[string]string{"report_id": reportID}
	if err := c.api.do(ctx, http.MethodPut, "/verification-requests/", requestID, "/reverify/", header, body, &r); err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(r, ""), nil
}

// Reverified returns a client for the same account that observes and
// cancels by verification request id, through the older
// /verification-requests/{id}/ endpoints. The controller uses it for the
// request a reverification starts from and for the one it creates.
func (c *Client) Reverified() providers.Client { return &RequestClient{api: c.api} }

// Observe reads one verification request.
func (c *RequestClient) Observe(ctx context.Context, requestID string) (providers.Observation, error) {
	var r wireRequest
	if err := c.api.do(ctx, http.MethodGet, "/verification-requests/", requestID, "/", nil, nil, &r); err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(r, requestID), nil
}

// Cancel cancels one verification request; a request found canceled after
// Truework's 400 counts as success, as for orders.
func (c *RequestClient) Cancel(ctx context.Context, requestID string, cn providers.Cancellation) (providers.Observation, error) {
	var r wireRequest
	err := c.api.do(ctx, http.MethodPut, "/verification-requests/", requestID, "/cancel/", nil, cancelBody(cn), &r)
	if err != nil {
		return providers.Settle(ctx, c, requestID, err, isCanceled)
	}
	return observeRequest(r, requestID), nil
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

// api is the HTTP side shared by Client and RequestClient.
type api struct{ http vendorhttp.Client }

// do calls prefix + escaped id + suffix. The id comes from a user's spec, so
// it is escaped to stay one path segment ("../" cannot reach another route).
func (a *api) do(ctx context.Context, method, prefix, id, suffix string, header http.Header, body, out any) error {
	if id == "" {
		return providers.Errorf(providers.KindRejected, 0, "empty Truework id")
	}
	_, err := a.http.Do(ctx, vendorhttp.Request{
		Method: method,
		Path:   prefix + url.PathEscape(id) + suffix,
		Header: header,
		Body:   body,
	}, out)
	return err
}

// observeOrder builds the Observation of an order from its requests.
func observeOrder(o wireOrder, requestedID string) (providers.Observation, error) {
	if len(o.VerificationRequests) == 0 {
		// Not documented; an order is created with its requests, so this is
		// a partial answer worth reading again rather than a final state.
		return providers.Observation{}, providers.Errorf(providers.KindTransient, http.StatusOK,
			"Truework returned the order without verification requests")
	}
	obs := providers.Observation{ID: firstNonEmpty(o.ID, requestedID)}
	for _, r := range o.VerificationRequests {
		obs.Requests = append(obs.Requests, requestOf(r))
	}
	obs.VendorState, obs.State = orderState(obs.Requests)
	if len(o.VerificationRequests) == 1 {
		obs.CompletedAt = o.VerificationRequests[0].DateOfCompletion.t
	}
	return obs, nil
}

// observeRequest builds the Observation of a single verification request.
func observeRequest(r wireRequest, requestedID string) providers.Observation {
	req := requestOf(r)
	req.ID = firstNonEmpty(req.ID, requestedID)
	return providers.Observation{
		ID:          req.ID,
		VendorState: req.VendorState,
		State:       req.State,
		Requests:    []providers.Request{req},
		CompletedAt: r.DateOfCompletion.t,
	}
}

func requestOf(r wireRequest) providers.Request {
	word := string(r.State)
	return providers.Request{ID: r.ID, VendorState: word, State: normalize(word)}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
