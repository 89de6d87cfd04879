// Package simulator is Truv's orders API as an in-memory HTTP server, for
// tests and the local sandbox. It serves
//
//	GET  /v1/orders/{id}/          the order, shaped like the seed example, PII included
//	POST /v1/orders/{id}/cancel/   cancels an order whose employers are all pending or sent
//
// with Truv's authentication (X-Access-Client-Id and X-Access-Secret), its
// error format, a per-client-id rate limit and the /_sandbox/ admin API of
// the shared kit. Paths without the trailing slash answer 404.
package simulator

import (
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Credentials the simulator accepts by default. The secret's prefix makes it
// a Truv sandbox secret, so it passes the client's checks for a sandbox
// provider.
const (
	TestClientID     = "5f0c3e1d9a7b4c2e8d6f1a3b5c7e9d0f"
	TestAccessSecret = "sandbox-8c1e5a7d3f9b2e6c4a0d8f1b3e5c7a9d"
)

// Truv documents 300 requests per minute per access secret ("Errors & Rate
// Limits"). Assume: a token bucket of 5/s with a burst of 10, per client id
// (one access secret each here); beyond it a 429 with Retry-After: 1.
const (
	rateLimitPerSecond = 5
	rateLimitBurst     = 10
	retryAfterSeconds  = 1
)

// Server is the Truv simulator. The embedded kit gives Calls, CountCalls,
// SetFaults, Clock and ServeHTTP.
type Server struct {
	*simkit.Server

	mu      sync.Mutex
	orders  map[string]*order
	secrets *simkit.Credentials // client id → access secret
	// lifetime is how long an order lives before it expires (weekends not
	// counted); Truv's default is 72 hours, and accounts can change it.
	lifetime time.Duration
}

// SetOrderLifetime sets how long orders created from now on live before
// they expire by themselves (weekends not counted), as Truv lets an
// account configure; the default is 72 hours.
func (s *Server) SetOrderLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// New returns a simulator that accepts TestClientID and TestAccessSecret.
func New() *Server {
	s := &Server{orders: map[string]*order{}, secrets: simkit.NewCredentials(map[string]string{TestClientID: TestAccessSecret}), lifetime: expiryAfter}
	s.Server = simkit.New(s, rateLimitPerSecond, rateLimitBurst)
	s.Handle("/v1/orders/{id}/{$}", s.api(http.MethodGet, s.getOrder))
	s.Handle("/v1/orders/{id}/cancel/{$}", s.api(http.MethodPost, s.cancelOrder))
	// Anything else under /v1/ is an unknown route. The order paths without
	// their trailing slash are named so that ServeMux answers 404 as Truv
	// does, instead of redirecting to the slashed path.
	s.Handle("/v1/", s.unknownRoute)
	s.Handle("/v1/orders/{id}", s.unknownRoute)
	s.Handle("/v1/orders/{id}/cancel", s.unknownRoute)
	return s
}

func (s *Server) unknownRoute(w http.ResponseWriter, _ *http.Request) {
	s.WriteError(w, http.StatusNotFound, "Not found.")
}

// AddCredentials makes the simulator accept another client id and secret,
// e.g. to show that a rotated secret works.
func (s *Server) AddCredentials(clientID, accessSecret string) {
	s.secrets.Set(clientID, accessSecret)
}

// RevokeCredentials stops accepting a client id, as revoking a key in
// Truv's dashboard does.
func (s *Server) RevokeCredentials(clientID string) {
	s.secrets.Remove(clientID)
}

// api wraps a route handler in what Truv checks first, in Truv's order:
// credentials, then the client's rate limit, then the method.
func (s *Server) api(method string, h func(http.ResponseWriter, *http.Request, string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		clientID, ok := s.authenticate(r)
		if !ok {
			s.WriteError(w, http.StatusUnauthorized, "No such token")
			return
		}
		if !s.Allow(clientID) {
			w.Header().Set("Retry-After", fmt.Sprint(retryAfterSeconds))
			s.WriteError(w, http.StatusTooManyRequests, fmt.Sprintf("Request was throttled. Expected available in %d second.", retryAfterSeconds))
			return
		}
		if r.Method != method {
			w.Header().Set("Allow", method)
			s.WriteError(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method %q not allowed.", r.Method))
			return
		}
		h(w, r, r.PathValue("id"))
	}
}

func (s *Server) authenticate(r *http.Request) (string, bool) {
	clientID := r.Header.Get("X-Access-Client-Id")
	return clientID, s.secrets.Valid(clientID, r.Header.Get("X-Access-Secret"))
}

func (s *Server) getOrder(w http.ResponseWriter, _ *http.Request, id string) {
	s.mu.Lock()
	o, ok := s.lookup(id)
	var body map[string]any
	if ok {
		body = o.render()
	}
	s.mu.Unlock()
	if !ok {
		s.WriteError(w, http.StatusNotFound, "Not found.")
		return
	}
	simkit.WriteJSON(w, http.StatusOK, body)
}

func (s *Server) cancelOrder(w http.ResponseWriter, _ *http.Request, id string) {
	s.mu.Lock()
	o, ok := s.lookup(id)
	var body map[string]any
	var status string
	if ok {
		status = o.status()
		if o.cancelable() {
			o.cancel(s.Clock.Now())
			body = o.render()
		}
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.WriteError(w, http.StatusNotFound, "Not found.")
	case body == nil:
		writeValidationError(w, "Order cannot be canceled.", "status",
			fmt.Sprintf("Only orders whose employers are all pending or sent can be canceled; this order is %s.", status))
	default:
		simkit.WriteJSON(w, http.StatusOK, body)
		s.Notify(id)
	}
}

// lookup returns the order with its due expiries applied. Callers hold s.mu.
func (s *Server) lookup(id string) (*order, bool) {
	o, ok := s.orders[id]
	if ok {
		o.expireDue(s.Clock.Now())
	}
	return o, ok
}

// errorBody is Truv's error format.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string      `json:"code"`
	Message string      `json:"message"`
	Extra   *errorExtra `json:"extra,omitempty"`
}

type errorExtra struct {
	InvalidParams []invalidParam `json:"invalid-params"`
}

type invalidParam struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// errorCodes are Truv's error codes by status, from its "Errors & Rate
// Limits" reference; 405, 406 and 415 have none there, and 5xx codes are an
// assumption in the same style.
var errorCodes = map[int]string{
	http.StatusBadRequest:      "incorrect_parameters",
	http.StatusUnauthorized:    "authentication_failed",
	http.StatusForbidden:       "not_authenticated",
	http.StatusGone:            "expired_token",
	http.StatusTooManyRequests: "throttled",
	// No code documented for these; assumed.
	http.StatusMethodNotAllowed:     "method_not_allowed",
	http.StatusNotAcceptable:        "not_acceptable",
	http.StatusUnsupportedMediaType: "unsupported_media_type",
}

// WriteError answers in Truv's error format; a 404 is {"detail": ...}, as
// Truv documents it.
func (s *Server) WriteError(w http.ResponseWriter, status int, message string) {
	if status == http.StatusNotFound {
		simkit.WriteJSON(w, status, map[string]string{"detail": "Not Found."})
		return
	}
	code, ok := errorCodes[status]
	if !ok {
		code = "server_error"
	}
	simkit.WriteJSON(w, status, errorBody{Error: errorDetail{Code: code, Message: message}})
}

func writeValidationError(w http.ResponseWriter, message, field, fieldMessage string) {
	simkit.WriteJSON(w, http.StatusBadRequest, errorBody{Error: errorDetail{
		Code: errorCodes[http.StatusBadRequest], Message: message,
		Extra: &errorExtra{InvalidParams: []invalidParam{{Field: field, Message: fieldMessage}}},
	}})
}

// CreateOrder makes an order with one employer in the given status.
func (s *Server) CreateOrder(status string) (string, error) {
	return s.CreateOrderWithEmployers(status)
}

// CreateOrderWithEmployers makes an order with one employer per status, e.g.
// a partly completed order ("completed", "pending").
func (s *Server) CreateOrderWithEmployers(statuses ...string) (string, error) {
	if len(statuses) == 0 {
		return "", fmt.Errorf("an order needs at least one employer")
	}
	for _, st := range statuses {
		if err := validStatus(st); err != nil {
			return "", err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := newOrder(s.Clock.Now(), statuses, s.lifetime)
	s.orders[o.id] = o
	return o.id, nil
}

// OrderState is the order's status word, derived from its employers.
func (s *Server) OrderState(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.lookup(id)
	if !ok {
		return "", false
	}
	return o.status(), true
}

// EmployerStates are the status words of the order's employers, in order.
func (s *Server) EmployerStates(id string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.lookup(id)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(o.employers))
	for _, e := range o.employers {
		out = append(out, e.status)
	}
	return out, true
}

// SetOrderState moves the order's open employers to status, with the
// matching timestamp, as the borrower or Truv would. It refuses to move a
// terminal order.
func (s *Server) SetOrderState(id, status string) error {
	if err := validStatus(status); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.lookup(id)
	if !ok {
		return fmt.Errorf("%w %q", simkit.ErrNoOrder, id)
	}
	return o.setStatus(status, s.Clock.Now())
}

// OrderOf returns the id itself: every Truv path names the order.
func (s *Server) OrderOf(pathID string) string { return pathID }
