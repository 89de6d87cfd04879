// Package simulator is txcloud's identity verification API as an in-memory
// HTTP server: GET /v1/identity/verifications/{id} and POST
// /v1/identity/verifications/{id}/cancel, Bearer API keys, the status
// machine of docs/vendors.md#txcloud, txcloud's error bodies, 60 requests per minute per
// key with X-RateLimit-* headers, and the /_sandbox/ admin API of the kit.
//
// The API lives under /v1, as at txcloud, so a client's endpoint override
// for this server is its URL plus BasePath: http://127.0.0.1:PORT/v1.
package simulator

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// BasePath is the prefix of every API path; txcloud's base URLs end in it.
const BasePath = "/v1"

// API keys accepted by default. The simulator stands in for either
// environment, so it takes a sandbox and a production key.
const (
	TestAPIKey = "txc_test_sim_4f8b2c1d9e7a6b5c3d2e"
	LiveAPIKey = "txc_live_sim_9a8b7c6d5e4f3a2b1c0d"
)

// RequestsPerMinute is the per-minute limit of the Free plan (PlanFree),
// which every key is on unless SetPlan says otherwise.
const RequestsPerMinute = 60

// Server is the txcloud simulator. The embedded kit server provides
// ServeHTTP, Calls, CountCalls, SetFaults, Stats and Clock.
type Server struct {
	*simkit.Server

	mu            sync.Mutex
	apiKeys       *simkit.Credentials
	verifications map[string]*verification
	quotas        *quotas
	hold          *hold
	// cancelReadsAs is the status a cancel leaves; see SetCanceledStatus.
	cancelReadsAs string
}

// SetCanceledStatus chooses what a cancel leaves behind: "expired" (the
// default: the seed's status list has no canceled word) or "cancelled" (the
// final status txcloud's status reference lists). The client handles both;
// the conformance suite runs each.
func (s *Server) SetCanceledStatus(status string) error {
	if status != StateExpired && status != StateCancelled {
		return fmt.Errorf("a cancel leaves %s or %s, not %q", StateExpired, StateCancelled, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cancelReadsAs = status
	return nil
}

// canceledStatus is the status a cancel leaves; callers hold s.mu.
func (s *Server) canceledStatus() string {
	if s.cancelReadsAs == "" {
		return StateExpired
	}
	return s.cancelReadsAs
}

// New returns a simulator with no verifications that accepts TestAPIKey and
// LiveAPIKey.
func New() *Server {
	s := &Server{
		apiKeys:       simkit.NewCredentials(map[string]string{TestAPIKey: "", LiveAPIKey: ""}),
		verifications: map[string]*verification{},
		quotas:        newQuotas(),
	}
	// The plans' limits are enforced here (api), not by the kit's bucket.
	s.Server = simkit.New(s, 0, 0)
	s.Handle("GET "+BasePath+"/identity/verifications/{id}", s.api(s.getVerification))
	s.Handle("POST "+BasePath+"/identity/verifications/{id}/cancel", s.api(s.cancelVerification))
	s.HandleAdmin("PUT /_sandbox/plans", s.adminPlan)
	return s
}

// SetPlan puts an API key on one of txcloud's plans (Plans); keys are on
// PlanFree until then, the sandbox's test key included.
func (s *Server) SetPlan(apiKey string, p Plan) {
	s.quotas.setPlan(apiKey, p)
}

// adminPlan is PUT /_sandbox/plans {"apiKey": "txc_test_...", "plan":
// "starter"}: the sandbox's way to SetPlan.
func (s *Server) adminPlan(w http.ResponseWriter, r *http.Request) {
	var b struct {
		APIKey string `json:"apiKey"`
		Plan   string `json:"plan"`
	}
	if !simkit.DecodeAdmin(w, r, &b) {
		return
	}
	p, ok := PlanNamed(b.Plan)
	if b.APIKey == "" || !ok {
		simkit.WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"apiKey\": a key, \"plan\": one of free, starter, growth}"})
		return
	}
	s.SetPlan(b.APIKey, p)
	simkit.WriteJSON(w, http.StatusOK, map[string]any{"plan": p.Name, "perMinute": p.PerMinute, "perDay": p.PerDay, "burst": p.Burst})
}

// ServeHTTP counts every API call in flight per key from its arrival to its
// answer (injected latency included), for the plan's burst, then serves it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasPrefix(r.URL.Path, BasePath+"/") {
		s.Server.ServeHTTP(w, r)
		return
	}
	key := bearerToken(r)
	n := s.quotas.enter(key, s.Clock.Now())
	defer s.quotas.leave(key)
	s.Server.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), concurrencyKey{}, n)))
}

// HoldRequests makes admitted API calls wait, in flight, until release is
// called; arrived receives once per call held. Tests use it to have calls
// in flight at once.
func (s *Server) HoldRequests() (arrived <-chan struct{}, release func()) {
	h := &hold{arrived: make(chan struct{}, 1024), release: make(chan struct{})}
	s.mu.Lock()
	s.hold = h
	s.mu.Unlock()
	var once sync.Once
	return h.arrived, func() {
		once.Do(func() {
			s.mu.Lock()
			if s.hold == h {
				s.hold = nil
			}
			s.mu.Unlock()
			close(h.release)
		})
	}
}

// wait holds an admitted call while HoldRequests is in force.
func (s *Server) wait(r *http.Request) {
	s.mu.Lock()
	h := s.hold
	s.mu.Unlock()
	if h == nil {
		return
	}
	h.arrived <- struct{}{}
	select {
	case <-h.release:
	case <-r.Context().Done():
	}
}

// AddAPIKey makes the simulator accept another key, as after a rotation.
func (s *Server) AddAPIKey(key string) {
	s.apiKeys.Set(key, "")
}

// RevokeAPIKey makes the simulator refuse a key it accepted.
func (s *Server) RevokeAPIKey(key string) {
	s.apiKeys.Remove(key)
}

// api wraps a handler with what txcloud does on every API call: count the
// call against the key's plan, say so in X-RateLimit-* headers, then
// authenticate. The budget is keyed by the presented token, so even a
// refused key gets the headers, as every response carries them.
func (s *Server) api(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := bearerToken(r)
		v := s.quotas.admit(key, concurrentAt(r.Context()), s.Clock.Now())
		v.setHeaders(w.Header())
		if v.refused != admitted {
			w.Header().Set("Retry-After", strconv.Itoa(v.retryAfterSeconds()))
			s.WriteError(w, http.StatusTooManyRequests, v.message())
			return
		}
		s.wait(r)
		if !s.accepts(key) {
			// Never echo the key, not even masked.
			s.writeError(w, http.StatusUnauthorized, "invalid_api_key", "Invalid API key provided.")
			return
		}
		h(w, r)
	}
}

func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return token
}

func (s *Server) accepts(key string) bool {
	return s.apiKeys.Valid(key, "")
}

func (s *Server) getVerification(w http.ResponseWriter, r *http.Request) {
	body, ok := s.render(r.PathValue("id"))
	if !ok {
		s.writeNotFound(w)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, body)
}

// cancelVerification: legal only while pending, and it leaves the
// verification expired, since txcloud has no canceled status.
func (s *Server) cancelVerification(w http.ResponseWriter, r *http.Request) {
	body, status, err := s.cancel(r.PathValue("id"))
	switch {
	case errors.Is(err, errNotFound):
		s.writeNotFound(w)
	case errors.Is(err, errNotCancelable):
		s.writeError(w, http.StatusConflict, "verification_not_cancelable",
			"This verification cannot be canceled because its status is '"+status+"'. Only pending verifications can be canceled.")
	default:
		simkit.WriteJSON(w, http.StatusOK, body)
		s.Notify(r.PathValue("id"))
	}
}

func (s *Server) writeNotFound(w http.ResponseWriter) {
	// The id is not echoed: a message with it would be mangled by the
	// client's redaction of long digit runs anyway.
	s.writeError(w, http.StatusNotFound, "resource_not_found", "No such verification.")
}

// WriteError answers in txcloud's error format with a code that fits the
// status; the kit uses it for injected faults. A 429 repeats Retry-After
// (when set on w) as "retry_after" in the body, as txcloud does.
func (s *Server) WriteError(w http.ResponseWriter, status int, message string) {
	s.writeError(w, status, codeForStatus(status), message)
}

func (s *Server) writeError(w http.ResponseWriter, status int, code, message string) {
	detail := errorDetail{Code: code, Message: message, Type: typeForStatus(status), RequestID: newID("req_", 12)}
	if status == http.StatusTooManyRequests {
		detail.RetryAfter, _ = strconv.Atoi(w.Header().Get("Retry-After"))
	}
	simkit.WriteJSON(w, status, errorBody{Error: detail})
}

// errorBody is txcloud's error format. retry_after is placed in the error
// object: the reference only says the 429 body carries it.
type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code       string  `json:"code"`
	Message    string  `json:"message"`
	Type       string  `json:"type"`
	Param      *string `json:"param"`
	RequestID  string  `json:"request_id"`
	RetryAfter int     `json:"retry_after,omitempty"`
}

// typeForStatus picks one of the error types docs/vendors.md#txcloud lists.
func typeForStatus(status int) string {
	switch {
	case status == http.StatusUnauthorized:
		return "authentication_error"
	case status == http.StatusForbidden:
		return "authorization_error"
	case status == http.StatusNotFound:
		return "not_found_error"
	case status == http.StatusTooManyRequests:
		return "rate_limit_error"
	case status >= 500:
		return "api_error"
	default:
		return "validation_error"
	}
}

func codeForStatus(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return "invalid_api_key"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "resource_not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "rate_limit_exceeded"
	case http.StatusServiceUnavailable:
		return "service_unavailable"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "invalid_request"
}
