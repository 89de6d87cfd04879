package chaos

import (
	"testing"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// TestPlaysFitTheVendors holds the plays each vendor declares for the
// chaos runs to what it declares it allows, and to its simulator, without a
// control plane: a play whose words its simulator cannot seed, or whose
// end the checks would misjudge, fails here rather than in a run.
func TestPlaysFitTheVendors(t *testing.T) {
	for _, entry := range simulators.All() {
		t.Run(entry.Name, func(t *testing.T) {
			a := testAccount(t, entry.Name)
			if entry.Chaos.Share <= 0 || len(entry.Chaos.Plays) == 0 {
				t.Fatalf("no chaos share or plays: %+v", entry.Chaos)
			}
			for _, p := range playsOf(entry) {
				for _, word := range p.words {
					if id, err := a.sim.CreateOrder(word); err != nil {
						t.Errorf("%s: the simulator cannot seed %q: %v", p.kind, word, err)
					} else if got, _ := a.sim.OrderState(id); got != word {
						t.Errorf("%s: seeded %q, the order reads %q", p.kind, word, got)
					}
					if why := misfit(a, p, word); why != "" {
						t.Errorf("%s from %q (desired %s): %s", p.kind, word, p.desired, why)
					}
				}
			}
		})
	}
}

// misfit says why play p from word cannot end as the checks expect of its
// kind, or "".
func misfit(a *account, p play, word string) string {
	caps := a.vendor.Capabilities
	action := map[v1.DesiredState]providers.Action{canceled: providers.ActionCancel, closed: providers.ActionClose}[p.desired]
	wanted := map[v1.DesiredState]string{canceled: canceledWord(a), closed: closedWord(a)}[p.desired]
	if p.desired == closed && len(wordsFor(a, providers.StateClosed)) > 1 {
		return "the vendor has several words for closed: closedWord would pick one at random"
	}
	switch p.kind {
	case simkit.PlayCancel, simkit.PlayClose, simkit.PlayObserveOnly, simkit.PlayPaused:
		switch {
		case action == providers.ActionNone:
			return "wants no change"
		case wanted == "":
			return "the vendor has no word for the desired state"
		case !caps.Allows(action, word):
			return "the vendor does not allow it"
		}
	case simkit.PlayReverify:
		if _, ok := a.sim.(reverifier); !ok || !caps.Allows(providers.ActionReverify, word) {
			return "the vendor or its simulator does not reverify from it"
		}
	case simkit.PlayActive, simkit.PlayDeleteOrphan:
		if p.desired != active || terminal(a, word) {
			return "not an active order left alone"
		}
	case simkit.PlayDeleteCancel:
		if p.desired != active || !caps.Allows(providers.ActionCancel, word) {
			return "not an active order its deletion can cancel"
		}
	case simkit.PlayAlreadyThere:
		if wanted == "" || word != wanted {
			return "the order is not already in the desired state"
		}
	case simkit.PlayAlreadyTerminal:
		if !terminal(a, word) || word == wanted {
			return "not an order ended otherwise than desired"
		}
	case simkit.PlayUnsupported:
		if action == providers.ActionNone || caps.Supports(action) {
			return "the vendor supports it"
		}
	case simkit.PlayIllegal:
		if !caps.Supports(action) || caps.Allows(action, word) || terminal(a, word) {
			return "not a live order the vendor refuses it from"
		}
	default:
		return "a kind the checks do not know"
	}
	return ""
}

func wordsFor(a *account, s providers.State) []string {
	var words []string
	for word, state := range a.vendor.States {
		if state == s {
			words = append(words, word)
		}
	}
	return words
}
