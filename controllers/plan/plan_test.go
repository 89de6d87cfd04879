package plan

import (
	"testing"
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// Capability sets shaped like the real vendors', kept here so the table
// does not change when a vendor package does.
var (
	cancelAndClose = providers.Capabilities{From: map[providers.Action][]string{
		providers.ActionCancel: {"building", "opened"},
		providers.ActionClose:  {"opened", "inprogress"},
	}}
	cancelOnly = providers.Capabilities{From: map[providers.Action][]string{
		providers.ActionCancel: {"pending-approval", "processing"},
	}}
	cancelReadsExpired = providers.Capabilities{
		From:            map[providers.Action][]string{providers.ActionCancel: {"pending"}},
		CanceledReadsAs: "expired",
	}
	reverifiable = providers.Capabilities{
		From: map[providers.Action][]string{
			providers.ActionCancel:   {"pending-approval", "processing"},
			providers.ActionReverify: {"completed"},
		},
		ReverifyWindow: 90 * 24 * time.Hour,
	}
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func obs(word string, state providers.State) *providers.Observation {
	return &providers.Observation{ID: "o-1", VendorState: word, State: state}
}

func completedAgo(d time.Duration) *providers.Observation {
	at := now.Add(-d)
	return &providers.Observation{ID: "r-1", VendorState: "completed", State: providers.StateCompleted, CompletedAt: &at}
}

// want is the part of a Decision a row asserts.
type want struct {
	action  providers.Action
	state   providers.State
	verdict Verdict
	reason  v1.Reason
}

func TestPlan(t *testing.T) {
	const (
		active    = providers.StateActive
		canceled  = providers.StateCanceled
		closed    = providers.StateClosed
		completed = providers.StateCompleted
		expired   = providers.StateExpired
		failed    = providers.StateFailed
	)
	cases := []struct {
		name string
		in   Input
		want want
	}{
		// desired active: watch only, whatever the vendor says.
		{"active/active", Input{Desired: v1.DesiredActive, Observed: obs("opened", active), Capabilities: cancelAndClose}, want{state: active, verdict: Converged, reason: v1.ReasonConverged}},
		{"active/canceled", Input{Desired: v1.DesiredActive, Observed: obs("canceled", canceled), Capabilities: cancelAndClose}, want{state: canceled, verdict: Converged, reason: v1.ReasonWatching}},
		{"active/completed", Input{Desired: v1.DesiredActive, Observed: obs("completed", completed), Capabilities: cancelOnly}, want{state: completed, verdict: Converged, reason: v1.ReasonWatching}},
		{"active/expired txcloud never canceled", Input{Desired: v1.DesiredActive, Observed: obs("expired", expired), Capabilities: cancelReadsExpired}, want{state: expired, verdict: Converged, reason: v1.ReasonWatching}},

		// desired canceled.
		{"canceled/cancelable building", Input{Desired: v1.DesiredCanceled, Observed: obs("building", active), Capabilities: cancelAndClose}, want{verdict: Act, action: providers.ActionCancel, state: active, reason: v1.ReasonCanceling}},
		{"canceled/cancelable opened", Input{Desired: v1.DesiredCanceled, Observed: obs("opened", active), Capabilities: cancelAndClose}, want{verdict: Act, action: providers.ActionCancel, state: active, reason: v1.ReasonCanceling}},
		{"canceled/active but not cancelable (inprogress)", Input{Desired: v1.DesiredCanceled, Observed: obs("inprogress", active), Capabilities: cancelAndClose}, want{state: active, verdict: Stalled, reason: v1.ReasonIllegalTransition}},
		{"canceled/unknown active word", Input{Desired: v1.DesiredCanceled, Observed: obs("other", active), Capabilities: cancelOnly}, want{state: active, verdict: Stalled, reason: v1.ReasonIllegalTransition}},
		{"canceled/already canceled", Input{Desired: v1.DesiredCanceled, Observed: obs("canceled", canceled), Capabilities: cancelAndClose}, want{state: canceled, verdict: Converged, reason: v1.ReasonConverged}},
		{"canceled/closed", Input{Desired: v1.DesiredCanceled, Observed: obs("closed", closed), Capabilities: cancelAndClose}, want{state: closed, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"canceled/completed", Input{Desired: v1.DesiredCanceled, Observed: obs("completed", completed), Capabilities: cancelOnly}, want{state: completed, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"canceled/failed", Input{Desired: v1.DesiredCanceled, Observed: obs("invalid", failed), Capabilities: cancelOnly}, want{state: failed, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"canceled/expired, not by us", Input{Desired: v1.DesiredCanceled, Observed: obs("expired", expired), Capabilities: cancelReadsExpired}, want{state: expired, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"canceled/expired after our cancel", Input{Desired: v1.DesiredCanceled, Observed: obs("expired", expired), Capabilities: cancelReadsExpired, LastApplied: providers.ActionCancel}, want{state: canceled, verdict: Converged, reason: v1.ReasonConverged}},
		{"canceled/our cancel but vendor says verified", Input{Desired: v1.DesiredCanceled, Observed: obs("verified", completed), Capabilities: cancelReadsExpired, LastApplied: providers.ActionCancel}, want{state: completed, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"canceled/expired on a vendor with a canceled state", Input{Desired: v1.DesiredCanceled, Observed: obs("expired", expired), Capabilities: cancelOnly, LastApplied: providers.ActionCancel}, want{state: expired, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},

		// desired closed.
		{"closed/inprogress", Input{Desired: v1.DesiredClosed, Observed: obs("inprogress", active), Capabilities: cancelAndClose}, want{verdict: Act, action: providers.ActionClose, state: active, reason: v1.ReasonClosing}},
		{"closed/opened", Input{Desired: v1.DesiredClosed, Observed: obs("opened", active), Capabilities: cancelAndClose}, want{verdict: Act, action: providers.ActionClose, state: active, reason: v1.ReasonClosing}},
		{"closed/building", Input{Desired: v1.DesiredClosed, Observed: obs("building", active), Capabilities: cancelAndClose}, want{state: active, verdict: Stalled, reason: v1.ReasonIllegalTransition}},
		{"closed/already closed", Input{Desired: v1.DesiredClosed, Observed: obs("closed", closed), Capabilities: cancelAndClose}, want{state: closed, verdict: Converged, reason: v1.ReasonConverged}},
		{"closed/canceled", Input{Desired: v1.DesiredClosed, Observed: obs("canceled", canceled), Capabilities: cancelAndClose}, want{state: canceled, verdict: Stalled, reason: v1.ReasonAlreadyTerminal}},
		{"closed/unsupported vendor", Input{Desired: v1.DesiredClosed, Observed: obs("processing", active), Capabilities: cancelOnly}, want{verdict: Stalled, reason: v1.ReasonUnsupportedState}},
		{"closed/unsupported, not observed", Input{Desired: v1.DesiredClosed, Capabilities: cancelReadsExpired}, want{verdict: Stalled, reason: v1.ReasonUnsupportedState}},

		// not observed yet.
		{"canceled/not observed", Input{Desired: v1.DesiredCanceled, Capabilities: cancelOnly}, want{verdict: Wait, reason: v1.ReasonPending}},

		// reverification.
		{"reverify/unsupported vendor", Input{Desired: v1.DesiredActive, Reverify: true, Observed: completedAgo(time.Hour), Capabilities: cancelAndClose, Now: now}, want{verdict: Stalled, reason: v1.ReasonUnsupportedState}},
		{"reverify/completed yesterday", Input{Desired: v1.DesiredActive, Reverify: true, Observed: completedAgo(24 * time.Hour), Capabilities: reverifiable, Now: now}, want{verdict: Act, action: providers.ActionReverify, state: completed, reason: v1.ReasonReverifying}},
		{"reverify/completed exactly 90 days ago", Input{Desired: v1.DesiredActive, Reverify: true, Observed: completedAgo(90 * 24 * time.Hour), Capabilities: reverifiable, Now: now}, want{verdict: Act, action: providers.ActionReverify, state: completed, reason: v1.ReasonReverifying}},
		{"reverify/completed 91 days ago", Input{Desired: v1.DesiredActive, Reverify: true, Observed: completedAgo(91 * 24 * time.Hour), Capabilities: reverifiable, Now: now}, want{state: completed, verdict: Stalled, reason: v1.ReasonReverificationWindowClosed}},
		{"reverify/not completed", Input{Desired: v1.DesiredActive, Reverify: true, Observed: obs("processing", active), Capabilities: reverifiable, Now: now}, want{state: active, verdict: Stalled, reason: v1.ReasonNotReverifiable}},
		{"reverify/canceled", Input{Desired: v1.DesiredActive, Reverify: true, Observed: obs("canceled", canceled), Capabilities: reverifiable, Now: now}, want{state: canceled, verdict: Stalled, reason: v1.ReasonNotReverifiable}},
		{"reverify/completed without date", Input{Desired: v1.DesiredActive, Reverify: true, Observed: obs("completed", completed), Capabilities: reverifiable, Now: now}, want{state: completed, verdict: Stalled, reason: v1.ReasonNotReverifiable}},
		{"reverify then closed on vendor without close", Input{Desired: v1.DesiredClosed, Reverify: true, Observed: completedAgo(time.Hour), Capabilities: reverifiable, Now: now}, want{verdict: Stalled, reason: v1.ReasonUnsupportedState}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.in.Vendor = "vendor"
			d := Plan(c.in)
			got := want{action: d.Action, state: d.State, verdict: d.Verdict, reason: d.Reason}
			if got != c.want {
				t.Errorf("Plan() = %+v, want %+v (message %q)", got, c.want, d.Message)
			}
			if d.Message == "" {
				t.Error("decision has no message")
			}
			if (d.Verdict == Act) != (d.Action != providers.ActionNone) {
				t.Errorf("an action goes with verdict Act, and only with it: %+v", d)
			}
			if !c.in.Reverify && d.State.Terminal() && d.Recheck != RecheckNever {
				t.Errorf("a terminal order is never looked at again by itself: %+v", d)
			}
		})
	}
}

// TestPlanNeverActsAgainstCapabilities walks every combination of desired
// state, vendor word and capability set and checks the invariants that keep
// the controller from making a call the vendor would refuse.
func TestPlanNeverActsAgainstCapabilities(t *testing.T) {
	words := map[string]providers.State{
		"building": providers.StateActive, "opened": providers.StateActive, "inprogress": providers.StateActive,
		"pending-approval": providers.StateActive, "processing": providers.StateActive, "pending": providers.StateActive,
		"canceled": providers.StateCanceled, "closed": providers.StateClosed, "completed": providers.StateCompleted,
		"expired": providers.StateExpired, "invalid": providers.StateFailed,
	}
	for _, caps := range []providers.Capabilities{cancelAndClose, cancelOnly, cancelReadsExpired, reverifiable} {
		for _, desired := range []v1.DesiredState{v1.DesiredActive, v1.DesiredCanceled, v1.DesiredClosed} {
			for word, state := range words {
				for _, last := range []providers.Action{providers.ActionNone, providers.ActionCancel} {
					d := Plan(Input{Vendor: "v", Desired: desired, Observed: obs(word, state), Capabilities: caps, LastApplied: last, Now: now})
					if d.Action != providers.ActionNone && !caps.Allows(d.Action, word) {
						t.Errorf("desired %s, word %s: planned %s, which the vendor refuses from %s", desired, word, d.Action, word)
					}
					if d.Action != providers.ActionNone && state.Terminal() {
						t.Errorf("desired %s: planned %s on terminal %s", desired, d.Action, word)
					}
					if desired == v1.DesiredActive && d.Action != providers.ActionNone {
						t.Errorf("desired active must never act, planned %s on %s", d.Action, word)
					}
					if d.Reason == "" || d.Message == "" {
						t.Errorf("desired %s, word %s: decision without reason or message: %+v", desired, word, d)
					}
				}
			}
		}
	}
}
