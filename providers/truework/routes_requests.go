package truework

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/ordersync/verification-operator/providers"
)

// requestRoutes are the endpoints of the versions before 2023-10-30
// (2019-10-15, 2020-12-07, 2022-08-01), which manage verification requests
// under /verification-requests and have no /orders: what spec.orderID
// names is a verification request, so orders and requests are observed and
// canceled alike. Reverify is the route the "Reverify a Verification" page
// documents for them (seed truework-reverify-verification.txt).
type requestRoutes struct{ api *api }

// requestsPath is the prefix of the verification requests' routes.
const requestsPath = "/verification-requests/"

var _ routes = requestRoutes{}

func (r requestRoutes) observeOrder(ctx context.Context, id string) (providers.Observation, error) {
	return r.observeRequest(ctx, id)
}

func (r requestRoutes) cancelOrder(ctx context.Context, id string, body cancelRequest) (providers.Observation, error) {
	return r.cancelRequest(ctx, id, body)
}

// observeRequest: GET /verification-requests/{id}/.
func (r requestRoutes) observeRequest(ctx context.Context, id string) (providers.Observation, error) {
	req, err := r.request(ctx, id)
	if err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(req, id)
}

// cancelRequest: PUT /verification-requests/{id}/cancel/.
func (r requestRoutes) cancelRequest(ctx context.Context, id string, body cancelRequest) (providers.Observation, error) {
	var req wireRequest
	c := call{method: http.MethodPut, prefix: requestsPath, id: id, suffix: "/cancel/", body: body}
	if err := r.api.cancel(ctx, c, &req); err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(req, id)
}

// reverify: PUT /verification-requests/{id}/reverify/ with Request-Sync:
// async and {"report_id"}; 201 with the new request.
func (r requestRoutes) reverify(ctx context.Context, requestID, reportID string) (providers.Observation, error) {
	var req wireRequest
	c := call{method: http.MethodPut, prefix: requestsPath, id: requestID, suffix: "/reverify/",
		header: http.Header{"Request-Sync": {"async"}}, body: map[string]string{"report_id": reportID}}
	if err := r.api.do(ctx, c, &req); err != nil {
		return providers.Observation{}, err
	}
	return observeRequest(req, "")
}

func (r requestRoutes) request(ctx context.Context, id string) (wireRequest, error) {
	var req wireRequest
	err := r.api.do(ctx, call{method: http.MethodGet, prefix: requestsPath, id: id, suffix: "/"}, &req)
	return req, err
}

// page: GET /verification-requests/?limit=&offset= ("Get All
// Verifications"); each request is a group of its own.
func (r requestRoutes) page(ctx context.Context, limit, offset int) (listPage, error) {
	var p wirePage[wireRequest]
	q := url.Values{"limit": {strconv.Itoa(limit)}, "offset": {strconv.Itoa(offset)}}
	if err := r.api.do(ctx, call{method: http.MethodGet, path: requestsPath, query: q}, &p); err != nil {
		return listPage{}, err
	}
	out := listPage{next: p.Next}
	for _, req := range p.Results {
		out.groups = append(out.groups, []wireRequest{req})
	}
	return out, nil
}
