// Package simulator is Truework's API as an in-memory HTTP server, true to
// docs/vendors.md#truework and Truework's pages "Cancel an order" and
// "Reverify a Verification":
//
//   - GET /orders/{id}, PUT /orders/{id}/cancel
//   - GET /verification-requests/{id}/, PUT /verification-requests/{id}/cancel/
//   - PUT /verification-requests/{id}/reverify/ (header Request-Sync: async)
//   - GET /verification-requests/?limit=&offset= ("Get All Verifications",
//     deprecated API): {count, next, previous, results}, newest first
//
// Every order has a loan_id of its own ("loan-<n>"), which its requests
// serve and a reverification copies (an assumption: see newOrderLocked).
// The list is a call on no order, so it shows in Stats but in no call log.
//
// It authenticates Bearer secret keys (publishable and unknown keys: 401),
// negotiates the API version from the Accept header (older than 2023-10-30:
// 406; 2023-10-30: state words as {canonical_value, raw_value} objects; no
// version: plain strings), limits each key to 10 requests/s (429 with
// Retry-After: 1), and answers with bodies shaped like the seeds, PII
// included (fixed fake values, listed in PII).
//
// Time: a request completed through the admin API or CreateOrder gets
// date_of_completion = Clock.Now(). To test the 90-day reverify window, move
// the kit's clock forward (Clock.Advance, or POST /_sandbox/clock); there is
// no way to set a completion date directly.
package simulator

import (
	"fmt"
	"mime"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Credentials the simulator accepts by default. TestAPIKey is a sandbox
// secret key, LiveAPIKey a production one (the simulator stands in for
// either environment). PublishableKey is refused like Truework refuses
// publishable keys on the API; it exists for tests of that refusal.
const (
	TestAPIKey     = "tw_sk_test_5f2b8c0e9a7d4f1b3c6e8a0d2f4b6c8e"
	LiveAPIKey     = "tw_sk_9c1e4a7b2d5f8e0a3c6b9d2e5f8a1c4b"
	PublishableKey = "tw_pk_test_3a6d9c2f5b8e1a4d7c0f3b6e9a2d5c8f"
)

// APIVersion is the version pinned to every simulated key.
const APIVersion = "2023-10-30"

// RateLimit is Truework's published limit per account, applied per key.
const RateLimit = 10

// ReverifyWindow is how long after completion a request can be reverified.
const ReverifyWindow = 90 * 24 * time.Hour

// Server is the Truework simulator. The embedded kit provides the admin API,
// faults, the call log, stats, the rate limiter and the Clock.
type Server struct {
	*simkit.Server

	mu       sync.Mutex
	apiKeys  *simkit.Credentials
	orders   map[string]*order
	requests map[string]*request
	// orderSeq numbers loan ids, requestSeq requests in creation order.
	orderSeq, requestSeq int
}

// New returns a simulator that accepts TestAPIKey and LiveAPIKey.
func New() *Server {
	s := &Server{
		apiKeys:  simkit.NewCredentials(map[string]string{TestAPIKey: "", LiveAPIKey: ""}),
		orders:   map[string]*order{},
		requests: map[string]*request{},
	}
	s.Server = simkit.New(s, RateLimit, RateLimit)
	s.Handle("GET /orders/{id}", s.api(s.getOrder))
	s.Handle("PUT /orders/{id}/cancel", s.api(s.cancelOrder))
	// {$}: Truework's older routes end in a slash and match only that path,
	// not the subtree a bare trailing slash means to net/http.
	s.Handle("GET /verification-requests/{$}", s.api(s.listRequests))
	s.Handle("GET /verification-requests/{id}/{$}", s.api(s.getRequest))
	s.Handle("PUT /verification-requests/{id}/cancel/{$}", s.api(s.cancelRequest))
	s.Handle("PUT /verification-requests/{id}/reverify/{$}", s.api(s.reverify))
	return s
}

// AddCredentials makes the simulator accept another secret key, as after a
// key rotation in the Truework dashboard.
func (s *Server) AddCredentials(apiKey string) {
	s.apiKeys.Set(apiKey, "")
}

// RevokeCredentials makes the simulator refuse a key it accepted.
func (s *Server) RevokeCredentials(apiKey string) {
	s.apiKeys.Remove(apiKey)
}

// WriteError answers in Truework's error format.
func (s *Server) WriteError(w http.ResponseWriter, status int, message string) {
	simkit.WriteJSON(w, status, errorBody{Error: errorDetail{Message: message}})
}

// writeInvalidFields is Truework's 400 for a body that fails validation.
func writeInvalidFields(w http.ResponseWriter, fields map[string][]string) {
	simkit.WriteJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{
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

// call is what the API middleware learned about a request.
type call struct {
	// versioned: serve enum words as {canonical_value, raw_value}.
	versioned bool
}

type apiHandler func(w http.ResponseWriter, r *http.Request, c call)

// api authenticates, rate-limits and negotiates the version, in Truework's
// order: an unauthenticated call is refused before it costs the key a token.
func (s *Server) api(h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, problem := s.authenticate(r.Header.Get("Authorization"))
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
		versioned, problem := negotiateVersion(r.Header.Get("Accept"))
		if problem != "" {
			s.WriteError(w, http.StatusNotAcceptable, problem)
			return
		}
		h(w, r, call{versioned: versioned})
	}
}

// authenticate returns the bearer key, or why it is refused.
func (s *Server) authenticate(header string) (key, problem string) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(key) == "" {
		return "", "Authentication credentials were not provided."
	}
	key = strings.TrimSpace(key)
	if strings.HasPrefix(key, "tw_pk_") {
		return "", "Publishable keys cannot be used with this API; use a secret key."
	}
	if !s.apiKeys.Valid(key, "") {
		return "", "Invalid token."
	}
	return key, ""
}

// negotiateVersion reads the version parameter of the Accept header. No
// version serves the legacy plain-string format; the pinned version serves
// objects; anything else is 406.
func negotiateVersion(accept string) (versioned bool, problem string) {
	version := acceptVersion(accept)
	switch {
	case version == "":
		return false, ""
	case version == APIVersion:
		return true, ""
	case isDate(version) && version < APIVersion:
		return false, "The requested API version is older than the version pinned to this API key."
	default:
		return false, "The requested API version is not supported."
	}
}

func acceptVersion(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		_, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && params["version"] != "" {
			return params["version"]
		}
	}
	return ""
}

func isDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// writeNotFound answers an id the simulator does not know.
func (s *Server) writeNotFound(w http.ResponseWriter) {
	s.WriteError(w, http.StatusNotFound, "Not found.")
}

// writeFrozen answers a call on an order whose target froze their SSN.
func (s *Server) writeFrozen(w http.ResponseWriter) {
	s.WriteError(w, http.StatusUnavailableForLegalReasons,
		"The target of this verification has frozen their SSN; Truework cannot process it.")
}

func unknownState(state string) error {
	return fmt.Errorf("%w %q: Truework states are %s", simkit.ErrUnknownState, state, strings.Join(allStates, ", "))
}
