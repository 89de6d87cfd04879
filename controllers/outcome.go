package controllers

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// phase is what one reconcile concluded, which decides the conditions and
// when the order is looked at again.
type phase int

const (
	// phaseReady: the order is where it should be (or, ObserveOnly, was read).
	phaseReady phase = iota
	// phaseProgressing: an action was applied; re-observe soon.
	phaseProgressing
	// phaseRetrying: a transient failure; retry with backoff.
	phaseRetrying
	// phaseStalled: nothing helps until someone changes something.
	phaseStalled
	// phasePaused: the pause annotation is set; no vendor calls.
	phasePaused
)

// recheck says when a Stalled order is looked at again.
type recheck int

const (
	recheckNever recheck = iota // only a change to the order, provider or Secret helps
	recheckPoll                 // the vendor may move the order: poll
	recheckSlow                 // an outside fix is likely: check now and then
)

// outcome is one reconcile's conclusion.
type outcome struct {
	phase   phase
	reason  string
	message string
	// synced is false when the vendor could not be reached or refused.
	synced bool
	// terminal: the order can never change again; stop polling.
	terminal   bool
	recheck    recheck
	retryAfter time.Duration
	// poll is the provider's poll interval; zero before it is known.
	poll time.Duration
}

func readyOutcome(d plan.Decision) outcome {
	return outcome{phase: phaseReady, reason: d.Reason, message: d.Message, synced: true, terminal: d.State.Terminal()}
}

func decisionOutcome(d plan.Decision) outcome {
	switch {
	case d.Ready:
		return readyOutcome(d)
	case d.Stalled:
		return stalled(d.Reason, d.Message, true, stallRecheck(d.Reason))
	default:
		return outcome{phase: phaseProgressing, reason: d.Reason, message: d.Message, synced: true}
	}
}

func stalled(reason, message string, synced bool, r recheck) outcome {
	return outcome{phase: phaseStalled, reason: reason, message: message, synced: synced, recheck: r}
}

func stallRecheck(reason string) recheck {
	switch reason {
	case v1.ReasonIllegalTransition, v1.ReasonNotReverifiable:
		return recheckPoll
	case v1.ReasonAlreadyTerminal, v1.ReasonUnsupportedState, v1.ReasonReverifyWindowClosed:
		return recheckNever
	default:
		return recheckSlow
	}
}

// errorOutcome turns a vendor error into conditions a person can act on.
func errorOutcome(err error, vendor, orderID string) outcome {
	var perr *providers.Error
	if !errors.As(err, &perr) {
		perr = &providers.Error{Kind: providers.KindTransient, Message: providers.Sanitize(err.Error())}
	}
	switch perr.Kind {
	case providers.KindNotFound:
		return stalled(v1.ReasonOrderNotFound, fmt.Sprintf("%s has no order %q visible to these credentials. Check spec.orderID and that the provider's account owns the order.", vendor, orderID), false, recheckSlow)
	case providers.KindUnauthorized:
		return stalled(v1.ReasonCredentialsRejected, fmt.Sprintf("The %s credentials were refused: %s. Fix the provider's Secret; the order is retried as soon as it changes.", vendor, perr.Message), false, recheckSlow)
	case providers.KindLegalHold:
		return stalled(v1.ReasonLegalHold, fmt.Sprintf("%s may not process this order for legal reasons (HTTP 451): %s. Contact the vendor.", vendor, perr.Message), false, recheckSlow)
	case providers.KindRejected:
		return stalled(v1.ReasonIllegalTransition, fmt.Sprintf("%s refused the request: %s.", vendor, perr.Message), false, recheckPoll)
	case providers.KindRateLimited:
		return outcome{phase: phaseRetrying, reason: v1.ReasonRateLimited, retryAfter: perr.RetryAfter,
			message: fmt.Sprintf("Rate limited calling %s: %s; retrying after backoff.", vendor, perr.Message)}
	default:
		return outcome{phase: phaseRetrying, reason: v1.ReasonVendorError, retryAfter: perr.RetryAfter,
			message: fmt.Sprintf("Could not reach %s: %s; retrying with backoff.", vendor, perr.Message)}
	}
}

// setConditions writes the four kstatus conditions for an outcome: Ready
// and Synced always, Reconciling and Stalled only while True.
func setConditions(o *v1.VerificationOrder, out outcome) {
	gen := o.Generation
	set := func(t string, s metav1.ConditionStatus, reason, msg string) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: t, Status: s, Reason: reason, Message: msg, ObservedGeneration: gen})
	}
	switch out.phase {
	case phaseReady:
		set(v1.ConditionReady, metav1.ConditionTrue, out.reason, out.message)
	case phaseProgressing, phaseStalled:
		set(v1.ConditionReady, metav1.ConditionFalse, out.reason, out.message)
	default:
		// A retry or a pause says nothing new about the vendor order: keep
		// Ready as last observed for this generation, else Unknown.
		if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c == nil || c.ObservedGeneration != gen {
			set(v1.ConditionReady, metav1.ConditionUnknown, out.reason, out.message)
		}
	}
	if out.synced {
		set(v1.ConditionSynced, metav1.ConditionTrue, v1.ReasonSynced, "The last reconcile reached the vendor and did what it planned.")
	} else {
		set(v1.ConditionSynced, metav1.ConditionFalse, out.reason, out.message)
	}
	if out.phase == phaseProgressing || out.phase == phaseRetrying {
		set(v1.ConditionReconciling, metav1.ConditionTrue, out.reason, out.message)
	} else {
		meta.RemoveStatusCondition(&o.Status.Conditions, v1.ConditionReconciling)
	}
	if out.phase == phaseStalled {
		set(v1.ConditionStalled, metav1.ConditionTrue, out.reason, out.message)
	} else {
		meta.RemoveStatusCondition(&o.Status.Conditions, v1.ConditionStalled)
	}
}
