// Package plan decides the one vendor action that closes the gap between
// what a VerificationOrder wants and what the vendor reported. Plan is a
// pure function of its Input: no clock, no client, no Kubernetes object.
// InputFor and RecordedObservation build that Input from an order, for the
// controller and the kubectl plugin alike.
package plan

import (
	"fmt"
	"strings"
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// Input is everything the plan depends on.
type Input struct {
	// Vendor is the vendor's name, for messages.
	Vendor string
	// Desired is spec.state.
	Desired v1.DesiredState
	// Reverify is true while a spec.reverification has not created its
	// vendor object yet; Observed then describes the request to reverify.
	Reverify bool
	// Observed is what the vendor said; nil before the first observation.
	Observed *providers.Observation
	// Capabilities are what the vendor allows.
	Capabilities providers.Capabilities
	// LastApplied is the last action that may have reached the vendor:
	// status.lastAppliedAction, or a cancel status.cancelRequestedTime
	// records whose answer was lost.
	LastApplied providers.Action
	// Now is used only for time-bounded vendor rules (the reverify window).
	Now time.Time
}

// Verdict is what the plan concluded about the order.
type Verdict int

const (
	// Converged means the order is where the spec wants it (Ready).
	Converged Verdict = iota + 1
	// Act means: apply Decision.Action.
	Act
	// Wait means there is nothing to do yet; look again soon.
	Wait
	// Stalled means nothing this controller can do helps until the vendor or a
	// person moves.
	Stalled
)

func (v Verdict) String() string {
	switch v {
	case Converged:
		return "Converged"
	case Act:
		return "Act"
	case Wait:
		return "Wait"
	case Stalled:
		return "Stalled"
	}
	return fmt.Sprintf("Verdict(%d)", int(v))
}

// Recheck says when the order is worth looking at again, short of a change
// to the order, its provider or its Secret (which always triggers a look).
type Recheck int

const (
	// RecheckNever means never by itself: the order is terminal, or only a change to the object helps.
	RecheckNever Recheck = iota
	// RecheckPoll means at the poll interval, since the vendor may move the order.
	RecheckPoll
	// RecheckSoon means within seconds: an action was just applied.
	RecheckSoon
	// RecheckSlow means now and then, since an outside fix (the vendor's support,
	// a Secret that is not ours) is likely.
	RecheckSlow
)

// Decision is the plan's answer.
type Decision struct {
	Verdict Verdict
	// Action to apply when Verdict is Act; ActionNone otherwise.
	Action providers.Action
	// State is the observed state as the controller reports it.
	State providers.State
	// Recheck is when to look again.
	Recheck Recheck
	// Reason and Message explain the decision, for the Ready condition.
	Reason  v1.Reason
	Message string
}

// Preflight returns the decision for requests no vendor state can satisfy,
// so the controller refuses them without calling the vendor.
func Preflight(in Input) (Decision, bool) {
	if in.Reverify && !in.Capabilities.Supports(providers.ActionReverify) {
		return unsupported(in, "reverification"), true
	}
	if a := actionFor(in.Desired); a != providers.ActionNone && !in.Capabilities.Supports(a) {
		return unsupported(in, "state: "+string(in.Desired)), true
	}
	return Decision{}, false
}

// Plan decides what to do about an observed order.
func Plan(in Input) Decision {
	if d, refused := Preflight(in); refused {
		return d
	}
	if in.Observed == nil {
		return Decision{Verdict: Wait, Recheck: RecheckSoon, Reason: v1.ReasonPending, Message: "The order has not been observed yet."}
	}
	if in.Reverify {
		return planReverify(in)
	}
	obs := *in.Observed
	state := effectiveState(in)
	action := actionFor(in.Desired)
	switch {
	case action == providers.ActionNone && state == providers.StateActive:
		return converged(state, v1.ReasonConverged, fmt.Sprintf("The order is active at %s (%s).", in.Vendor, obs.VendorState))
	case action == providers.ActionNone:
		return converged(state, v1.ReasonWatching,
			fmt.Sprintf("%s finished the order (%s); state active only watches it, so there is nothing to do.", in.Vendor, obs.VendorState))
	case state == targetState(action):
		return converged(state, v1.ReasonConverged, fmt.Sprintf("The order is %s at %s.", state, in.Vendor))
	case state.Terminal():
		return stalled(state, RecheckNever, v1.ReasonAlreadyTerminal,
			fmt.Sprintf("Wanted %s, but %s had already ended the order as %s (%s); no action can change a terminal order. Set state to match or delete this object.",
				in.Desired, in.Vendor, state, obs.VendorState))
	case !in.Capabilities.Allows(action, obs.VendorState):
		return stalled(state, RecheckPoll, v1.ReasonIllegalTransition,
			fmt.Sprintf("%s accepts %s only from %s; the order is %s. The controller checks again as the order moves; change spec.state if this cannot happen.",
				in.Vendor, action, strings.Join(in.Capabilities.From[action], ", "), obs.VendorState))
	default:
		return act(action, state, fmt.Sprintf("The order is %s at %s; %s it.", obs.VendorState, in.Vendor, strings.ToLower(progressVerb(action))))
	}
}

func planReverify(in Input) Decision {
	obs := *in.Observed
	window := in.Capabilities.ReverifyWindow
	switch {
	case !in.Capabilities.Allows(providers.ActionReverify, obs.VendorState):
		return stalled(obs.State, RecheckPoll, v1.ReasonNotReverifiable,
			fmt.Sprintf("%s reverifies only requests that are %s; request %s is %s.",
				in.Vendor, strings.Join(in.Capabilities.From[providers.ActionReverify], ", "), obs.ID, obs.VendorState))
	case obs.CompletedAt == nil:
		return stalled(obs.State, RecheckPoll, v1.ReasonNotReverifiable,
			fmt.Sprintf("%s did not report when request %s was completed, so the %s reverification window cannot be checked.", in.Vendor, obs.ID, days(window)))
	case window > 0 && in.Now.Sub(*obs.CompletedAt) > window:
		return stalled(obs.State, RecheckNever, v1.ReasonReverificationWindowClosed,
			fmt.Sprintf("Request %s was completed on %s, more than %s ago; %s no longer reverifies it. Order a new verification instead.",
				obs.ID, obs.CompletedAt.UTC().Format("2006-01-02"), days(window), in.Vendor))
	default:
		return act(providers.ActionReverify, obs.State, fmt.Sprintf("Request %s is completed; reverifying it at %s.", obs.ID, in.Vendor))
	}
}

func converged(state providers.State, reason v1.Reason, message string) Decision {
	recheck := RecheckPoll
	if state.Terminal() {
		recheck = RecheckNever
	}
	return Decision{Verdict: Converged, State: state, Recheck: recheck, Reason: reason, Message: message}
}

func stalled(state providers.State, recheck Recheck, reason v1.Reason, message string) Decision {
	return Decision{Verdict: Stalled, State: state, Recheck: recheck, Reason: reason, Message: message}
}

func act(action providers.Action, state providers.State, message string) Decision {
	return Decision{Verdict: Act, Action: action, State: state, Recheck: RecheckSoon, Reason: progressReason(action), Message: message}
}

// effectiveState accounts for vendors without a canceled state: an order
// this controller canceled reads as canceled, whatever the vendor calls it.
func effectiveState(in Input) providers.State {
	c := in.Capabilities.CanceledReadsAs
	if c != "" && in.LastApplied == providers.ActionCancel && in.Observed.VendorState == c {
		return providers.StateCanceled
	}
	return in.Observed.State
}

func unsupported(in Input, what string) Decision {
	return stalled("", RecheckNever, v1.ReasonUnsupportedState,
		fmt.Sprintf("%s does not support %s. It supports: %s.", in.Vendor, what, in.Capabilities.Describe()))
}

func actionFor(d v1.DesiredState) providers.Action {
	switch d {
	case v1.DesiredCanceled:
		return providers.ActionCancel
	case v1.DesiredClosed:
		return providers.ActionClose
	default:
		return providers.ActionNone
	}
}

func targetState(a providers.Action) providers.State {
	if a == providers.ActionClose {
		return providers.StateClosed
	}
	return providers.StateCanceled
}

func progressReason(a providers.Action) v1.Reason {
	switch a {
	case providers.ActionClose:
		return v1.ReasonClosing
	case providers.ActionReverify:
		return v1.ReasonReverifying
	default:
		return v1.ReasonCanceling
	}
}

func progressVerb(a providers.Action) string {
	if a == providers.ActionClose {
		return "Closing"
	}
	return "Canceling"
}

func days(d time.Duration) string { return fmt.Sprintf("%d-day", int(d.Hours()/24)) }
