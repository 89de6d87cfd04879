package controllers

import (
	"cmp"
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/retry"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

const (
	// CancelFinalizer holds a VerificationOrder with deletionPolicy Cancel
	// until the vendor order is canceled.
	CancelFinalizer = "verification.ordersync.dev/cancel-on-delete"

	defaultPollInterval   = 5 * time.Minute
	defaultStalledRecheck = 10 * time.Minute
	progressRecheck       = 2 * time.Second
	pollJitter            = 0.1
	// resultDeadline bounds a reconcile's vendor calls and result write
	// once the manager is stopping: above vendorTimeout, below the pod's
	// terminationGracePeriodSeconds.
	resultDeadline = 45 * time.Second
	// maxAppliedCount is how many times an accepted action that does not
	// move the order is repeated (after 2s, 4s, 8s, ...) before stalling.
	maxAppliedCount = 5
)

// resultWriteBackoff retries a status write that carries a vendor result.
var resultWriteBackoff = wait.Backoff{Steps: 20, Duration: 50 * time.Millisecond, Factor: 1.5, Jitter: 0.1, Cap: 2 * time.Second}

// VerificationOrderReconciler keeps one vendor order in its declared state:
// observe at the vendor, plan, apply, record.
type VerificationOrderReconciler struct {
	client.Client
	Connector *Connector
	Recorder  events.EventRecorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StalledRecheck is how long a Stalled order that an outside fix may
	// heal waits before it is checked again; zero means 10 minutes.
	StalledRecheck time.Duration
	// Backoff spaces retries of transient vendor failures. Required;
	// SetupWithManager fills in DefaultBackoff when it is nil.
	Backoff workqueue.TypedRateLimiter[types.NamespacedName]
	// RepeatBackoff is the first wait before repeating an action the vendor
	// accepted without the order moving; it doubles each time. Zero means 2s.
	RepeatBackoff time.Duration
	// BudgetReports is told when an account's polled orders changed.
	BudgetReports *BudgetReports
	// readings are the answers reserved calls are to act on.
	readings readings
	// pending are new orders' Pending writes (see pendingDelay).
	pending pendingWrites
	// Trace, when set, is called as each reconcile starts, and what it
	// returns with the result as it ends: the test suites wait on it
	// instead of sleeping.
	Trace func(types.NamespacedName) (done func(ctrl.Result))
}

// report is what one reconcile learned: the outcome, and the vendor facts
// that status keeps. Reconcile writes it to status in one place (record).
type report struct {
	outcome
	// decision is the last plan made; nil when none was.
	decision *plan.Decision
	// observed: the vendor was read (status.lastObservedTime).
	observed bool
	// order is the managed vendor order as last read; nil when it was not
	// read (or what was read is a request being reverified).
	order *providers.Observation
	// applied is the action this reconcile applied.
	applied providers.Action
	// reverified is the id of the request a reverification created.
	reverified string
	// withdrawIntent: a recorded reverification intent never reached the
	// vendor, so a later attempt is safe.
	withdrawIntent bool
	// withdrawCancelIntent: the vendor refused the cancel and the order is
	// not canceled, so no cancel of ours landed.
	withdrawCancelIntent bool
	// poll is the provider's poll interval; zero before it is known.
	poll time.Duration
}

// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders/finalizers,verbs=update
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile is one refresh → plan → apply pass over a VerificationOrder.
func (r *VerificationOrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	if r.Trace != nil {
		done := r.Trace(req.NamespacedName)
		defer func() { done(res) }()
	}
	o := &v1.VerificationOrder{}
	if err := r.Get(ctx, req.NamespacedName, o); err != nil {
		if apierrors.IsNotFound(err) {
			r.Backoff.Forget(req.NamespacedName)
			r.Connector.Clients.Budgets.ForgetOrder(req.NamespacedName)
			r.readings.forget(req.NamespacedName)
			r.pending.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !o.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, o)
	}
	if err := r.syncFinalizer(ctx, o); err != nil {
		return ctrl.Result{}, err
	}
	r.markReconcilingSoon(o)
	before := o.Status.DeepCopy()
	wasStalled := isTrue(o, v1.ConditionStalled)
	generation := o.Generation
	// A vendor call that changed something must be followed by the write
	// that records it, even when the manager is stopping: run both past
	// shutdown, bounded (terminationGracePeriodSeconds covers it).
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultDeadline)
	defer cancel()
	rep := r.sync(ctx, work, o, false)
	if rep.phase == phaseQueued {
		return ctrl.Result{RequeueAfter: rep.retryAfter}, nil // keeps its priority; a new order's Pending write comes on its own
	}
	r.record(o, rep, generation)
	if rep.phase == phaseStalled && !wasStalled {
		log.FromContext(ctx).Info("stalled", "reason", rep.reason)
		r.Recorder.Eventf(o, nil, corev1.EventTypeWarning, string(rep.reason), "Stall", "%s", rep.message)
	}
	if rep.phase == phaseRetrying {
		log.FromContext(ctx).V(1).Info("retrying", "reason", rep.reason, "retryAfter", rep.retryAfter)
	}
	if !equality.Semantic.DeepEqual(before, &o.Status) {
		if err := r.writeStatus(work, o, rep, generation); err != nil {
			return afterStatusWrite(ctx, err)
		}
	}
	return r.requeue(req.NamespacedName, rep.outcome, rep.poll), nil
}

// sync observes, plans and applies. It changes nothing in o.Status but the
// reverification and cancel intents (see reverify, recordCancelIntent),
// and a new order's Pending conditions written with them (updateStatus).
// Reads use ctx; mutating calls use work, which shutdown does not cancel.
func (r *VerificationOrderReconciler) sync(ctx, work context.Context, o *v1.VerificationOrder, deleting bool) report {
	if isPaused(o) {
		return report{outcome: pausedOutcome}
	}
	conn, failed := r.Connector.connect(ctx, o)
	if failed != nil {
		return report{outcome: *failed}
	}
	key := objectKey(o)
	rep := r.observePlanApply(ctx, work, o, conn, key, deleting)
	if rep.accountPause > 0 {
		conn.budget.Pause(r.now().Add(rep.accountPause))
	}
	if rep.phase != phaseQueued && rep.phase != phaseRetrying && conn.budget.Polled(key, rep.recheck == plan.RecheckPoll, r.now()) {
		r.BudgetReports.Changed(conn.account, types.NamespacedName{})
	}
	rep.poll = conn.budget.PollInterval(conn.poll)
	if quiet, ok := pushing(conn.provider, r.now()); ok {
		rep.poll = max(rep.poll, quiet) // the vendor tells us; the poll is a safety net
	}
	return rep
}

// observePlanApply is the loop: observe, plan, apply. Each vendor call is
// paid from the account's budget first; when it has nothing now, the order
// is queued until its reserved call is due and the worker moves on.
func (r *VerificationOrderReconciler) observePlanApply(ctx, work context.Context, o *v1.VerificationOrder, conn *Connection, key types.NamespacedName, deleting bool) report {
	in := conn.planInput(o, o.Spec.Reverification != nil && o.Status.OrderID == "", r.now())
	if d, refused := plan.Preflight(in); refused {
		return report{outcome: decisionOutcome(d), decision: &d}
	}
	t, rep, done := r.target(ctx, o, conn)
	if done || deleting && t.reverify {
		return rep // a reverification that created nothing has nothing to cancel
	}
	in.Reverify = t.reverify
	if obs, ok := r.recentObservation(o, t, conn, key); ok {
		d := plan.Plan(withObserved(in, obs))
		if obs.State.Terminal() && d.Verdict != plan.Act {
			// A terminal order never changes at the vendor: nothing to ask.
			rep.outcome, rep.decision = decisionOutcome(d), &d
			return rep
		}
		if r.mayAct(o, d) {
			// The order was observed within its poll interval: act on that,
			// without reading it again. Every vendor answers an action with
			// the order's new state, and refuses an illegal one itself.
			if due := conn.budget.Take(key, r.now()); due > 0 {
				return queued(rep, due)
			}
			rep.decision = &d
			r.readings.forget(key) // one action per answer
			acted, refused := r.apply(work, o, conn, t, in, rep)
			if !refused || conn.budget.Take(key, r.now()) > 0 {
				return acted // a refusal is reported; the next look observes
			}
			// Refused: observe, and report what the vendor says now.
		}
	}
	if due := conn.budget.Take(key, r.now()); due > 0 {
		return queued(rep, due)
	}
	r.readings.forget(key) // what is read now replaces it
	obs, err := providers.Checked(t.client.Observe(providers.WithPacer(ctx, conn.budget.Pacer(1)), t.id))
	if err != nil {
		rep.outcome = errorOutcome(err, conn.vendor.Name, t.id, providers.ActionNone)
		return rep
	}
	rep.learn(t, obs, plan.Plan(withObserved(in, obs)))
	d := rep.decision
	if d.Verdict != plan.Act {
		return rep
	}
	if ignored(o, *d) {
		rep.outcome = stalled(v1.ReasonVendorIgnoredAction, fmt.Sprintf(
			"%s accepted %s %d times in a row, but the order is still %s; no more calls are made. Ask %s why; the controller keeps watching and converges if the order moves.",
			conn.vendor.Name, d.Action, o.Status.AppliedCount, obs.VendorState, conn.vendor.Name), plan.RecheckPoll)
		rep.synced = true
		return rep
	}
	if o.Spec.ManagementPolicy == v1.ManagementObserveOnly && !deleting {
		rep.outcome = outcome{phase: phaseReady, reason: v1.ReasonObserveOnly, synced: true, recheck: plan.RecheckPoll,
			message: fmt.Sprintf("%s managementPolicy is ObserveOnly, so nothing is done; planned action: %s.", d.Message, d.Action)}
		return rep
	}
	if due := conn.budget.Take(key, r.now()); due > 0 {
		// Record what was observed; the action follows when its call is
		// due, on this observation (readings).
		r.readings.put(key, obs)
		rep.retryAfter = due
		return rep
	}
	acted, _ := r.apply(work, o, conn, t, in, rep)
	return acted
}

// recentObservation is what can stand in for reading t again: the answer
// a reserved call is to act on (readings), or what status says of the same
// vendor object when it is terminal (it never changes) or was read within
// the poll interval and not followed by a refusal (a Stalled order is read
// again first).
func (r *VerificationOrderReconciler) recentObservation(o *v1.VerificationOrder, t target, conn *Connection, key types.NamespacedName) (providers.Observation, bool) {
	if obs, ok := r.readings.get(key, t.id); ok {
		return obs, true
	}
	s := o.Status
	if t.reverify || s.OrderID != t.id || s.VendorState == "" || s.LastObservedTime == nil {
		return providers.Observation{}, false
	}
	obs := providers.Observation{ID: s.OrderID, VendorState: s.VendorState, State: providers.State(s.State)}
	if obs.State.Terminal() {
		return obs, true
	}
	if isTrue(o, v1.ConditionStalled) || r.now().Sub(s.LastObservedTime.Time) > conn.poll {
		return providers.Observation{}, false
	}
	return obs, true
}

// mayAct: the plan acts, and nothing stops this controller from doing so.
func (r *VerificationOrderReconciler) mayAct(o *v1.VerificationOrder, d plan.Decision) bool {
	return d.Verdict == plan.Act && o.Spec.ManagementPolicy != v1.ManagementObserveOnly && !ignored(o, d)
}

// ignored: the vendor accepted this action maxAppliedCount times in a row
// without the order moving; it is not repeated.
func ignored(o *v1.VerificationOrder, d plan.Decision) bool {
	return o.Status.AppliedCount >= maxAppliedCount && d.Action == providers.Action(o.Status.LastAppliedAction)
}

// queued: the account has no call to spare now; come back when the
// order's reserved call is due. Nothing new is known, so status is kept.
func queued(rep report, due time.Duration) report {
	rep.outcome = outcome{phase: phaseQueued, retryAfter: due, holdsDeletion: true}
	return rep
}

// apply makes the one planned call and re-plans from the vendor's answer.
// refused: the vendor refused the call as it was (it was not applied).
func (r *VerificationOrderReconciler) apply(ctx context.Context, o *v1.VerificationOrder, conn *Connection, t target, in plan.Input, rep report) (report, bool) {
	action := rep.decision.Action
	ctx = providers.WithPacer(ctx, conn.budget.Pacer(1)) // the caller paid for the action; a read that settles it pays its own way
	var obs providers.Observation
	var err error
	switch action {
	case providers.ActionReverify:
		obs, err = r.reverify(ctx, o, conn, &rep)
	case providers.ActionClose:
		obs, err = t.client.(providers.Closer).Close(ctx, t.id) // the plan acts only on supported actions
	default:
		if err = r.recordCancelIntent(ctx, o, conn); err == nil {
			obs, err = t.client.Cancel(ctx, t.id, cancellation(o))
			// Refused, after Settle read the order and found it not canceled:
			// no cancel of ours landed, before or now.
			rep.withdrawCancelIntent = providers.KindOf(err) == providers.KindRejected
		}
	}
	// An answer without a usable id or state fails like a read would; the
	// action may have landed, and repeating it is safe (every vendor takes
	// a repeated cancel or close as a no-op; reverify checks its own).
	obs, err = providers.Checked(obs, err)
	if err != nil {
		rep.outcome = errorOutcome(err, conn.vendor.Name, t.id, action)
		return rep, providers.KindOf(err) == providers.KindRejected
	}
	if action == providers.ActionReverify {
		t = target{client: t.client, id: obs.ID} // the answer is the new request, to manage from now on
	}
	rep.applied = action
	log.FromContext(ctx).Info("applied", "vendor", conn.vendor.Name, "action", action)
	r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(action), string(action),
		"%s accepted %s for order %s.", conn.vendor.Name, action, obs.ID)
	in.Reverify, in.LastApplied = t.reverify, action
	rep.learn(t, obs, plan.Plan(withObserved(in, obs)))
	if rep.decision.Verdict == plan.Act {
		// Accepted, yet the order did not move: look again later each time.
		rep.retryAfter = cmp.Or(r.RepeatBackoff, progressRecheck) << (min(appliedCount(o, action), 9) - 1)
	}
	return rep, false
}

// recordCancelIntent writes status.cancelRequestedTime before a cancel, at a
// vendor that shows a canceled order as something else: if the cancel's
// answer is lost, it alone tells a later reading of that word from the
// vendor's own doing. Like the reverification intent, it must land before
// the call.
func (r *VerificationOrderReconciler) recordCancelIntent(ctx context.Context, o *v1.VerificationOrder, conn *Connection) error {
	if conn.vendor.Capabilities.CanceledReadsAs == "" || o.Status.CancelRequestedTime != nil {
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

func withObserved(in plan.Input, obs providers.Observation) plan.Input {
	in.Observed = &obs
	return in
}

// record writes what a reconcile learned to status: the one place status
// changes, but for the intents and a new order's Pending conditions
// (pending.go). Only vendor-neutral words and
// ids reach it: the Observation type has no field that can hold PII.
func (r *VerificationOrderReconciler) record(o *v1.VerificationOrder, rep report, generation int64) {
	now := metav1.NewTime(r.now())
	s := &o.Status
	s.ObservedGeneration = generation
	if rep.decision != nil {
		s.PlannedAction = v1.Action(rep.decision.Action)
	}
	if rep.observed {
		s.LastObservedTime = &now
	}
	if rep.withdrawIntent {
		s.ReverificationRequestedTime = nil
	}
	if rep.withdrawCancelIntent {
		s.CancelRequestedTime = nil
	}
	if rep.reverified != "" {
		s.OrderID = rep.reverified
	}
	if rep.applied != providers.ActionNone {
		s.AppliedCount = appliedCount(o, rep.applied)
		s.LastAppliedAction, s.LastAppliedTime = v1.Action(rep.applied), &now
	}
	if rep.decision != nil && rep.decision.Verdict != plan.Act {
		s.AppliedCount = 0 // the order moved, or nothing is left to do
	}
	if obs := rep.order; obs != nil {
		s.OrderID, s.VendorState, s.State = obs.ID, obs.VendorState, v1.ObservedState(rep.decision.State)
		s.Requests = nil
		for _, rq := range obs.Requests {
			s.Requests = append(s.Requests, v1.RequestStatus{ID: rq.ID, VendorState: rq.VendorState})
		}
	}
	setConditions(o, rep.outcome, generation)
}

// carriesResult: the report holds what a vendor did on our behalf, which
// no later observation can tell again (txcloud reads a canceled
// verification as expired; a reverification's new id).
func (rep report) carriesResult() bool {
	return rep.applied != providers.ActionNone || rep.reverified != "" || rep.withdrawIntent || rep.withdrawCancelIntent
}

// writeStatus writes o's status. A report that carries a result survives a
// conflict (someone edited a label meanwhile, or the spec): the object is
// read again past the cache and the report recorded on it, until the write
// lands or ctx ends. The conditions keep the generation that was
// reconciled, so a changed spec still reads as not yet observed.
func (r *VerificationOrderReconciler) writeStatus(ctx context.Context, o *v1.VerificationOrder, rep report, generation int64) error {
	err := r.updateStatus(ctx, o)
	if !rep.carriesResult() {
		return err
	}
	return retry.OnError(resultWriteBackoff, apierrors.IsConflict, func() error {
		if err == nil || !apierrors.IsConflict(err) {
			return err
		}
		latest := &v1.VerificationOrder{}
		if err = r.Connector.Live.Get(ctx, client.ObjectKeyFromObject(o), latest); err != nil {
			return err
		}
		r.record(latest, rep, generation)
		err = r.Status().Update(ctx, latest)
		latest.DeepCopyInto(o)
		return err
	})
}

// requeue decides when the order is looked at again: retries back off per
// order (never sooner than the vendor's Retry-After), except those that
// only wait for the account's rate limit to lift; anything else follows
// the outcome's recheck, with jitter. Routine looks (polls, retries,
// rechecks) go behind a person's change in the queue.
func (r *VerificationOrderReconciler) requeue(key types.NamespacedName, out outcome, poll time.Duration) ctrl.Result {
	routine := ptr.To(routinePriority)
	if out.waitsForAccount {
		return ctrl.Result{RequeueAfter: out.retryAfter, Priority: routine}
	}
	if out.phase == phaseRetrying {
		return ctrl.Result{RequeueAfter: max(r.Backoff.When(key), out.retryAfter), Priority: routine}
	}
	r.Backoff.Forget(key)
	s := Schedule{Poll: defaultPollInterval, Soon: progressRecheck, Slow: r.stalledRecheck()}
	if poll > 0 {
		s.Poll = poll
	}
	after := s.after(out)
	switch {
	case after == 0:
		return ctrl.Result{}
	case out.recheck == plan.RecheckSoon:
		return ctrl.Result{RequeueAfter: after} // following up on an action: keeps its priority
	}
	return ctrl.Result{RequeueAfter: wait.Jitter(after, pollJitter), Priority: routine}
}

// routinePriority is below the default priority (0) that a change to an
// order, its provider or its Secret is queued with.
const routinePriority = -10

func (r *VerificationOrderReconciler) stalledRecheck() time.Duration {
	if r.StalledRecheck > 0 {
		return r.StalledRecheck
	}
	return defaultStalledRecheck
}

func (r *VerificationOrderReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
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

func isPaused(o *v1.VerificationOrder) bool {
	return o.Annotations[v1.PausedAnnotation] == "true"
}

func isTrue(o *v1.VerificationOrder, condition string) bool {
	for _, c := range o.Status.Conditions {
		if c.Type == condition {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// DefaultBackoff retries transient vendor failures exponentially, from 1s
// to 5m per order.
func DefaultBackoff() workqueue.TypedRateLimiter[types.NamespacedName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](time.Second, 5*time.Minute)
}

// afterStatusWrite decides what a failed status write means.
func afterStatusWrite(ctx context.Context, err error) (ctrl.Result, error) {
	if err == nil || ctx.Err() != nil {
		return ctrl.Result{}, nil // shutting down: the next leader starts afresh
	}
	if apierrors.IsConflict(err) {
		// Our cached copy is older than the object; the newer version has
		// been or will be delivered, and is reconciled from scratch.
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, err
}
