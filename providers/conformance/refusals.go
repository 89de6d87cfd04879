package conformance

import (
	"context"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

// Refusal is a documented way the vendor refuses a call other than an
// illegal transition: a legal hold (451), a version the key does not
// accept (406), a request with per-field problems (400 with Truework's
// invalid_fields, Truv's invalid-params).
type Refusal struct {
	Name string
	// State is the vendor state the order is created in.
	State string
	// Provoke makes the simulator refuse the call as the vendor would
	// (freeze the order, pin the key to another version, ...); nil when
	// the call itself is what the vendor refuses.
	Provoke func(sim Sim, id string) error
	// APIVersion is the version the client speaks ("" for its default).
	APIVersion string
	// Call is the client call the vendor refuses.
	Call func(id string) func(context.Context, providers.Client) (providers.Observation, error)
	// Method picks the refused answer among the client's calls.
	Method string
	Status int
	Kind   providers.ErrorKind
	// Mentions are what the error's message must say for a person to act
	// on it (a field's name, the vendor's reason), PII never.
	Mentions []string
	// Body is the documented error body under testdata/ whose shape the
	// answer must have; "" to leave it.
	Body string
}

// checkRefusals: each refusal maps to its error kind with the vendor's
// status, a message a person can act on and no PII, and changes nothing.
func checkRefusals(t *testing.T, a Adapter) {
	if len(a.Refusals) == 0 {
		t.Skipf("%s documents no such refusals", a.Name)
	}
	for _, r := range a.Refusals {
		t.Run(r.Name, func(t *testing.T) {
			e := start(t, a)
			id := e.create(t, r.State)
			if r.Provoke != nil {
				if err := r.Provoke(e.sim, id); err != nil {
					t.Fatalf("provoke: %v", err)
				}
			}
			if r.APIVersion != "" {
				e.client, e.answers = recordedClient(t, a, e.srv, r.APIVersion)
			}
			obs, err := r.Call(id)(t.Context(), e.client)
			e.assertClean(t, obs, err)
			perr := wantKind(t, err, r.Kind)
			if perr == nil {
				return
			}
			if perr.StatusCode != r.Status {
				t.Errorf("StatusCode %d, want %d", perr.StatusCode, r.Status)
			}
			for _, m := range r.Mentions {
				if !strings.Contains(perr.Message, m) {
					t.Errorf("message %q does not mention %q", perr.Message, m)
				}
			}
			ans, ok := e.answers.last(r.Method)
			if !ok || ans.status != r.Status {
				t.Fatalf("the client's last %s was answered %d, want %d", r.Method, ans.status, r.Status)
			}
			if r.Body != "" {
				if diffs := CompareShapes("", decodeJSON(t, readSeed(t, r.Body)), decodeJSON(t, ans.body), nil); len(diffs) > 0 {
					t.Errorf("the answer's body differs from %s: %v", r.Body, diffs)
				}
			}
			if n := e.applied(id); n != 0 {
				t.Errorf("a refused call took effect %d times", n)
			}
			if got := e.simState(t, id); got != r.State {
				t.Errorf("the order went from %q to %q", r.State, got)
			}
		})
	}
}
