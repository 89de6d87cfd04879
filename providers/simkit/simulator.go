// Package simkit is the shared part of every vendor simulator: the
// /_sandbox/ admin API of docs/sandbox.md, fault injection, a per-order call log,
// call statistics, a per-key rate limiter and a clock tests control. A
// vendor's simulator (providers/<vendor>/simulator) registers its API routes
// with Handle and implements Vendor for the admin API.
package simkit

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Backend is the vendor-specific half of a simulator: the orders the kit's
// admin API creates, reads and moves. Its methods
// are called concurrently; the vendor guards its own state.
type Backend interface {
	// CreateOrder makes an order (with one request or employer) in the
	// given vendor state word and returns its id.
	CreateOrder(state string) (string, error)
	// OrderState is the vendor-side truth for the order, as the vendor's word.
	OrderState(id string) (string, bool)
	// SetOrderState moves the order as the vendor or the borrower would.
	SetOrderState(id, state string) error
	// OrderOf maps an id found in an API path to the order it belongs to,
	// so calls on a part of an order (a Truework request) land in the
	// order's call log. Return the id itself when it is an order id.
	OrderOf(pathID string) string
	// WriteError answers in the vendor's error format; used for injected
	// faults and rate limiting.
	WriteError(w http.ResponseWriter, status int, message string)
}

// Call is one vendor API call made on an order.
type Call struct {
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// Faults are injected into the vendor API (never into /_sandbox/).
type Faults struct {
	// Rate is the probability that a call is answered with a fault.
	Rate float64 `json:"rate"`
	// Statuses are the fault statuses, picked at random (default 503).
	Statuses []int `json:"statuses,omitempty"`
	// RetryAfterSeconds is sent as Retry-After on 429 and 503 faults when > 0.
	RetryAfterSeconds int `json:"retryAfterSeconds,omitempty"`
	// LatencyMs delays every call.
	LatencyMs int `json:"latencyMs,omitempty"`
	// DropAfterCommit is the probability that a call is applied and then
	// the connection is cut before the response: a lost response.
	DropAfterCommit float64 `json:"dropAfterCommit,omitempty"`
	// ResetRate is the probability that the connection is cut before the
	// call is applied: nothing happened at the vendor.
	ResetRate float64 `json:"resetRate,omitempty"`
	// SlowRate is the probability that a call is applied and its response
	// held back SlowMs, e.g. past the client's timeout.
	SlowRate float64 `json:"slowRate,omitempty"`
	SlowMs   int     `json:"slowMs,omitempty"`
	// Seed, when set, restarts the fault dice from it, so a run that failed
	// can be replayed with the same sequence of faults.
	Seed uint64 `json:"seed,omitempty"`
}

// probabilities are the fields that must be in [0, 1].
func (f Faults) probabilities() []float64 {
	return []float64{f.Rate, f.DropAfterCommit, f.ResetRate, f.SlowRate}
}

// Event is one vendor API call as the vendor saw it, for checks that span
// calls: the rate the vendor saw, and whether a client waited out a
// Retry-After the vendor sent.
type Event struct {
	At     time.Time `json:"at"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Query is the request's query string (Truework's GET
	// /orders?verification_id= names the order in it).
	Query string `json:"query,omitempty"`
	// Status is what the vendor answered (0: the connection was cut before
	// an answer, whether or not the call was applied).
	Status int `json:"status"`
	// RetryAfter is the Retry-After the vendor sent, if any.
	RetryAfter time.Duration `json:"retryAfter,omitempty"`
	// Applied: the call reached the vendor's logic (it may have changed an
	// order), even if its response was lost.
	Applied bool `json:"applied"`
	// Injected: the answer was an injected fault, not the vendor's.
	Injected bool `json:"injected,omitempty"`
	// UserAgent is the caller's User-Agent, which names the process.
	UserAgent string `json:"userAgent,omitempty"`
}

// Stat is a count of calls by method, route pattern and status.
type Stat struct {
	Method  string `json:"method"`
	Pattern string `json:"pattern"`
	Status  int    `json:"status"`
	Count   int    `json:"count"`
}

// Server is the HTTP server of one vendor simulator.
type Server struct {
	backend Backend
	mux     *http.ServeMux
	Clock   *Clock

	mu       sync.Mutex
	calls    map[string][]Call
	stats    map[Stat]int
	faults   Faults
	timeline []Event
	rng      *rand.Rand
	limiters map[string]*rate.Limiter
	limit    rate.Limit
	burst    int
	push     pusher
}

// New returns a simulator for vendor with a per-key limit of rps requests
// per second (burst requests at once); rps <= 0 means unlimited.
func New(backend Backend, rps float64, burst int) *Server {
	s := &Server{
		backend: backend, mux: http.NewServeMux(), Clock: &Clock{},
		calls: map[string][]Call{}, stats: map[Stat]int{}, rng: rand.New(rand.NewPCG(1, 2)),
		limiters: map[string]*rate.Limiter{}, limit: rate.Inf, burst: burst,
		push: pusher{rng: rand.New(rand.NewPCG(3, 4)), client: &http.Client{Transport: &http.Transport{
			// The receiver under test serves a self-signed certificate.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // a simulator delivering to a local receiver
		}}},
	}
	if rps > 0 {
		s.limit = rate.Limit(rps)
	}
	s.mux.HandleFunc("POST /_sandbox/orders", s.adminCreate)
	s.mux.HandleFunc("GET /_sandbox/orders/{id}", s.adminGet)
	s.mux.HandleFunc("POST /_sandbox/orders/{id}/state", s.adminSetState)
	s.mux.HandleFunc("PUT /_sandbox/faults", s.adminFaults)
	s.mux.HandleFunc("GET /_sandbox/faults", s.adminGetFaults)
	s.mux.HandleFunc("GET /_sandbox/stats", s.adminStats)
	s.mux.HandleFunc("POST /_sandbox/clock", s.adminClock)
	s.mux.HandleFunc("PUT /_sandbox/webhook", s.adminWebhook)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// HandleAdmin registers an admin route of the vendor's own under
// /_sandbox/ (a net/http pattern, e.g. "PUT /_sandbox/plans"). Admin calls
// are not vendor API calls: no faults, no call log, no rate limit.
func (s *Server) HandleAdmin(pattern string, h http.HandlerFunc) {
	_, path, _ := strings.Cut(pattern, " ")
	if path == "" {
		path = pattern
	}
	if !strings.HasPrefix(path, "/_sandbox/") {
		panic("simkit: admin route " + pattern + " is not under /_sandbox/")
	}
	s.mux.HandleFunc(pattern, h)
}

// DecodeAdmin reads an admin call's JSON body into v, refusing unknown
// fields; when it cannot, it answers 400 itself and returns false.
func DecodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool { return decodeAdmin(w, r, v) }

// Handle registers a vendor API route (a net/http pattern whose order or
// request id wildcard is named {id}). Calls through it are logged against
// the order, counted, and subject to faults.
func (s *Server) Handle(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		f := s.Faults()
		if f.LatencyMs > 0 && !wait(r, time.Duration(f.LatencyMs)*time.Millisecond) {
			return // the client went during the latency: never applied, never answered
		}
		ev := Event{At: time.Now(), Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, UserAgent: r.UserAgent()}
		if s.roll(f.ResetRate) {
			s.note(ev)
			dropConnection(w)
			return
		}
		rec := &recorder{header: http.Header{}, status: http.StatusOK}
		if status, inject := s.pickFault(f); inject {
			if f.RetryAfterSeconds > 0 && (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) {
				rec.Header().Set("Retry-After", fmt.Sprint(f.RetryAfterSeconds))
			}
			s.backend.WriteError(rec, status, "injected fault")
			ev.Injected = true
		} else {
			h(rec, r)
			ev.Applied = true
		}
		s.record(r, rec.status)
		ev.Status, ev.RetryAfter = rec.status, retryAfter(rec.header)
		if s.roll(f.DropAfterCommit) {
			ev.Status, ev.RetryAfter = 0, 0
			s.note(ev)
			dropConnection(w)
			return
		}
		s.note(ev)
		if s.roll(f.SlowRate) && !wait(r, time.Duration(f.SlowMs)*time.Millisecond) {
			return // the client gave up first: the call was applied, its answer lost
		}
		rec.flushTo(w)
	})
}

// wait holds the call for d, or until the client goes; false if it went.
// net/http notices a client that goes away only once the request body is
// read, so the body is read first, kept in memory for a handler still to
// come (a latency) or for none (an injected fault): a client that gave up
// must read as gone, never as one that had the answer (and its
// Retry-After) when the hold ended.
func wait(r *http.Request, d time.Duration) bool {
	if body, err := io.ReadAll(r.Body); err == nil {
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

func retryAfter(h http.Header) time.Duration {
	secs, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || secs <= 0 {
		return 0
	}
	return time.Duration(secs) * time.Second
}

func (s *Server) note(ev Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.timeline = append(s.timeline, ev)
}

// Timeline returns every vendor API call in the order they arrived.
func (s *Server) Timeline() []Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Event(nil), s.timeline...)
}

// Allow takes a token from key's limiter (an API key, a client id).
func (s *Server) Allow(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	lim, ok := s.limiters[key]
	if !ok {
		lim = rate.NewLimiter(s.limit, s.burst)
		s.limiters[key] = lim
	}
	return lim.Allow()
}

// SetFaults replaces the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
	if f.Seed != 0 {
		s.rng = rand.New(rand.NewPCG(f.Seed, f.Seed))
	}
}

// Faults returns the injected faults.
func (s *Server) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Calls returns the vendor API calls made on an order, oldest first.
func (s *Server) Calls(orderID string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls[orderID]...)
}

// CountCalls counts the calls on an order with the given method.
func (s *Server) CountCalls(orderID, method string) int {
	n := 0
	for _, c := range s.Calls(orderID) {
		if c.Method == method {
			n++
		}
	}
	return n
}

// Stats returns the call counts, sorted.
func (s *Server) Stats() []Stat {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stat, 0, len(s.stats))
	for k, n := range s.stats {
		k.Count = n
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Pattern != b.Pattern {
			return a.Pattern < b.Pattern
		}
		if a.Method != b.Method {
			return a.Method < b.Method
		}
		return a.Status < b.Status
	})
	return out
}

func (s *Server) record(r *http.Request, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats[Stat{Method: r.Method, Pattern: r.Pattern, Status: status}]++
	if id := r.PathValue("id"); id != "" {
		order := s.backend.OrderOf(id)
		s.calls[order] = append(s.calls[order], Call{Method: r.Method, Path: r.URL.Path, Status: status})
	}
}

func (s *Server) pickFault(f Faults) (int, bool) {
	if !s.roll(f.Rate) {
		return 0, false
	}
	if len(f.Statuses) == 0 {
		return http.StatusServiceUnavailable, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return f.Statuses[s.rng.IntN(len(f.Statuses))], true
}

func (s *Server) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rng.Float64() < p
}

// recorder holds a response until the simulator decides whether to deliver it.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}
func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
}

func (r *recorder) flushTo(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	_, _ = w.Write(r.body.Bytes())
}

// dropConnection cuts the connection without a response, as a load balancer
// timing out after the vendor committed would.
func dropConnection(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	_ = conn.Close()
}

// WriteJSON writes v as a JSON response with the status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrUnknownState is returned by a Vendor for a state word it does not have.
var ErrUnknownState = errors.New("unknown state")

// ErrNoOrder is returned by a Vendor for an order it does not have.
var ErrNoOrder = errors.New("no such order")
