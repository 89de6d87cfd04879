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
	"k8s.io/client-go/util/workqueue"
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
)

// VerificationOrderReconciler keeps one vendor order in its declared state:
// observe at the vendor, plan, apply, record.
type VerificationOrderReconciler struct {
	client.Client
	// APIReader reads Secrets past the cache, which holds only their metadata.
	APIReader client.Reader
	Clients   *ClientCache
	Recorder  events.EventRecorder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// StalledRecheck is how long a Stalled order that an outside fix may
	// heal waits before it is checked again; zero means 10 minutes.
	StalledRecheck time.Duration
	// Backoff spaces retries of transient vendor failures. Required;
	// SetupWithManager fills in DefaultBackoff when it is nil.
	Backoff workqueue.TypedRateLimiter[types.NamespacedName]
}

// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders/finalizers,verbs=update
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile is one refresh → plan → apply pass over a VerificationOrder.
func (r *VerificationOrderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	o := &v1.VerificationOrder{}
	if err := r.Get(ctx, req.NamespacedName, o); err != nil {
		r.Backoff.Forget(req.NamespacedName)
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	if !o.DeletionTimestamp.IsZero() {
		return r.reconcileDelete(ctx, o)
	}
	if err := r.syncFinalizer(ctx, o); err != nil {
		return ctrl.Result{}, err
	}
	before := o.Status.DeepCopy()
	wasStalled := isTrue(o, v1.ConditionStalled)
	out := r.sync(ctx, o)
	o.Status.ObservedGeneration = o.Generation
	setConditions(o, out)
	if out.phase == phaseStalled && !wasStalled {
		log.FromContext(ctx).Info("stalled", "reason", out.reason)
		r.Recorder.Eventf(o, nil, corev1.EventTypeWarning, out.reason, "Stall", "%s", out.message)
	}
	if out.phase == phaseRetrying {
		log.FromContext(ctx).V(1).Info("retrying", "reason", out.reason, "retryAfter", out.retryAfter)
	}
	if !equality.Semantic.DeepEqual(before, &o.Status) {
		if err := r.Status().Update(ctx, o); err != nil {
			return afterStatusWrite(ctx, err)
		}
	}
	return r.requeue(req.NamespacedName, o, out), nil
}

// sync observes, plans and applies, recording what it saw in o.Status.
func (r *VerificationOrderReconciler) sync(ctx context.Context, o *v1.VerificationOrder) outcome {
	if isPaused(o) {
		return outcome{phase: phasePaused, reason: v1.ReasonPaused,
			message: fmt.Sprintf("Annotation %s is \"true\": no vendor calls are made. Remove it to resume.", v1.PausedAnnotation)}
	}
	vc, stall := r.resolve(ctx, o)
	if stall != nil {
		return *stall
	}
	out := r.observePlanApply(ctx, o, vc)
	out.poll = vc.poll
	return out
}

func (r *VerificationOrderReconciler) observePlanApply(ctx context.Context, o *v1.VerificationOrder, vc *vendorClient) outcome {
	in := vc.planInput(o, r.now())
	if d, refused := plan.Preflight(in); refused {
		o.Status.PlannedAction = ""
		return decisionOutcome(d)
	}
	if reverifyInDoubt(o) {
		if out, resolved := r.recoverReverification(ctx, o, vc); !resolved {
			return out
		}
		in = vc.planInput(o, r.now())
	}
	target, id := vc.target(o)
	obs, err := target.Observe(ctx, id)
	if err != nil {
		return errorOutcome(err, vc.vendor.Name, id)
	}
	in.Observed = &obs
	d := plan.Plan(in)
	r.record(o, in, obs, d)
	if d.Action == providers.ActionNone {
		return decisionOutcome(d)
	}
	if o.Spec.ManagementPolicy == v1.ManagementObserveOnly {
		return outcome{phase: phaseReady, reason: v1.ReasonObserveOnly, synced: true,
			message: fmt.Sprintf("%s managementPolicy is ObserveOnly, so nothing is done; planned action: %s.", d.Message, d.Action)}
	}
	return r.apply(ctx, o, vc, d.Action)
}

// apply makes the one planned call and re-plans from the vendor's answer.
func (r *VerificationOrderReconciler) apply(ctx context.Context, o *v1.VerificationOrder, vc *vendorClient, action providers.Action) outcome {
	target, id := vc.target(o)
	var obs providers.Observation
	var err error
	switch action {
	case providers.ActionReverify:
		obs, err = r.reverify(ctx, o, vc)
	case providers.ActionClose:
		obs, err = target.(providers.Closer).Close(ctx, id) // the plan acts only on supported actions
	default:
		obs, err = target.Cancel(ctx, id, cancellation(o))
	}
	if err != nil {
		return errorOutcome(err, vc.vendor.Name, id)
	}
	now := metav1.NewTime(r.now())
	o.Status.LastAppliedAction, o.Status.LastAppliedTime = v1.Action(action), &now
	log.FromContext(ctx).Info("applied", "vendor", vc.vendor.Name, "action", action)
	r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(action), string(action),
		"%s accepted %s for order %s.", vc.vendor.Name, action, obs.ID)
	in := vc.planInput(o, r.now())
	in.Observed = &obs
	d := plan.Plan(in)
	r.record(o, in, obs, d)
	return decisionOutcome(d)
}

// record copies an observation into status. Only vendor-neutral words and
// ids reach it: the Observation type has no field that can hold PII.
func (r *VerificationOrderReconciler) record(o *v1.VerificationOrder, in plan.Input, obs providers.Observation, d plan.Decision) {
	now := metav1.NewTime(r.now())
	s := &o.Status
	s.LastObservedTime = &now
	s.PlannedAction = v1.Action(d.Action)
	if in.Reverify {
		return // obs is the request being reverified, not the managed order
	}
	s.OrderID, s.VendorState, s.State = obs.ID, obs.VendorState, v1.ObservedState(d.State)
	s.Requests = nil
	for _, rq := range obs.Requests {
		s.Requests = append(s.Requests, v1.RequestStatus{ID: rq.ID, VendorState: rq.VendorState})
	}
}

// requeue decides when the order is looked at again.
func (r *VerificationOrderReconciler) requeue(key types.NamespacedName, o *v1.VerificationOrder, out outcome) ctrl.Result {
	if out.phase != phaseRetrying {
		r.Backoff.Forget(key)
	}
	poll := wait.Jitter(cmp.Or(out.poll, defaultPollInterval), pollJitter)
	switch out.phase {
	case phaseRetrying:
		return ctrl.Result{RequeueAfter: max(r.Backoff.When(key), out.retryAfter)}
	case phaseProgressing:
		return ctrl.Result{RequeueAfter: min(progressRecheck, poll)}
	case phaseStalled:
		switch out.recheck {
		case recheckPoll:
			return ctrl.Result{RequeueAfter: poll}
		case recheckSlow:
			return ctrl.Result{RequeueAfter: wait.Jitter(r.stalledRecheck(), pollJitter)}
		}
		return ctrl.Result{}
	case phaseReady:
		if out.terminal {
			return ctrl.Result{}
		}
		return ctrl.Result{RequeueAfter: poll}
	}
	return ctrl.Result{} // paused: the annotation's removal triggers a reconcile
}

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
