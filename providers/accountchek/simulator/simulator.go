// Package simulator is the AccountChek Verifier API as an in-memory HTTP
// server: GET and PATCH /v1/accountchekorders/{orderId} with HTTP Basic
// authentication, the order state machine from the seed
// (accountchek-close-or-cancel-order.txt) and the /_sandbox/ admin API of the
// shared kit.
//
// The simulator serves the API under /v1, like the real base URLs
// (https://verifierapi.accountchek.net/v1), so a VerificationProvider that
// points at it needs an endpoint override ending in /v1:
//
//	endpoint: http://127.0.0.1:PORT/v1
//
// It does not import the client package on purpose: it plays the vendor, and
// a mistake in the client's constants must not be mirrored here.
package simulator

import (
	"net/http"
	"regexp"
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Credentials the simulator accepts from the start.
const (
	TestUsername = "sandbox-verifier"
	TestPassword = "sandbox-verifier-password"
	// TestIntegratorID is a well-formed integrator GUID. The simulator does
	// not require one; it only checks the header's form when it is sent.
	TestIntegratorID = "5d0c7a2e-3b41-4f6a-9e8d-2c1b0a9f8e7d"
)

// IntegratorHeader is the header integrators send with their GUID.
const IntegratorHeader = "X-AccountChek-Integrator-Id"

// AccountChek publishes no rate limit. Assume 20 requests/s per verifier
// user, answered beyond that with a bare 429, without headers
// (docs/vendors.md#accountchek).
const (
	RequestsPerSecond = 20
	Burst             = 20
)

// OrderLifetime is the daysRemaining a new order starts with. The real
// figure depends on the services attached; the seed's example shows 58 days
// left, so 60 days is a plausible start.
const OrderLifetime = 60 * 24 * time.Hour

// Server is the AccountChek simulator. The embedded kit provides ServeHTTP,
// Calls, CountCalls, SetFaults, Stats and Clock.
type Server struct {
	*simkit.Server

	mu     sync.Mutex
	users  *simkit.Credentials // verifier username -> password
	orders map[string]*order   // lowercase GUID -> order
}

var _ simkit.Backend = (*Server)(nil)

// New returns a simulator that accepts TestUsername/TestPassword.
func New() *Server {
	s := &Server{
		users:  simkit.NewCredentials(map[string]string{TestUsername: TestPassword}),
		orders: map[string]*order{},
	}
	s.Server = simkit.New(s, RequestsPerSecond, Burst)
	s.Handle("GET /v1/accountchekorders/{id}", s.authenticated(s.getOrder))
	s.Handle("PATCH /v1/accountchekorders/{id}", s.authenticated(s.patchOrder))
	s.Handle("/v1/accountchekorders/{id}", s.authenticated(s.methodNotAllowed))
	s.Handle("/", s.noRoute)
	return s
}

// AddCredentials adds a verifier user, or changes an existing user's
// password as a rotation would (the old password stops working).
func (s *Server) AddCredentials(username, password string) {
	s.users.Set(username, password)
}

// RemoveCredentials deletes a verifier user.
func (s *Server) RemoveCredentials(username string) {
	s.users.Remove(username)
}

// authenticated checks, in order: HTTP Basic credentials (401), the user's
// request budget (429), and the integrator header's form when present (422).
// The rate limit is per verifier user, so unauthenticated calls spend none.
func (s *Server) authenticated(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		user, ok := s.authenticate(r)
		if !ok {
			s.WriteError(w, http.StatusUnauthorized, "")
			return
		}
		if !s.Allow(user) {
			s.WriteError(w, http.StatusTooManyRequests, "")
			return
		}
		if ids := r.Header.Values(IntegratorHeader); len(ids) > 0 && (len(ids) != 1 || !guidPattern.MatchString(ids[0])) {
			writeErrorBody(w, http.StatusUnprocessableEntity, errorBody{
				General:    []string{"The request is invalid."},
				Properties: []propertyError{{Property: IntegratorHeader, Message: "The integrator id must be a GUID."}},
			})
			return
		}
		h(w, r)
	}
}

func (s *Server) authenticate(r *http.Request) (string, bool) {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", false
	}
	return user, s.users.Valid(user, pass)
}

func (s *Server) methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, PATCH")
	s.WriteError(w, http.StatusMethodNotAllowed, "The requested method is not supported for this resource.")
}

// noRoute answers every other path, including a trailing slash after the
// order id, with a 404 in AccountChek's format. It names /v1 because the
// usual mistake is an endpoint override without it.
func (s *Server) noRoute(w http.ResponseWriter, _ *http.Request) {
	s.WriteError(w, http.StatusNotFound,
		"No such resource. The Verifier API is served under /v1/accountchekorders/{orderId}; an endpoint override must end in /v1.")
}

// WriteError answers in AccountChek's format. 401 and 429 have no documented
// body: 401 is sent empty with the WWW-Authenticate challenge HTTP Basic
// requires, 429 bare (docs/vendors.md#accountchek). Everything else uses the documented
// {"general": [...], "properties": [...]} body.
func (s *Server) WriteError(w http.ResponseWriter, status int, message string) {
	switch status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="AccountChek Verifier API"`)
		w.WriteHeader(status)
	case http.StatusTooManyRequests:
		w.WriteHeader(status)
	default:
		writeErrorBody(w, status, errorBody{General: []string{message}, Properties: []propertyError{}})
	}
}

// errorBody is AccountChek's documented error format.
type errorBody struct {
	General    []string        `json:"general"`
	Properties []propertyError `json:"properties"`
}

type propertyError struct {
	Property string `json:"property"`
	Message  string `json:"message"`
}

func writeErrorBody(w http.ResponseWriter, status int, e errorBody) {
	simkit.WriteJSON(w, status, e)
}

var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
