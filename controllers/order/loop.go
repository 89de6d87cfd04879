package order

import (
	"cmp"
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// The loop runs in three steps, each in one place:
//
//   - decide: what the next vendor call is, from what is already known
//     (decide, a function of the order, the reading kept for it and the
//     clock), or that no call is needed;
//   - pay: one of the account's calls in flight (callSlot), and one call
//     from its budget (observePlanApply, the one place a reconcile takes
//     from it); when the budget has none now, the call is reserved and the
//     order comes back when it is due;
//   - act: make the call and learn from the answer (observe, apply). An
//     observation that plans an action is followed by that action, paid
//     for the same way.
//
// Calls beyond the one paid for (the read that settles a refused cancel,
// the pages of a search) pay for themselves through the budget's pacer.

// step is the vendor call a reconcile is to make next.
type step struct {
	// act: apply decision, planned on obs; otherwise read the order.
	act      bool
	obs      providers.Observation
	decision plan.Decision
	// fresh: obs was read in this reconcile, not recalled.
	fresh bool
}

// observePlanApply is the loop: decide, pay, act, until nothing is left
// to do in this reconcile.
func (r *Reconciler) observePlanApply(ctx, work context.Context, o *v1.VerificationOrder, conn *connection.Connection, deleting bool) report {
	in := r.planInput(o, conn, deleting)
	if d, refused := plan.Preflight(in); refused {
		return report{outcome: decisionOutcome(d), decision: &d}
	}
	key := client.ObjectKeyFromObject(o)
	calls := r.callSlot(conn, key)
	defer calls.release()
	t, rep, done := r.target(ctx, o, conn, calls)
	if done || deleting && t.reverify {
		return rep // a reverification that created nothing has nothing to cancel
	}
	in.Reverify = t.reverify
	next, done := r.decide(o, t, conn, in, &rep)
	for !done {
		if !r.limitsKnown(ctx) {
			rep.outcome = waitsForLimits
			return rep
		}
		if !calls.take() {
			rep.outcome = waitsForCall
			return rep
		}
		if due := conn.Budget.Take(key); due > 0 {
			return r.reserved(rep, key, next, due)
		}
		r.readings.forget(key) // the call goes now: what it answers replaces it
		if next.act {
			rep.decision = &next.decision
			return r.apply(work, o, conn, t, withObserved(in, next.obs), rep)
		}
		next, done = r.observe(ctx, o, conn, t, in, &rep, deleting)
	}
	return rep
}

// planInput is the plan's view of o; a deletion wants the order canceled.
func (r *Reconciler) planInput(o *v1.VerificationOrder, conn *connection.Connection, deleting bool) plan.Input {
	in := plan.InputFor(o, conn.Vendor, r.now())
	if deleting {
		in.Desired = v1.DesiredCanceled
	}
	return in
}

// decide is the first step: act on a recent observation, read the order,
// or nothing at all (done, with rep saying why).
func (r *Reconciler) decide(o *v1.VerificationOrder, t target, conn *connection.Connection, in plan.Input, rep *report) (next step, done bool) {
	obs, ok := r.recentObservation(o, t, conn)
	if !ok {
		return step{}, false
	}
	d := plan.Plan(withObserved(in, obs))
	switch {
	case obs.State.Terminal() && d.Verdict != plan.Act:
		// A terminal order never changes at the vendor: nothing to ask.
		rep.outcome, rep.decision = decisionOutcome(d), &d
		return step{}, true
	case r.mayAct(o, d):
		// The order was observed within its poll interval: act on that,
		// without reading it again. Every vendor answers an action with
		// the order's new state, and refuses an illegal one itself.
		return step{act: true, obs: obs, decision: d}, false
	}
	return step{}, false // a poll: read it
}

// reserved ends a reconcile whose next call is not due yet. An action
// planned on what was just read keeps that reading, so the reconcile that
// comes when the call is due acts on it (readings) and the observation is
// recorded now. What the search for a reverification in doubt found is
// recorded too, lest the next reconcile search again. Otherwise nothing
// new is known.
func (r *Reconciler) reserved(rep report, key client.ObjectKey, next step, due time.Duration) report {
	switch {
	case next.act && next.fresh:
		r.readings.put(key, next.obs)
		rep.retryAfter = due
	case rep.carriesResult():
		rep.outcome = outcome{phase: phaseProgressing, reason: v1.ReasonReverifying, synced: true, recheck: plan.RecheckSoon, retryAfter: due,
			message: "The outcome of the earlier reverify call is recorded; the next call is due when the account's budget allows."}
	default:
		rep.outcome = outcome{phase: phaseQueued, retryAfter: due, holdsDeletion: true}
	}
	return rep
}

// observe reads the order and plans from the answer; next is the action
// that follows, if any.
func (r *Reconciler) observe(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, t target, in plan.Input, rep *report, deleting bool) (next step, done bool) {
	var obs providers.Observation
	var err error
	r.vendorCall(ctx, o, func() {
		obs, err = providers.Checked(t.client.Observe(r.vendorContext(ctx, conn, 1), t.id))
	})
	if err != nil {
		rep.outcome = errorOutcome(err, conn.Vendor.Name, t.id, providers.ActionNone)
		return step{}, true
	}
	d := plan.Plan(withObserved(in, obs))
	rep.learn(t, obs, d)
	switch {
	case d.Verdict != plan.Act:
		return step{}, true
	case ignored(o, d):
		rep.outcome = stalled(v1.ReasonVendorIgnoredAction, fmt.Sprintf(
			"%s accepted %s %d times in a row, but the order is still %s; no more calls are made. Ask %s why; the controller keeps watching and converges if the order moves.",
			conn.Vendor.Name, d.Action, o.Status.AppliedCount, obs.VendorState, conn.Vendor.Name), plan.RecheckPoll)
		rep.synced = true
		return step{}, true
	case o.Spec.ManagementPolicy == v1.ManagementObserveOnly && !deleting:
		rep.outcome = outcome{phase: phaseReady, reason: v1.ReasonObserveOnly, synced: true, recheck: plan.RecheckPoll,
			message: fmt.Sprintf("%s managementPolicy is ObserveOnly, so nothing is done; planned action: %s.", d.Message, d.Action)}
		return step{}, true
	}
	return step{act: true, obs: obs, decision: d, fresh: true}, false
}

// recentObservation is what can stand in for reading t again: the answer
// a reserved call is to act on (readings), or what status says of the same
// vendor object when it is terminal (it never changes) or was read within
// the poll interval and not followed by a refusal (a Stalled order is read
// again first).
func (r *Reconciler) recentObservation(o *v1.VerificationOrder, t target, conn *connection.Connection) (providers.Observation, bool) {
	if obs, ok := r.readings.get(client.ObjectKeyFromObject(o), t.id); ok {
		return obs, true
	}
	obs, ok := plan.RecordedObservation(o)
	if !ok || t.reverify || obs.ID != t.id {
		return providers.Observation{}, false
	}
	if obs.State.Terminal() {
		return obs, true
	}
	if isTrue(o, v1.ConditionStalled) || r.now().Sub(o.Status.LastObservedTime.Time) > conn.Poll {
		return providers.Observation{}, false
	}
	return obs, true
}

// mayAct: the plan acts, and nothing stops this controller from doing so.
func (r *Reconciler) mayAct(o *v1.VerificationOrder, d plan.Decision) bool {
	return d.Verdict == plan.Act && o.Spec.ManagementPolicy != v1.ManagementObserveOnly && !ignored(o, d)
}

// ignored: the vendor accepted this action maxAppliedCount times in a row
// without the order moving; it is not repeated.
func ignored(o *v1.VerificationOrder, d plan.Decision) bool {
	return o.Status.AppliedCount >= maxAppliedCount && d.Action == providers.Action(o.Status.LastAppliedAction)
}

// apply makes the one planned call, paid for, and re-plans from the
// vendor's answer. A refusal says where the order is (providers.Settle
// read it): that is planned from too, so a refused action costs no second
// read.
func (r *Reconciler) apply(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, t target, in plan.Input, rep report) report {
	action := rep.decision.Action
	ctx = r.vendorContext(ctx, conn, 1) // the action is paid for; a read that settles it pays its own way
	obs, err := r.call(ctx, o, conn, t, action, in.Observed, &rep)
	// An answer without a usable id or state fails like a read would; the
	// action may have landed, and repeating it is safe (every vendor takes
	// a repeated cancel or close as a no-op; reverify checks its own).
	obs, err = providers.Checked(obs, err)
	if err != nil {
		rep.outcome = errorOutcome(err, conn.Vendor.Name, t.id, action)
		if providers.KindOf(err) == providers.KindRejected && obs.Check() == nil {
			rep.refusedAt(t, obs, plan.Plan(withObserved(in, obs)))
		}
		return rep
	}
	if action == providers.ActionReverify {
		t = target{client: t.client, id: obs.ID} // the answer is the new request, to manage from now on
	}
	if rep.adopted {
		r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, "ReverificationAdopted", string(action),
			"%s already has request %s, a reverification of %s made before; it is managed instead of reverifying again.",
			conn.Vendor.Name, obs.ID, o.Spec.Reverification.VerificationRequestID)
		action = providers.ActionNone
	} else {
		rep.applied = action
		log.FromContext(ctx).Info("applied", "vendor", conn.Vendor.Name, "action", action)
		r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(action), string(action),
			"%s accepted %s for order %s.", conn.Vendor.Name, action, obs.ID)
	}
	in.Reverify, in.LastApplied = t.reverify, action
	rep.learn(t, obs, plan.Plan(withObserved(in, obs)))
	if rep.decision.Verdict == plan.Act {
		// Accepted, yet the order did not move: look again later each time.
		rep.retryAfter = cmp.Or(r.RepeatBackoff, progressRecheck) << (min(appliedCount(o, action), 9) - 1)
	}
	return rep
}

// call makes the vendor call of action, with its intent recorded first
// where one is needed.
func (r *Reconciler) call(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, t target, action providers.Action, source *providers.Observation, rep *report) (obs providers.Observation, err error) {
	switch action {
	case providers.ActionReverify:
		return r.reverify(ctx, o, conn, source, rep)
	case providers.ActionClose:
		r.vendorCall(ctx, o, func() {
			obs, err = t.client.(providers.Closer).Close(ctx, t.id) // the plan acts only on supported actions
		})
		return obs, err
	}
	if err := r.recordCancelIntent(ctx, o, conn); err != nil {
		return providers.Observation{}, err
	}
	why := cancellation(o) // read before the call: a Pending write meanwhile rewrites o
	r.vendorCall(ctx, o, func() {
		obs, err = t.client.Cancel(ctx, t.id, why)
	})
	// Refused, after Settle read the order and found it not canceled: no
	// cancel of ours landed, before or now.
	rep.withdrawCancelIntent = providers.KindOf(err) == providers.KindRejected
	return obs, err
}

// recordCancelIntent writes status.cancelRequestedTime before a cancel, at a
// vendor that shows a canceled order as something else: if the cancel's
// answer is lost, it alone tells a later reading of that word from the
// vendor's own doing. Like the reverification intent, it must land before
// the call.
func (r *Reconciler) recordCancelIntent(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection) error {
	if conn.Vendor.Capabilities.CanceledReadsAs == "" || o.Status.CancelRequestedTime != nil {
		return nil
	}
	now := metav1.NewTime(r.now())
	o.Status.CancelRequestedTime = &now
	if err := r.updateStatus(ctx, o); err != nil {
		o.Status.CancelRequestedTime = nil
		return fmt.Errorf("recording the cancel intent: %w", err)
	}
	return nil
}

// appliedCount is how many times in a row action will have been applied.
func appliedCount(o *v1.VerificationOrder, action providers.Action) int32 {
	if providers.Action(o.Status.LastAppliedAction) != action {
		return 1
	}
	return o.Status.AppliedCount + 1
}

// learn takes in what the vendor said about t and what the plan made of it.
func (rep *report) learn(t target, obs providers.Observation, d plan.Decision) {
	rep.outcome = decisionOutcome(d)
	rep.decision, rep.observed, rep.order = &d, true, nil
	if !t.reverify {
		rep.order = &obs
	}
}

// refusedAt takes in where a refused action found the order. The
// refusal, in the vendor's words, is the outcome, unless the order has
// ended (canceled by someone else, completed): then the plan says what
// that means.
func (rep *report) refusedAt(t target, obs providers.Observation, d plan.Decision) {
	refusal := rep.outcome
	rep.learn(t, obs, d)
	if !obs.State.Terminal() {
		rep.outcome = refusal
	}
}

// vendorContext is ctx for one operation's vendor calls: the first free
// of them are paid for already, the others pay through the budget's pacer;
// every Retry-After the vendor sends, on any call of the operation and
// whenever it arrives, pauses the whole account (15 minutes at most, as
// the order's own wait is clamped).
func (r *Reconciler) vendorContext(ctx context.Context, conn *connection.Connection, free int) context.Context {
	ctx = providers.WithPacer(ctx, conn.Budget.Pacer(free))
	return providers.WithThrottle(ctx, func(wait time.Duration) {
		wait, _ = clampRetryAfter(wait)
		conn.Budget.Pause(r.now().Add(wait))
	})
}

func withObserved(in plan.Input, obs providers.Observation) plan.Input {
	in.Observed = &obs
	return in
}

func cancellation(o *v1.VerificationOrder) providers.Cancellation {
	c := providers.Cancellation{Reason: "other"}
	if o.Spec.Cancellation != nil {
		if o.Spec.Cancellation.Reason != "" {
			c.Reason = string(o.Spec.Cancellation.Reason)
		}
		c.Details = o.Spec.Cancellation.Details
	}
	return c
}
