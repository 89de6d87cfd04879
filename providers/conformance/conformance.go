// Package conformance is the one suite every vendor's client and simulator
// must pass. A vendor joins with an Adapter: a small, declarative description
// of its states, the actions it supports and what each action does from each
// state. Run then checks the vendor-neutral contract of providers (state
// normalization, action outcomes, idempotency, lost responses, error kinds,
// PII, credentials) against the vendor's simulator, so the four vendors are
// held to exactly the same rules and capability tables cannot drift away
// from what the simulators accept.
//
// Where a vendor legitimately differs (txcloud has no canceled state, a
// Truework order holds several requests, Truv refuses a partly finished
// order) the difference lives in its Adapter, never in an if-vendor here.
package conformance

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Sim is what the suite needs of a vendor simulator: its API (ServeHTTP),
// the admin calls of the shared kit and the vendor-side truth.
type Sim interface {
	http.Handler
	CreateOrder(state string) (string, error)
	OrderState(id string) (string, bool)
	SetFaults(simkit.Faults)
	Calls(orderID string) []simkit.Call
	Timeline() []simkit.Event
}

// Adapter describes one vendor to the suite.
type Adapter struct {
	Name   string
	Vendor providers.Vendor
	// NewSimulator returns a fresh simulator; every check gets its own, so
	// rate limits and call logs never leak between checks.
	NewSimulator func() Sim
	// BaseURL turns the simulator's URL into the client's base URL (some
	// vendors' roots include /v1).
	BaseURL func(serverURL string) string

	// Environment is the provider environment Credentials belong to.
	Environment string
	// Credentials are valid and accepted by a fresh simulator.
	Credentials map[string][]byte
	// BadCredentials are well formed for Environment but unknown to the
	// simulator: only the vendor can refuse them.
	BadCredentials map[string][]byte
	// WrongEnvironment are well-formed credentials of another environment,
	// which ValidateCredentials must refuse; nil when the vendor's
	// credentials look the same in every environment.
	WrongEnvironment map[string][]byte

	// States maps every vendor state word to its normalized State.
	States map[string]providers.State
	// Parts: an order is made of parts (Truework requests, Truv employers)
	// that Observation.Requests lists; a one-part order's single part then
	// carries the order's state.
	Parts bool
	// UnknownID is well formed for the vendor but names no order.
	UnknownID string

	// Actions are the vendor's mutating calls, with their outcomes.
	Actions []Action
	// Composites are orders of several parts, made by NewComposite.
	Composites   []Composite
	NewComposite func(sim Sim, parts []string) (string, error)

	// Seeds are the vendors' own documented responses.
	Seeds []Seed
	// PII is the simulator's list of personal values it serves.
	PII []string

	// Shapes are the vendor's documented response shapes the simulator's
	// own answers must have (Shape); empty when the vendor's package checks
	// them itself (Truework's shapes_test.go).
	Shapes []Shape
	// OwnRateLimit is how the vendor documents its 429, which the
	// simulator's own limiter must answer; nil when it has none.
	OwnRateLimit *OwnRateLimit
	// Expiry makes orders the vendor ends by itself; nil when it does not.
	Expiry *Expiry
	// Refusals are the documented refusals other than an illegal
	// transition (451, 406, 400 with per-field problems).
	Refusals []Refusal
	// Modes are other behaviors the simulator can be switched to, each
	// documented or assumed; the whole suite runs again in each.
	Modes []Mode
}

// Mode is a simulator switched to another behavior, and what that changes.
type Mode struct {
	Name string
	// Setup switches a fresh simulator into the mode.
	Setup func(Sim) error
	// Outcomes replace the adapter's outcome of an action from a state.
	Outcomes map[providers.Action]map[string]Outcome
}

// inMode is the adapter for a run in mode m: its simulators set up, its
// actions' outcomes replaced. The Actions' tables are copied, so the
// adapter itself is untouched.
func (a Adapter) inMode(t *testing.T, m Mode) Adapter {
	newSim := a.NewSimulator
	a.NewSimulator = func() Sim {
		s := newSim()
		if err := m.Setup(s); err != nil {
			t.Fatalf("mode %s: %v", m.Name, err)
		}
		return s
	}
	actions := make([]Action, len(a.Actions))
	for i, act := range a.Actions {
		from := make(map[string]Outcome, len(act.From))
		for k, v := range act.From {
			from[k] = v
		}
		for k, v := range m.Outcomes[act.Name] {
			from[k] = v
		}
		act.From = from
		actions[i] = act
	}
	a.Actions, a.Modes = actions, nil
	return a
}

// Action is one mutating call and its expected outcome from every state.
type Action struct {
	Name providers.Action
	// Invoke makes the call on the order the simulator created; sim gives
	// access to vendor helpers (Truework's report ids).
	Invoke func(ctx context.Context, c providers.Client, sim Sim, orderID string) (providers.Observation, error)
	// Repeatable: the contract promises the call is safe to repeat (cancel,
	// close). Reverify is not: each accepted call is a new billable object.
	Repeatable bool
	// From has the outcome for every key of Adapter.States.
	From map[string]Outcome
}

// Outcome is what an action does from one state.
type Outcome struct {
	// Err is the kind of *providers.Error the call fails with; "" for success.
	Err providers.ErrorKind
	// State and VendorState are what the returned Observation says.
	State       providers.State
	VendorState string
	// Leaves is the simulator's state of the order afterwards. A refused
	// call always leaves the order where it was.
	Leaves string
}

// Becomes is success with the order now in vendorState (normalized state).
func Becomes(state providers.State, vendorState string) Outcome {
	return Outcome{State: state, VendorState: vendorState, Leaves: vendorState}
}

// Refused is a *providers.Error of KindRejected: an illegal transition.
func Refused() Outcome { return Outcome{Err: providers.KindRejected} }

// Composite is an order of several parts, e.g. a Truework order with one
// request processing and one completed.
type Composite struct {
	Parts []string
	// VendorState is the order's word as both client and simulator sum it up.
	VendorState string
	State       providers.State
	// Outcomes of the actions tried on it (not necessarily all of them).
	Outcomes map[providers.Action]Outcome
}

// Seed is one documented vendor response and what it must decode to.
type Seed struct {
	// File is the name under testdata/.
	File string
	// Status is the HTTP status to serve it with; 0 means 200.
	Status int
	// Call makes the client call that receives the body.
	Call func(ctx context.Context, c providers.Client) (providers.Observation, error)
	// Want is the expected Observation, or Err the expected error kind.
	Want providers.Observation
	Err  providers.ErrorKind
	// PII are personal values in the body that must not come out.
	PII []string
}

// Run checks a vendor against the contract.
func Run(t *testing.T, a Adapter) {
	t.Run("Observe", func(t *testing.T) { checkObserve(t, a) })
	t.Run("Actions", func(t *testing.T) { checkActions(t, a) })
	t.Run("Repeat", func(t *testing.T) { checkRepeat(t, a) })
	t.Run("LostResponse", func(t *testing.T) { checkLostResponse(t, a) })
	t.Run("Composite", func(t *testing.T) { checkComposites(t, a) })
	t.Run("Failures", func(t *testing.T) { checkFailures(t, a) })
	t.Run("Seeds", func(t *testing.T) { checkSeeds(t, a) })
	t.Run("Credentials", func(t *testing.T) { checkCredentials(t, a) })
	t.Run("Shapes", func(t *testing.T) { checkShapes(t, a) })
	t.Run("OwnRateLimit", func(t *testing.T) { checkOwnRateLimit(t, a) })
	t.Run("RetryAfterHeard", func(t *testing.T) { checkRetryAfterHeard(t, a) })
	t.Run("Expiry", func(t *testing.T) { checkExpiry(t, a) })
	t.Run("Refusals", func(t *testing.T) { checkRefusals(t, a) })
	for _, m := range a.Modes {
		t.Run("Mode/"+m.Name, func(t *testing.T) { Run(t, a.inMode(t, m)) })
	}
}

// env is one simulator served over HTTP with a client for it.
type env struct {
	a      Adapter
	sim    Sim
	srv    *httptest.Server
	client providers.Client
	// answers are the client's HTTP exchanges with the simulator, raw.
	answers *recorder
}

// start serves a fresh simulator and builds a client with valid credentials.
func start(t *testing.T, a Adapter) *env {
	t.Helper()
	sim := a.NewSimulator()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	e := &env{a: a, sim: sim, srv: srv}
	e.client, e.answers = recordedClient(t, a, srv, "")
	return e
}

// recordedClient is a client for srv with valid credentials, speaking
// apiVersion ("" for the vendor's default), whose answers are recorded.
func recordedClient(t *testing.T, a Adapter, srv *httptest.Server, apiVersion string) (providers.Client, *recorder) {
	t.Helper()
	rec := &recorder{next: srv.Client().Transport}
	hc := *srv.Client()
	hc.Transport = rec
	c, err := a.Vendor.Connect(providers.Config{
		BaseURL:     a.BaseURL(srv.URL),
		Environment: a.Environment,
		Credentials: a.Credentials,
		HTTPClient:  &hc,
		APIVersion:  apiVersion,
	})
	if err != nil {
		t.Fatalf("%s New: %v", a.Name, err)
	}
	return c, rec
}

// newClient builds the vendor's client for srv. The httptest client keeps
// connections private to the test and closes them with the server.
func newClient(t *testing.T, a Adapter, srv *httptest.Server, creds map[string][]byte) providers.Client {
	t.Helper()
	c, err := a.Vendor.Connect(providers.Config{
		BaseURL:     a.BaseURL(srv.URL),
		Environment: a.Environment,
		Credentials: creds,
		HTTPClient:  srv.Client(),
	})
	if err != nil {
		t.Fatalf("%s New: %v", a.Name, err)
	}
	return c
}

// create makes an order in state through the simulator's admin side.
func (e *env) create(t *testing.T, state string) string {
	t.Helper()
	id, err := e.sim.CreateOrder(state)
	if err != nil {
		t.Fatalf("simulator CreateOrder(%q): %v", state, err)
	}
	return id
}

// simState is the vendor-side truth for the order.
func (e *env) simState(t *testing.T, id string) string {
	t.Helper()
	state, ok := e.sim.OrderState(id)
	if !ok {
		t.Fatalf("simulator lost order %s", id)
	}
	return state
}

// mutations are the calls on the order that were not reads.
func (e *env) mutations(id string) []simkit.Call {
	var out []simkit.Call
	for _, c := range e.sim.Calls(id) {
		if c.Method != http.MethodGet {
			out = append(out, c)
		}
	}
	return out
}

// applied counts the mutating calls the simulator answered with success:
// how many times a mutation took effect.
func (e *env) applied(id string) int {
	n := 0
	for _, c := range e.mutations(id) {
		if c.Status >= 200 && c.Status < 300 {
			n++
		}
	}
	return n
}
