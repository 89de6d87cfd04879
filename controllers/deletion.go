package controllers

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// syncFinalizer keeps the finalizer exactly when deletionPolicy is Cancel,
// so Orphan orders are deleted without waiting on the vendor.
func (r *VerificationOrderReconciler) syncFinalizer(ctx context.Context, o *v1.VerificationOrder) error {
	want := o.Spec.DeletionPolicy == v1.DeletionCancel
	if want == controllerutil.ContainsFinalizer(o, CancelFinalizer) {
		return nil
	}
	if want {
		controllerutil.AddFinalizer(o, CancelFinalizer)
	} else {
		controllerutil.RemoveFinalizer(o, CancelFinalizer)
	}
	return r.Update(ctx, o)
}

// reconcileDelete cancels the vendor order of a deleted order with
// deletionPolicy Cancel, then releases it. Only failures that a retry or a
// fixed Secret can cure hold the deletion; anything that can never succeed
// (the order is terminal, gone, or the provider was deleted with the
// namespace) releases it with a Warning event, so a namespace deletion never
// hangs on a vendor.
func (r *VerificationOrderReconciler) reconcileDelete(ctx context.Context, o *v1.VerificationOrder) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(o, CancelFinalizer) {
		return ctrl.Result{}, nil
	}
	key := objectKey(o)
	if isPaused(o) {
		return ctrl.Result{}, nil // deletion waits; removing the annotation resumes it
	}
	out, done := r.cancelForDeletion(ctx, o)
	if !done {
		setConditions(o, out)
		if err := r.Status().Update(ctx, o); err != nil {
			return afterStatusWrite(ctx, err)
		}
		return r.requeue(key, o, out), nil
	}
	if out.phase == phaseStalled {
		r.Recorder.Eventf(o, nil, corev1.EventTypeWarning, out.reason, "Delete",
			"Deleted without canceling at the vendor: %s", out.message)
	}
	r.Backoff.Forget(key)
	controllerutil.RemoveFinalizer(o, CancelFinalizer)
	return ctrl.Result{}, r.Update(ctx, o)
}

// cancelForDeletion returns done when the finalizer may go.
func (r *VerificationOrderReconciler) cancelForDeletion(ctx context.Context, o *v1.VerificationOrder) (outcome, bool) {
	if o.Spec.ManagementPolicy == v1.ManagementObserveOnly {
		return outcome{}, true // ObserveOnly never acts, not even on deletion
	}
	if o.Spec.OrderID == "" && o.Status.OrderID == "" {
		return outcome{}, true // a reverification that created nothing
	}
	vc, stall := r.resolve(ctx, o)
	if stall != nil {
		return *stall, stall.phase == phaseStalled && stall.reason != v1.ReasonCredentialsRejected
	}
	target, id := vc.target(o)
	obs, err := target.Observe(ctx, id)
	if err != nil {
		out := errorOutcome(err, vc.vendor.Name, id)
		return out, out.phase == phaseStalled && out.reason != v1.ReasonCredentialsRejected
	}
	in := vc.planInput(o, r.now())
	in.Desired, in.Observed = v1.DesiredCanceled, &obs
	d := plan.Plan(in)
	if d.Action != providers.ActionCancel {
		return decisionOutcome(d), true
	}
	if _, err := target.Cancel(ctx, id, cancellation(o)); err != nil {
		out := errorOutcome(err, vc.vendor.Name, id)
		return out, out.phase == phaseStalled && out.reason != v1.ReasonCredentialsRejected
	}
	r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(providers.ActionCancel), "Delete",
		"%s canceled order %s before deletion.", vc.vendor.Name, id)
	return outcome{}, true
}
