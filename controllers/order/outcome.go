package order

import (
	"errors"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// phase is what one reconcile concluded, which decides the conditions.
type phase int

const (
	// phaseReady: the order is where it should be (or, ObserveOnly, was read).
	phaseReady phase = iota
	// phaseProgressing: an action was applied, or the order is pending.
	phaseProgressing
	// phaseRetrying: a transient failure; retry with backoff.
	phaseRetrying
	// phaseStalled: nothing helps until someone changes something.
	phaseStalled
	// phasePaused: the pause annotation is set; no vendor calls.
	phasePaused
	// phaseQueued: the vendor account has no call to spare now; the order
	// comes back when its reserved call is due. Nothing new is known.
	phaseQueued
)

// outcome is one reconcile's conclusion: the conditions it sets, when the
// order is looked at again, and whether a Cancel-policy deletion may go on.
type outcome struct {
	phase   phase
	reason  v1.Reason
	message string
	// synced is false when the vendor could not be reached or refused.
	synced bool
	// recheck is when to look again, unless phase is phaseRetrying (backoff).
	recheck plan.Recheck
	// retryAfter: a retry, or a recheck soon, waits at least this long.
	retryAfter time.Duration
	// accountPause: the vendor asked to slow down; the whole account
	// pauses this long, not only this order.
	accountPause time.Duration
	// waitsForAccount: a retry held back by the account's rate limit, not
	// by anything wrong with this order. It comes back when the account's
	// pause ends (retryAfter) and does not grow the order's backoff: an
	// order that met a busy account five times is not five times as sick,
	// and a reverification search cut short by a 429 must not be parked
	// for minutes once the account has calls again.
	waitsForAccount bool
	// holdsDeletion: waiting can still let a Cancel-policy deletion cancel
	// the vendor order (the vendor is down, the credentials will be fixed),
	// so the finalizer stays. Otherwise the deletion goes ahead without it.
	holdsDeletion bool
}

func decisionOutcome(d plan.Decision) outcome {
	out := outcome{reason: d.Reason, message: d.Message, synced: true, recheck: d.Recheck}
	switch d.Verdict {
	case plan.Converged:
		out.phase = phaseReady
	case plan.Stalled:
		out.phase = phaseStalled
	default:
		out.phase = phaseProgressing
	}
	return out
}

// connectOutcome says why the order's provider could not be used.
func connectOutcome(err error) outcome {
	var unusable *connection.Unusable
	var rejected *connection.CredentialsRejected
	switch {
	case errors.As(err, &unusable):
		recheck := plan.RecheckSlow
		if unusable.Permanent {
			recheck = plan.RecheckNever
		}
		return stalled(unusable.Reason, unusable.Message, recheck)
	case errors.As(err, &rejected):
		return errorOutcome(rejected.Err, rejected.Vendor, "", providers.ActionNone)
	}
	return retrying(v1.ReasonReconcileError, "Kubernetes API error: "+err.Error(), 0)
}

// heldOutcome is the outcome of an order whose account another shard
// spends. While a provider moves between shards, that lasts seconds: the
// order waits as for its budget, status unchanged and no backoff grown.
// Past heldPatience it is no move but two providers of one account in
// two shards, and the order says so.
func (r *Reconciler) heldOutcome(key types.NamespacedName, held *connection.AccountHeld) outcome {
	if r.heldSince.since(key, r.now()) < heldPatience {
		return outcome{phase: phaseQueued, retryAfter: held.RetryAfter, holdsDeletion: true}
	}
	out := retrying(v1.ReasonAccountHeldByShard, held.Message, held.RetryAfter)
	out.waitsForAccount = true
	return out
}

// heldPatience is how long an order waits quietly for an account held by
// another shard: longer than a move takes (a lease expiry, 50 s).
const heldPatience = 2 * time.Minute

func stalled(reason v1.Reason, message string, recheck plan.Recheck) outcome {
	return outcome{phase: phaseStalled, reason: reason, message: message, recheck: recheck}
}

func retrying(reason v1.Reason, message string, retryAfter time.Duration) outcome {
	return outcome{phase: phaseRetrying, reason: reason, message: message, retryAfter: retryAfter, holdsDeletion: true}
}

var pausedOutcome = outcome{phase: phasePaused, reason: v1.ReasonPaused, recheck: plan.RecheckNever, holdsDeletion: true,
	message: fmt.Sprintf("Annotation %s is \"true\": no vendor calls are made. Remove it to resume.", v1.PausedAnnotation)}

// errorOutcome turns the vendor error of a read (action ActionNone) or of
// an action into conditions a person can act on.
func errorOutcome(err error, vendor, orderID string, action providers.Action) outcome {
	var perr *providers.Error
	if !errors.As(err, &perr) {
		perr = &providers.Error{Kind: providers.KindTransient, Message: providers.Sanitize(err.Error())}
	}
	switch {
	case perr.Kind == providers.KindNotFound:
		return stalled(v1.ReasonOrderNotFound, fmt.Sprintf("%s has no order %q visible to these credentials. Check spec.orderID and that the provider's account owns the order.", vendor, orderID), plan.RecheckSlow)
	case perr.Kind == providers.KindUnauthorized:
		out := stalled(v1.ReasonCredentialsRejected, fmt.Sprintf("The %s credentials were refused: %s. Fix the provider's Secret; the order is retried as soon as it changes.", vendor, perr.Message), plan.RecheckSlow)
		out.holdsDeletion = true // fixing the Secret lets the cancel through
		return out
	case perr.Kind == providers.KindLegalHold:
		return stalled(v1.ReasonLegalHold, fmt.Sprintf("%s may not process this order for legal reasons (HTTP 451): %s. Contact the vendor.", vendor, perr.Message), plan.RecheckSlow)
	case perr.Kind == providers.KindRejected && perr.StatusCode >= 300 && perr.StatusCode < 400:
		return stalled(v1.ReasonVendorRedirected, fmt.Sprintf("%s answered with a redirect (HTTP %d): %s. The operator never follows redirects, which could send the credentials to another host or turn a cancel into a read. Point spec.endpoint at the vendor's API itself, or fix the proxy in between.", vendor, perr.StatusCode, perr.Message), plan.RecheckSlow)
	case perr.Kind == providers.KindRejected && action == providers.ActionNone:
		return stalled(v1.ReasonVendorRejectedRequest, fmt.Sprintf("%s refused to read order %q: %s. Check spec.orderID and the provider's settings; the controller checks again now and then.", vendor, orderID, perr.Message), plan.RecheckSlow)
	case perr.Kind == providers.KindRejected:
		return stalled(v1.ReasonIllegalTransition, fmt.Sprintf("%s refused %s: %s.", vendor, action, perr.Message), plan.RecheckPoll)
	case perr.Kind == providers.KindSignatureInvalid:
		return stalled(v1.ReasonSignatureInvalid, fmt.Sprintf("A response from %s did not carry a valid signature, so it was not believed: %s. Check spec.responseSignatures.publicKeys against the vendor's published keys, and that no proxy rewrites responses; the controller reads the order again now and then.", vendor, perr.Message), plan.RecheckSlow)
	case perr.Kind == providers.KindOutcomeUnknown && action == providers.ActionReverify:
		return stalled(v1.ReasonReverificationOutcomeUnknown, fmt.Sprintf(
			"Before reverifying request %s, %s was searched for a reverification of it made earlier (by this object before it was deleted and applied again, say), and the search could not tell: %s. Check %s for a request created from it: annotate this object %s=%s/<its id> to manage that one, or %s=%s/none if there is none, to reverify.",
			orderID, vendor, perr.Message, vendor, v1.ReverifiedAnnotation, orderID, v1.ReverifiedAnnotation, orderID), plan.RecheckSlow)
	case perr.Kind == providers.KindRateLimited:
		wait, note := clampRetryAfter(perr.RetryAfter)
		out := retrying(v1.ReasonRateLimited, fmt.Sprintf("Rate limited calling %s: %s; the account pauses, then this order retries.%s", vendor, perr.Message, note), max(wait, minAccountPause))
		out.waitsForAccount = true
		if !perr.NotSent { // a call held back by the pause itself must not prolong it
			out.accountPause = out.retryAfter
		}
		return out
	default:
		wait, note := clampRetryAfter(perr.RetryAfter)
		out := retrying(v1.ReasonVendorUnavailable, fmt.Sprintf("Could not reach %s: %s; retrying with backoff.%s", vendor, perr.Message, note), wait)
		// A Retry-After on a 503 speaks for the vendor, not this order: the
		// whole account waits, so that no other reconcile of this order
		// (its deletion, an edit) or of another calls sooner than asked.
		out.accountPause = wait
		return out
	}
}

// minAccountPause pauses an account that answered 429 without a Retry-After.
const minAccountPause = time.Second

// maxRetryAfter caps a vendor's Retry-After: a misconfigured proxy asking
// for a year must not park an order for a year.
const maxRetryAfter = 15 * time.Minute

func clampRetryAfter(d time.Duration) (time.Duration, string) {
	if d <= maxRetryAfter {
		return d, ""
	}
	return maxRetryAfter, fmt.Sprintf(" The vendor asked to wait %s; the controller waits %s at most.", d.Round(time.Second), maxRetryAfter)
}

// setConditions writes the four kstatus conditions for an outcome: Ready
// and Synced always, Reconciling and Stalled only while True.
func setConditions(o *v1.VerificationOrder, out outcome, gen int64) {
	set := func(t string, s metav1.ConditionStatus, reason v1.Reason, msg string) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: t, Status: s, Reason: string(reason), Message: msg, ObservedGeneration: gen})
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

// Schedule is how long the controller waits before it looks at an order
// again by itself. A change to the order, its provider or its Secret always
// triggers a look at once.
type Schedule struct {
	// Poll is the provider's poll interval.
	Poll time.Duration
	// Soon follows an applied action: re-observe shortly.
	Soon time.Duration
	// Slow is the recheck of a Stalled order that an outside fix may heal.
	Slow time.Duration
}

// after returns the delay for an outcome that is not a retry (retries back
// off per order) and zero for "not by itself". Jitter is added by the caller.
func (s Schedule) after(out outcome) time.Duration {
	switch out.recheck {
	case plan.RecheckPoll:
		return s.Poll
	case plan.RecheckSoon:
		if out.retryAfter > 0 {
			return out.retryAfter // a repeat that backs off
		}
		return min(s.Soon, s.Poll)
	case plan.RecheckSlow:
		return s.Slow
	}
	return 0
}
