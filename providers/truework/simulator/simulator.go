// Package simulator is Truework's API as an in-memory HTTP server, true to
// docs/vendors.md#truework, Truework's API reference for version 2023-10-30
// and its older pages "Cancel an order" and "Reverify a Verification".
//
// Every API key is pinned to a version (TestAPIKey and LiveAPIKey to
// 2023-10-30, LegacyTestAPIKey to 2022-08-01, others as PinCredentials
// says). A call is served in the version its Accept header asks for, else
// in the key's; a version older than the key's, or unknown, is 406. Each
// route is served only under the versions that have it, else 404:
//
//   - 2023-10-30: GET /orders/{id}, GET /orders (limit, offset,
//     verification_id, search_key), PUT /orders/{id}/cancel,
//     POST /orders/reverification (Request-Sync: async, {"report_id"}),
//     GET /reports/{id}
//   - 2019-10-15, 2020-12-07, 2022-08-01: GET /verification-requests/
//     (limit, offset), GET /verification-requests/{id}/,
//     PUT /verification-requests/{id}/cancel/,
//     PUT /verification-requests/{id}/reverify/ (Request-Sync: async)
//
// Bodies follow the documented shapes of their version (2023-10-30: enum
// words as {canonical_value, raw_value}; older: plain strings), PII
// included (fixed fake values, listed in PII); the truework package's
// tests compare their skeleton with the documented examples in its
// testdata/. Every response of the API, errors and 429s included, is signed
// (sign.go). Each key is limited to 10 requests/s (429 with Retry-After: 1).
//
// Every order has a loan_id of its own ("loan-<n>"), which its requests
// serve and a reverification copies (an assumption: see newOrderLocked).
// Lists are calls on no order: they show in Stats but in no call log.
//
// Time: a request completed through the admin API or CreateOrder gets
// date_of_completion = Clock.Now(). To test the 90-day reverify window, move
// the kit's clock forward (Clock.Advance, or POST /_sandbox/clock); there is
// no way to set a completion date directly.
package simulator

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// RateLimit is Truework's published limit per account, applied per key.
const RateLimit = 10

// ReverifyWindow is how long after completion a request can be reverified.
const ReverifyWindow = 90 * 24 * time.Hour

// Server is the Truework simulator. The embedded kit provides the admin API,
// faults, the call log, stats, the rate limiter and the Clock.
type Server struct {
	*simkit.Server

	keys   *apiKeys
	signer signer

	mu       sync.Mutex
	orders   map[string]*order
	requests map[string]*request
	reports  map[string]*request
	// orderSeq numbers loan ids, requestSeq requests in creation order.
	orderSeq, requestSeq int
}

// New returns a simulator that accepts TestAPIKey, LiveAPIKey and
// LegacyTestAPIKey, and signs with the process's key (SigningKeyID).
func New() *Server {
	s := &Server{
		keys:     newAPIKeys(),
		orders:   map[string]*order{},
		requests: map[string]*request{},
		reports:  map[string]*request{},
	}
	s.SetSigningKey(SigningKeyID, processKey)
	s.Server = simkit.New(s, RateLimit, RateLimit)
	s.route("GET /orders/{id}", ordersVersions, s.getOrder)
	s.route("GET /orders", ordersVersions, s.listOrders)
	s.route("PUT /orders/{id}/cancel", ordersVersions, s.cancelOrder)
	s.route("POST /orders/reverification", ordersVersions, s.reverifyReport)
	s.route("GET /reports/{id}", ordersVersions, s.getReport)
	// {$}: the older routes end in a slash and match only that path, not
	// the subtree a bare trailing slash means to net/http.
	s.route("GET /verification-requests/{$}", requestsVersions, s.listRequests)
	s.route("GET /verification-requests/{id}/{$}", requestsVersions, s.getRequest)
	s.route("PUT /verification-requests/{id}/cancel/{$}", requestsVersions, s.cancelRequest)
	s.route("PUT /verification-requests/{id}/reverify/{$}", requestsVersions, s.reverifyRequest)
	return s
}

// WriteError answers in Truework's error format, signed.
func (s *Server) WriteError(w http.ResponseWriter, status int, message string) {
	s.writeJSON(w, status, errorBody{Error: errorDetail{Message: message}})
}

// writeInvalidFields is Truework's 400 for a body that fails validation.
func (s *Server) writeInvalidFields(w http.ResponseWriter, fields map[string][]string) {
	s.writeJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{
		Message: "Invalid field values provided", InvalidFields: fields,
	}})
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Message       string              `json:"message"`
	InvalidFields map[string][]string `json:"invalid_fields,omitempty"`
}

// route registers an API route served under the given versions. Calls are
// taken in Truework's order: an unauthenticated call is refused before it
// costs the key a token, and a call in a version without the route is 404
// like a path that does not exist.
func (s *Server) route(pattern string, servedIn []string, h http.HandlerFunc) {
	s.Handle(pattern, func(w http.ResponseWriter, r *http.Request) {
		key, pinned, problem := s.authenticate(r.Header.Get("Authorization"))
		if problem != "" {
			s.WriteError(w, http.StatusUnauthorized, problem)
			return
		}
		// Allow takes the kit's lock: never call it while holding s.mu.
		if !s.Allow(key) {
			w.Header().Set("Retry-After", "1")
			s.WriteError(w, http.StatusTooManyRequests, "Request was throttled: this API key is limited to 10 requests per second.")
			return
		}
		version, problem := negotiate(r.Header.Get("Accept"), pinned)
		if problem != "" {
			s.WriteError(w, http.StatusNotAcceptable, problem)
			return
		}
		if !slices.Contains(servedIn, version) {
			s.writeNotFound(w)
			return
		}
		h(w, r)
	})
}

// writeNotFound answers an id, or a route, the simulator does not know.
func (s *Server) writeNotFound(w http.ResponseWriter) {
	s.WriteError(w, http.StatusNotFound, "Not found.")
}

// writeFrozen answers a call on an order whose target froze their SSN.
func (s *Server) writeFrozen(w http.ResponseWriter) {
	s.WriteError(w, http.StatusUnavailableForLegalReasons,
		"The target of this verification has frozen their SSN; Truework cannot process it.")
}

// reachableLocked answers 404 for a missing order (nil) and 451 for a
// frozen one, and reports whether the call on o may go on.
func (s *Server) reachableLocked(w http.ResponseWriter, o *order) bool {
	switch {
	case o == nil:
		s.writeNotFound(w)
	case o.frozen:
		s.writeFrozen(w)
	default:
		return true
	}
	return false
}

// orderHolding is the order holding q; nil for no request.
func orderHolding(q *request) *order {
	if q == nil {
		return nil
	}
	return q.order
}

func unknownState(state string) error {
	return fmt.Errorf("%w %q: Truework states are %s", simkit.ErrUnknownState, state, strings.Join(allStates, ", "))
}
