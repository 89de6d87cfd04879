package conformance

import (
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

// Expiry is how the vendor ends an order by itself (Truv's order-level
// is_expired after its lifetime, txcloud's expired, AccountChek's
// daysRemaining reaching 0).
type Expiry struct {
	// Make returns an order the vendor has ended by itself, by the
	// vendor's own rule (its clock), not by an admin move of its state
	// where the simulator models the rule.
	Make func(sim Sim) (string, error)
	// Reads is the State the ended order must read as.
	Reads providers.State
}

// checkExpiry: the ended order reads as Expiry.Reads, and no action the
// vendor refuses on it changes it: the answer is what the adapter says of
// the order's state, nothing is applied, and it still reads the same.
func checkExpiry(t *testing.T, a Adapter) {
	if a.Expiry == nil {
		t.Skipf("%s does not end orders by itself", a.Name)
	}
	ended := func(t *testing.T) (*env, string, string) {
		e := start(t, a)
		id, err := a.Expiry.Make(e.sim)
		if err != nil {
			t.Fatalf("Expiry.Make: %v", err)
		}
		return e, id, e.simState(t, id)
	}
	t.Run("Observe", func(t *testing.T) {
		e, id, word := ended(t)
		obs, err := e.client.Observe(t.Context(), id)
		e.assertClean(t, obs, err)
		if err != nil {
			t.Fatalf("Observe: %v", err)
		}
		if obs.ID != id || obs.State != a.Expiry.Reads || obs.VendorState != word {
			t.Errorf("Observe = {ID:%q VendorState:%q State:%q}, want {ID:%q VendorState:%q State:%q}",
				obs.ID, obs.VendorState, obs.State, id, word, a.Expiry.Reads)
		}
	})
	for _, act := range a.Actions {
		t.Run(string(act.Name), func(t *testing.T) {
			e, id, word := ended(t)
			if a.Vendor.Capabilities.Allows(act.Name, word) {
				t.Skipf("%s is allowed from %q", act.Name, word)
			}
			want, ok := act.From[word]
			if !ok {
				t.Fatalf("adapter gives no outcome for %s from %q", act.Name, word)
			}
			obs, err := act.Invoke(t.Context(), e.client, e.sim, id)
			e.assertClean(t, obs, err)
			checkOutcome(t, obs, err, want)
			if n := e.applied(id); n != 0 {
				t.Errorf("the vendor applied %d %s calls to an order it had ended: %+v", n, act.Name, e.mutations(id))
			}
			if got := e.simState(t, id); got != word {
				t.Errorf("the order went from %q to %q", word, got)
			}
			obs, err = e.client.Observe(t.Context(), id)
			e.assertClean(t, obs, err)
			if err != nil || obs.State != a.Expiry.Reads {
				t.Errorf("Observe afterwards = %+v, %v; want State %q", obs, err, a.Expiry.Reads)
			}
		})
	}
}
