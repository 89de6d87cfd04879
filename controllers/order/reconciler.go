// Package order reconciles VerificationOrders: observe the vendor order,
// plan the one action that closes the gap, pay for it from the account's
// budget, apply it, record the outcome. The loop and its rules are
// described in docs/design.md.
//
// An order's status is written at three places only, each one write
// through updateStatus:
//   - the result of a reconcile, once, after the decision (Reconcile,
//     reconcileDelete: record, then writeResult);
//   - an intent, right before the vendor call it announces (reverify,
//     recordCancelIntent), so that a crash between call and result can be
//     told apart from no call;
//   - the Pending conditions of a new order whose result is not in within
//     pendingDelay of the first look (pending.go), from the reconcile's own
//     goroutine.
package order

import (
	"cmp"
	"context"
	"errors"
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
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/conflict"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/providers"
)

const (
	defaultStalledRecheck = 10 * time.Minute
	progressRecheck       = 2 * time.Second
	pollJitter            = 0.1
	// resultDeadline bounds a reconcile's vendor calls and result write
	// once the manager is stopping: above connection.VendorTimeout, below
	// the pod's terminationGracePeriodSeconds.
	resultDeadline = 45 * time.Second
	// maxAppliedCount is how many times an accepted action that does not
	// move the order is repeated (after 2s, 4s, 8s, ...) before stalling.
	maxAppliedCount = 5
)

// resultWriteBackoff retries a status write that carries a vendor result.
var resultWriteBackoff = wait.Backoff{Steps: 20, Duration: 50 * time.Millisecond, Factor: 1.5, Jitter: 0.1, Cap: 2 * time.Second}

// Reconciler keeps one vendor order in its declared state: observe at the
// vendor, plan, pay, apply, record.
type Reconciler struct {
	client.Client
	Connector *connection.Connector
	Recorder  events.EventRecorder
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
	BudgetReports *connection.BudgetReports
	// Claims finds the orders that claim a vendor object (claims.go):
	// index.SetupClaims's, or index.ListClaims over a client that has
	// the field index (index.FieldIndexClaims). Required.
	Claims index.Claims
	// Router, when the manager is one shard of several, sends an order whose
	// provider another shard serves to that shard (controllers/shard).
	Router *shard.Router
	// Trace, when set, is called as each reconcile starts, and what it
	// returns with the result as it ends: the test suites wait on it
	// instead of sleeping.
	Trace func(types.NamespacedName) (done func(ctrl.Result))

	// readings are the answers reserved calls are to act on.
	readings readings
	// firstLooks are when new orders were first looked at (pending.go).
	firstLooks firstLooks
	// flights are the reconciles under way, on the workers or off them.
	flights flights
	// heldSince are when orders first found their account held by another
	// shard (heldOutcome).
	heldSince firstLooks
	// settled latches once every provider declared its limits (limitsKnown).
	settled connection.Settled
}

// report is what one reconcile learned: the outcome, and the vendor facts
// that status keeps. It reaches status in one place (record).
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
	// reverified is the id of the request a reverification created;
	// adopted: found at the vendor, made before, not by this reconcile.
	reverified string
	adopted    bool
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

// Reconcile is one refresh → plan → apply pass over a VerificationOrder,
// flown off the worker when a vendor call is slow (flights.go).
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	if r.Trace != nil {
		done := r.Trace(req.NamespacedName)
		defer func() { done(res) }()
	}
	defer func() { res, err = conflict.Quiet(ctx, res, err) }() // runs before Trace's: it sees the result returned
	return r.flights.fly(ctx, req.NamespacedName, func(ctx context.Context) (ctrl.Result, error) {
		return r.reconcile(ctx, req)
	})
}

func (r *Reconciler) reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	o := &v1.VerificationOrder{}
	if err := r.Get(ctx, req.NamespacedName, o); err != nil {
		if apierrors.IsNotFound(err) {
			r.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if r.Router != nil {
		// Another shard's order leaves this one: nothing else is done here.
		if moved, err := r.Router.Route(ctx, o); err != nil || moved {
			if moved {
				r.forget(req.NamespacedName)
			}
			return ctrl.Result{}, err
		}
	}
	if !o.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, o)
	}
	if err := r.syncFinalizer(ctx, o); err != nil {
		return ctrl.Result{}, err
	}
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
		// Nothing new is known: status stays, but a new order that will
		// wait long says Pending (pending.go). It keeps its priority.
		r.pendWhileQueued(work, o, rep.retryAfter)
		return ctrl.Result{RequeueAfter: rep.retryAfter}, nil
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
		if err := r.writeResult(work, o, rep, generation); err != nil {
			return afterStatusWrite(ctx, err)
		}
	}
	r.rememberReverification(work, o)
	return r.requeue(req.NamespacedName, rep.outcome, rep.poll), nil
}

// forget drops what is kept in memory about an order that is gone.
func (r *Reconciler) forget(key types.NamespacedName) {
	r.Backoff.Forget(key)
	for _, next := range r.Connector.Clients.Budgets.ForgetOrder(key) {
		r.flights.enqueue(next)
	}
	r.readings.forget(key)
	r.firstLooks.forget(key)
	r.heldSince.forget(key)
}

// sync observes, plans and applies, wanting canceled when deleting. It
// changes nothing in o.Status but the intents written before a vendor
// call (and a new order's Pending conditions, pending.go). Reads use ctx;
// mutating calls use work, which shutdown does not cancel.
func (r *Reconciler) sync(ctx, work context.Context, o *v1.VerificationOrder, deleting bool) report {
	if isPaused(o) {
		return report{outcome: pausedOutcome}
	}
	conn, err := r.Connector.Connect(ctx, o)
	key := client.ObjectKeyFromObject(o)
	var held *connection.AccountHeld
	switch {
	case errors.As(err, &held):
		return report{outcome: r.heldOutcome(key, held)}
	case err != nil:
		return report{outcome: connectOutcome(err)}
	}
	r.heldSince.forget(key)
	switch owner, claimed, err := r.claimedBy(ctx, o, conn); {
	case err != nil:
		return report{outcome: claimsUnknownOutcome(err)}
	case claimed:
		return report{outcome: claimedOutcome(owner)}
	}
	rep := r.observePlanApply(ctx, work, o, conn, deleting)
	if rep.accountPause > 0 {
		conn.Budget.Pause(r.now().Add(rep.accountPause))
	}
	if rep.phase != phaseQueued && rep.phase != phaseRetrying && conn.Budget.Polled(key, rep.recheck == plan.RecheckPoll) {
		r.BudgetReports.Changed(conn.Account, types.NamespacedName{})
	}
	rep.poll = conn.Budget.PollInterval(conn.Poll)
	if quiet, ok := pushing(conn.Provider, r.now()); ok {
		rep.poll = max(rep.poll, quiet) // the vendor tells us; the poll is a safety net
	}
	return rep
}

// record writes what a reconcile learned to o's status: the one place a
// result reaches status. Only vendor-neutral words and ids reach it: the
// Observation type has no field that can hold PII.
func (r *Reconciler) record(o *v1.VerificationOrder, rep report, generation int64) {
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

// writeResult writes o's status, recorded from rep. A report that carries
// a result survives a conflict (someone edited a label meanwhile, or the
// spec): the object is read again past the cache and the report recorded
// on it, until the write lands or ctx ends. The conditions keep the
// generation that was reconciled, so a changed spec still reads as not
// yet observed.
func (r *Reconciler) writeResult(ctx context.Context, o *v1.VerificationOrder, rep report, generation int64) error {
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
		err = r.updateStatus(ctx, latest)
		latest.DeepCopyInto(o)
		return err
	})
}

// updateStatus is every status write of an order. A write replaces the
// whole status, so one made before the order has conditions (an intent)
// says Pending itself.
func (r *Reconciler) updateStatus(ctx context.Context, o *v1.VerificationOrder) error {
	if needsPending(o) {
		markPending(o)
	}
	if err := r.Status().Update(ctx, o); err != nil {
		return err
	}
	r.firstLooks.forget(client.ObjectKeyFromObject(o))
	return nil
}

// requeue decides when the order is looked at again: retries back off per
// order (never sooner than the vendor's Retry-After), except those that
// only wait for the account's rate limit to lift; anything else follows
// the outcome's recheck, with jitter. Routine looks (polls, retries,
// rechecks) go behind a person's change in the queue.
func (r *Reconciler) requeue(key types.NamespacedName, out outcome, poll time.Duration) ctrl.Result {
	routine := ptr.To(routinePriority)
	if out.waitsForAccount {
		return ctrl.Result{RequeueAfter: out.retryAfter, Priority: routine}
	}
	if out.phase == phaseRetrying {
		return ctrl.Result{RequeueAfter: max(r.Backoff.When(key), out.retryAfter), Priority: routine}
	}
	r.Backoff.Forget(key)
	s := Schedule{Poll: connection.DefaultPollInterval, Soon: progressRecheck, Slow: cmp.Or(r.StalledRecheck, defaultStalledRecheck)}
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

// clock is the one clock: the budgets'.
func (r *Reconciler) clock() clock.WithTicker { return r.Connector.Clients.Budgets.Time() }

func (r *Reconciler) now() time.Time { return r.clock().Now() }

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
	if apierrors.IsNotFound(err) {
		// Deleted while its vendor call ran (a slow one, off the worker):
		// nothing is left to record, and the reconcile that comes forgets it.
		return ctrl.Result{}, nil
	}
	if apierrors.IsConflict(err) {
		// Our cached copy is older than the object; the newer version has
		// been or will be delivered, and is reconciled from scratch.
		log.FromContext(ctx).V(1).Info("status write conflicted; the newer version is reconciled")
		return ctrl.Result{RequeueAfter: time.Second}, nil
	}
	return ctrl.Result{}, err
}
