package conformance

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// checkObserve: an order in every vendor state reads back as that state,
// normalized as the adapter says.
func checkObserve(t *testing.T, a Adapter) {
	for _, state := range sortedStates(a) {
		t.Run(state, func(t *testing.T) {
			e := start(t, a)
			id := e.create(t, state)
			obs, err := e.client.Observe(t.Context(), id)
			e.assertClean(t, obs, err)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			want := a.States[state]
			if obs.ID != id || obs.VendorState != state || obs.State != want {
				t.Errorf("Observe = {ID:%q VendorState:%q State:%q}, want {ID:%q VendorState:%q State:%q}",
					obs.ID, obs.VendorState, obs.State, id, state, want)
			}
			e.checkParts(t, obs, []string{state})
		})
	}
}

// checkParts: Observation.Requests lists the order's parts with their own
// states, or is empty for vendors whose orders have no parts.
func (e *env) checkParts(t *testing.T, obs providers.Observation, parts []string) {
	t.Helper()
	if !e.a.Parts {
		if len(obs.Requests) != 0 {
			t.Errorf("Requests = %+v, want none: %s orders have no parts", obs.Requests, e.a.Name)
		}
		return
	}
	got := make([]string, 0, len(obs.Requests))
	for _, r := range obs.Requests {
		got = append(got, r.VendorState)
		if want := e.a.States[r.VendorState]; r.State != want || r.ID == "" {
			t.Errorf("request %+v: want a non-empty ID and State %q", r, want)
		}
	}
	if !slices.Equal(got, parts) {
		t.Errorf("request states = %q, want %q", got, parts)
	}
}

// checkCapabilities: the capability table speaks the vendor's words and
// names exactly the actions the adapter exercises.
func checkCapabilities(t *testing.T, a Adapter) {
	caps := a.Vendor.Capabilities
	if a.Vendor.Name != a.Name {
		t.Errorf("Vendor().Name = %q, want %q", a.Vendor.Name, a.Name)
	}
	names := make([]providers.Action, 0, len(a.Actions))
	for _, act := range a.Actions {
		names = append(names, act.Name)
	}
	slices.Sort(names)
	if got := caps.Actions(); !slices.Equal(got, names) {
		t.Errorf("Capabilities support %v, the adapter exercises %v", got, names)
	}
	for act, from := range caps.From {
		for _, word := range from {
			if _, ok := a.States[word]; !ok {
				t.Errorf("Capabilities allow %s from %q, which is not a %s state", act, word, a.Name)
			}
		}
	}
	if w := caps.CanceledReadsAs; w != "" {
		if _, ok := a.States[w]; !ok {
			t.Errorf("CanceledReadsAs %q is not a %s state", w, a.Name)
		}
	}
}

// checkActions runs every action from every state and compares the client's
// answer, the simulator's truth and the capability table.
func checkActions(t *testing.T, a Adapter) {
	t.Run("Capabilities", func(t *testing.T) { checkCapabilities(t, a) })
	for _, act := range a.Actions {
		for _, from := range sortedStates(a) {
			t.Run(string(act.Name)+"/"+from, func(t *testing.T) {
				want, ok := act.From[from]
				if !ok {
					t.Fatalf("adapter gives no outcome for %s from %q", act.Name, from)
				}
				e := start(t, a)
				id := e.create(t, from)
				obs, err := act.Invoke(t.Context(), e.client, e.sim, id)
				e.assertClean(t, obs, err)
				checkOutcome(t, obs, err, want)
				e.checkLeft(t, id, from, want)
				e.checkCapability(t, act.Name, id, from)
				if applied := e.applied(id); applied > 1 {
					t.Errorf("one %s call took effect %d times", act.Name, applied)
				}
				if want.Err == "" {
					e.checkReadBack(t, act.Name, id, want)
				}
			})
		}
	}
}

// checkCapability: Capabilities.Allows must say exactly whether the vendor
// accepts the call, or the controller plans calls the vendor refuses (or
// refuses calls it would accept).
func (e *env) checkCapability(t *testing.T, act providers.Action, id, from string) {
	t.Helper()
	accepted := e.applied(id) > 0
	if allows := e.a.Vendor.Capabilities.Allows(act, from); allows != accepted {
		t.Errorf("Capabilities.Allows(%s, %q) = %v, but the simulator accepted the call: %v (calls %+v)",
			act, from, allows, accepted, e.mutations(id))
	}
}

// checkOutcome compares a call's result with the expected outcome.
func checkOutcome(t *testing.T, obs providers.Observation, err error, want Outcome) {
	t.Helper()
	if want.Err != "" {
		var perr *providers.Error
		if !errors.As(err, &perr) || perr.Kind != want.Err {
			t.Errorf("got (%+v, %v), want a *providers.Error of kind %s", obs, err, want.Err)
		}
		return
	}
	if err != nil {
		t.Errorf("error %v, want success with %s/%s", err, want.VendorState, want.State)
		return
	}
	if obs.State != want.State || obs.VendorState != want.VendorState {
		t.Errorf("returned {VendorState:%q State:%q}, want {VendorState:%q State:%q}",
			obs.VendorState, obs.State, want.VendorState, want.State)
	}
}

// checkLeft: the simulator holds the order where the outcome leaves it; a
// refused call changes nothing.
func (e *env) checkLeft(t *testing.T, id, from string, want Outcome) {
	t.Helper()
	leaves := want.Leaves
	if want.Err != "" {
		leaves = from
	}
	if got := e.simState(t, id); got != leaves {
		t.Errorf("simulator has the order %q afterwards, want %q", got, leaves)
	}
}

// checkReadBack: after a successful action the next Observe agrees with the
// simulator, and a canceled order reads canceled, or what the vendor says
// canceled orders read as (Capabilities.CanceledReadsAs). Otherwise the
// controller would try to cancel again forever.
func (e *env) checkReadBack(t *testing.T, act providers.Action, id string, want Outcome) {
	t.Helper()
	obs, err := e.client.Observe(t.Context(), id)
	e.assertClean(t, obs, err)
	if err != nil {
		t.Errorf("Observe after %s: %v", act, err)
		return
	}
	if obs.ID != id || obs.VendorState != want.Leaves || obs.State != e.a.States[want.Leaves] {
		t.Errorf("Observe after %s = %q %q/%q, want %q %q/%q",
			act, obs.ID, obs.VendorState, obs.State, id, want.Leaves, e.a.States[want.Leaves])
	}
	readsAs := e.a.Vendor.Capabilities.CanceledReadsAs
	if act == providers.ActionCancel && obs.State != providers.StateCanceled && (readsAs == "" || obs.VendorState != readsAs) {
		t.Errorf("a canceled order reads %q/%q: neither canceled nor Capabilities.CanceledReadsAs (%q)",
			obs.VendorState, obs.State, readsAs)
	}
}

// checkRepeat: a repeatable action done twice succeeds twice and the second
// call leaves the vendor's order where the first put it.
func checkRepeat(t *testing.T, a Adapter) {
	for _, act := range a.Actions {
		if !act.Repeatable {
			t.Run(string(act.Name), func(t *testing.T) {
				t.Skipf("%s is not repeatable by contract: every accepted call creates a new vendor object", act.Name)
			})
			continue
		}
		for _, from := range successStates(a, act) {
			t.Run(string(act.Name)+"/"+from, func(t *testing.T) {
				e := start(t, a)
				id := e.create(t, from)
				want := act.From[from]
				for i := range 2 {
					obs, err := act.Invoke(t.Context(), e.client, e.sim, id)
					e.assertClean(t, obs, err)
					if err != nil {
						t.Fatalf("call %d: %v", i+1, err)
					}
					checkOutcome(t, obs, err, want)
					e.checkLeft(t, id, from, want)
				}
			})
		}
	}
}

// checkLostResponse: the vendor applies a call but the answer is lost. The
// client must report a transient error (not success, not a refusal), must
// not resend on its own, and a retry of a repeatable action must converge to
// success with the mutation applied exactly once.
func checkLostResponse(t *testing.T, a Adapter) {
	for _, act := range a.Actions {
		for _, from := range successStates(a, act) {
			if !a.Vendor.Capabilities.Allows(act.Name, from) {
				continue // nothing to apply: the order is already there
			}
			t.Run(string(act.Name)+"/"+from, func(t *testing.T) {
				e := start(t, a)
				id := e.create(t, from)
				want := act.From[from]

				e.sim.SetFaults(simkit.Faults{DropAfterCommit: 1})
				obs, err := act.Invoke(t.Context(), e.client, e.sim, id)
				e.sim.SetFaults(simkit.Faults{})
				e.assertClean(t, obs, err)
				wantKind(t, err, providers.KindTransient)
				if n := len(e.mutations(id)); n != 1 {
					t.Fatalf("the client sent %d mutating calls for one %s, want 1: %+v", n, act.Name, e.mutations(id))
				}
				if got := e.simState(t, id); got != want.Leaves {
					t.Fatalf("the vendor did not apply the dropped call: order is %q, want %q", got, want.Leaves)
				}
				if !act.Repeatable {
					return // the caller must look for the created object, never call again
				}
				obs, err = act.Invoke(t.Context(), e.client, e.sim, id)
				e.assertClean(t, obs, err)
				checkOutcome(t, obs, err, want)
				e.checkLeft(t, id, from, want)
				if n := e.applied(id); n != 1 {
					t.Errorf("the %s took effect %d times, want exactly once: %+v", act.Name, n, e.mutations(id))
				}
			})
		}
	}
}

// checkComposites: orders of several parts are summed up the same way by
// client and simulator, and actions on them do what the adapter says.
func checkComposites(t *testing.T, a Adapter) {
	if len(a.Composites) == 0 {
		t.Skipf("%s orders have a single part", a.Name)
	}
	for _, c := range a.Composites {
		name := strings.Join(c.Parts, "+")
		t.Run(name+"/Observe", func(t *testing.T) {
			e, id := startComposite(t, a, c)
			obs, err := e.client.Observe(t.Context(), id)
			e.assertClean(t, obs, err)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if obs.ID != id || obs.VendorState != c.VendorState || obs.State != c.State {
				t.Errorf("Observe = {ID:%q VendorState:%q State:%q}, want {ID:%q VendorState:%q State:%q}",
					obs.ID, obs.VendorState, obs.State, id, c.VendorState, c.State)
			}
			e.checkParts(t, obs, c.Parts)
		})
		for _, act := range a.Actions {
			want, ok := c.Outcomes[act.Name]
			if !ok {
				continue
			}
			t.Run(name+"/"+string(act.Name), func(t *testing.T) {
				e, id := startComposite(t, a, c)
				obs, err := act.Invoke(t.Context(), e.client, e.sim, id)
				e.assertClean(t, obs, err)
				checkOutcome(t, obs, err, want)
				e.checkLeft(t, id, c.VendorState, want)
			})
		}
	}
}

// startComposite serves a simulator holding one composite order.
func startComposite(t *testing.T, a Adapter, c Composite) (*env, string) {
	t.Helper()
	e := start(t, a)
	id, err := a.NewComposite(e.sim, c.Parts)
	if err != nil {
		t.Fatalf("NewComposite(%q): %v", c.Parts, err)
	}
	if got := e.simState(t, id); got != c.VendorState {
		t.Fatalf("simulator sums up %q as %q, want %q", c.Parts, got, c.VendorState)
	}
	return e, id
}

// wantKind fails unless err is a *providers.Error of kind.
func wantKind(t *testing.T, err error, kind providers.ErrorKind) *providers.Error {
	t.Helper()
	var perr *providers.Error
	if !errors.As(err, &perr) || perr.Kind != kind {
		t.Errorf("error = %v, want a *providers.Error of kind %s", err, kind)
		return nil
	}
	return perr
}

// sortedStates lists the vendor's states in a stable order.
func sortedStates(a Adapter) []string {
	out := make([]string, 0, len(a.States))
	for s := range a.States {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// successStates are the states from which act succeeds.
func successStates(a Adapter, act Action) []string {
	var out []string
	for _, s := range sortedStates(a) {
		if o, ok := act.From[s]; ok && o.Err == "" {
			out = append(out, s)
		}
	}
	return out
}
