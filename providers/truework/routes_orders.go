package truework

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ordersync/verification-operator/providers"
)

// orderRoutes are the endpoints of version 2023-10-30, which "moved
// verification management (create, read, cancel, reverify, etc.) from the
// verification top-level resource (/verification-requests) to the order
// top-level resource (/orders)". Orders are read and canceled as such. A
// verification request is reached through the order holding it, found with
// GET /orders?verification_id={id}, so that status.orderID of a
// reverification stays a request id in every version.
type orderRoutes struct{ api *api }

// ordersPath is the prefix of an order's routes.
const ordersPath = "/orders/"

var _ routes = orderRoutes{}

// observeOrder: GET /orders/{id}.
func (r orderRoutes) observeOrder(ctx context.Context, id string) (providers.Observation, error) {
	var o wireOrder
	if err := r.api.do(ctx, call{method: http.MethodGet, prefix: ordersPath, id: id}, &o); err != nil {
		return providers.Observation{}, err
	}
	return observeOrder(o, id)
}

// cancelOrder: PUT /orders/{id}/cancel.
func (r orderRoutes) cancelOrder(ctx context.Context, id string, body cancelRequest) (providers.Observation, error) {
	var o wireOrder
	if err := r.api.cancel(ctx, call{method: http.MethodPut, prefix: ordersPath, id: id, suffix: "/cancel", body: body}, &o); err != nil {
		return providers.Observation{}, err
	}
	return observeOrder(o, id)
}

// observeRequest reads the request out of the order holding it.
func (r orderRoutes) observeRequest(ctx context.Context, id string) (providers.Observation, error) {
	_, req, err := r.findRequest(ctx, id)
	if err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(req, id)
}

// cancelRequest cancels the order holding the request, which 2023-10-30
// cancels as a whole; so only when the order holds that request alone, as
// an order a reverification created does (an assumption, checked here).
func (r orderRoutes) cancelRequest(ctx context.Context, id string, body cancelRequest) (providers.Observation, error) {
	o, _, err := r.findRequest(ctx, id)
	if err != nil {
		return providers.Observation{}, err
	}
	if n := len(o.VerificationRequests); n != 1 {
		return providers.Observation{}, &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf(
			"verification request %s is one of the %d requests of order %s, and API version 2023-10-30 cancels whole orders only: "+
				"canceling it would cancel the others too; manage order %s with spec.orderID instead", id, n, o.ID, o.ID)}
	}
	var canceled wireOrder
	c := call{method: http.MethodPut, prefix: ordersPath, id: o.ID, suffix: "/cancel", body: body}
	if err := r.api.cancel(ctx, c, &canceled); err != nil {
		return providers.Observation{}, err
	}
	req, ok := requestIn(canceled, id)
	if !ok {
		return providers.Observation{}, &providers.Error{Kind: providers.KindTransient, StatusCode: http.StatusOK, Message: fmt.Sprintf(
			"Truework answered the cancel of order %s without its verification request %s", o.ID, id)}
	}
	return observeRequest(req, id)
}

// reverify: POST /orders/reverification with {"report_id"}, answered 201
// with a new order holding the new request.
//
// 2023-10-30 takes only the report, so the client first reads it (GET
// /reports/{id}) and refuses a report Truework does not know or that
// belongs to another request than requestID: reverifying it would bill a
// request that the controller manages, and looks for after a lost answer,
// as requestID's reverification. When the report cannot be read for now
// (a transient error), the reverification goes ahead unchecked rather than
// waiting on a check of the spec: Truework still refuses a report that
// cannot be reverified, and the call is the one the controller has
// recorded its intent for.
func (r orderRoutes) reverify(ctx context.Context, requestID, reportID string) (providers.Observation, error) {
	if err := r.reportOf(ctx, requestID, reportID); err != nil && providers.KindOf(err) != providers.KindTransient {
		return providers.Observation{}, err
	}
	var o wireOrder
	c := call{method: http.MethodPost, path: "/orders/reverification",
		header: http.Header{"Request-Sync": {"async"}}, body: map[string]string{"report_id": reportID}}
	if err := r.api.do(ctx, c, &o); err != nil {
		return providers.Observation{}, err
	}
	if n := len(o.VerificationRequests); n != 1 {
		// Created, and billed: only which request is ours is unknown. Not
		// a refusal, so the controller keeps its intent and looks it up.
		return providers.Observation{}, &providers.Error{Kind: providers.KindOutcomeUnknown, StatusCode: http.StatusCreated, Message: fmt.Sprintf(
			"Truework answered the reverification of request %s with order %s of %d verification requests, not one", requestID, o.ID, n)}
	}
	return observeRequest(o.VerificationRequests[0], "")
}

// reportOf checks that report reportID belongs to request requestID.
func (r orderRoutes) reportOf(ctx context.Context, requestID, reportID string) error {
	var report wireReport
	if err := r.api.do(ctx, call{method: http.MethodGet, prefix: "/reports/", id: reportID}, &report); err != nil {
		return err
	}
	switch owner := report.VerificationRequest.ID; {
	case owner == "":
		return &providers.Error{Kind: providers.KindTransient, StatusCode: http.StatusOK, Message: fmt.Sprintf(
			"Truework's report %s does not name its verification request", reportID)}
	case owner != requestID:
		return &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf(
			"report %s belongs to verification request %s, not %s: spec.reverification.reportID must be a report of spec.reverification.verificationRequestID",
			reportID, owner, requestID)}
	}
	return nil
}

// request reads one request out of the order holding it; a request without
// a loan_id of its own carries its order's.
func (r orderRoutes) request(ctx context.Context, id string) (wireRequest, error) {
	o, req, err := r.findRequest(ctx, id)
	req.LoanID = firstNonEmpty(req.LoanID, o.LoanID)
	return req, err
}

// page: GET /orders?limit=&offset= ("Get all orders"); each order is a
// group of its requests.
func (r orderRoutes) page(ctx context.Context, limit, offset int) (listPage, error) {
	var p wirePage[wireOrder]
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	if err := r.api.do(ctx, call{method: http.MethodGet, path: "/orders", query: q}, &p); err != nil {
		return listPage{}, err
	}
	out := listPage{next: p.Next}
	for _, o := range p.Results {
		group := make([]wireRequest, 0, len(o.VerificationRequests))
		for _, req := range o.VerificationRequests {
			req.LoanID = firstNonEmpty(req.LoanID, o.LoanID)
			group = append(group, req)
		}
		out.groups = append(out.groups, group)
	}
	return out, nil
}

// findRequest finds the order holding verification request id with GET
// /orders?verification_id={id} ("Filter by associated verification_id").
// No order at all is KindNotFound. Orders that do not hold the request
// mean the filter was not applied, and the request is not taken for
// missing on that: the error is transient.
func (r orderRoutes) findRequest(ctx context.Context, id string) (wireOrder, wireRequest, error) {
	if id == "" {
		return wireOrder{}, wireRequest{}, providers.Errorf(providers.KindRejected, 0, "empty Truework id")
	}
	var p wirePage[wireOrder]
	if err := r.api.do(ctx, call{method: http.MethodGet, path: "/orders", query: url.Values{"verification_id": {id}}}, &p); err != nil {
		return wireOrder{}, wireRequest{}, err
	}
	if len(p.Results) == 0 {
		return wireOrder{}, wireRequest{}, &providers.Error{Kind: providers.KindNotFound, StatusCode: http.StatusOK, Message: fmt.Sprintf(
			"Truework lists no order holding verification request %s", id)}
	}
	var found []wireOrder
	for _, o := range p.Results {
		if _, ok := requestIn(o, id); ok {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		return wireOrder{}, wireRequest{}, &providers.Error{Kind: providers.KindTransient, StatusCode: http.StatusOK, Message: fmt.Sprintf(
			"Truework's orders filtered by verification request %s hold it %d times, not once", id, len(found))}
	}
	req, _ := requestIn(found[0], id)
	return found[0], req, nil
}

// requestIn picks request id out of order o.
func requestIn(o wireOrder, id string) (wireRequest, bool) {
	for _, req := range o.VerificationRequests {
		if req.ID == id {
			return req, true
		}
	}
	return wireRequest{}, false
}
