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
// deletionPolicy Cancel, then releases it. Only failures that waiting can
// cure (outcome.holdsDeletion) hold the deletion; anything that can never
// succeed (the order is terminal, gone, or the provider was deleted with
// the namespace) releases it with a Warning event, so a namespace deletion
// never hangs on a vendor.
func (r *VerificationOrderReconciler) reconcileDelete(ctx context.Context, o *v1.VerificationOrder) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(o, CancelFinalizer) {
		return ctrl.Result{}, nil
	}
	key := objectKey(o)
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultDeadline)
	defer cancel()
	rep := r.cancelForDeletion(work, o)
	if rep.holdsDeletion {
		r.record(o, rep, o.Generation)
		if err := r.writeStatus(work, o, rep, o.Generation); err != nil {
			return afterStatusWrite(ctx, err)
		}
		return r.requeue(key, rep.outcome, rep.poll), nil
	}
	if rep.phase == phaseStalled {
		r.Recorder.Eventf(o, nil, corev1.EventTypeWarning, string(rep.reason), "Delete",
			"Deleted without canceling at the vendor: %s", rep.message)
	}
	r.Backoff.Forget(key)
	controllerutil.RemoveFinalizer(o, CancelFinalizer)
	return ctrl.Result{}, r.Update(work, o)
}

// cancelForDeletion cancels the vendor order if the plan says it can be.
// The finalizer may go unless the report holds the deletion.
func (r *VerificationOrderReconciler) cancelForDeletion(ctx context.Context, o *v1.VerificationOrder) report {
	if isPaused(o) {
		return report{outcome: pausedOutcome} // removing the annotation resumes the deletion
	}
	if o.Spec.ManagementPolicy == v1.ManagementObserveOnly {
		return report{} // ObserveOnly never acts, not even on deletion
	}
	conn, failed := r.Connector.connect(ctx, o)
	if failed != nil {
		return report{outcome: *failed}
	}
	t, rep, done := r.target(ctx, o, conn)
	rep.poll = conn.poll
	if done || t.reverify {
		return rep // the reverification created nothing to cancel, or we cannot tell
	}
	obs, err := t.client.Observe(ctx, t.id)
	if err != nil {
		rep.outcome = errorOutcome(err, conn.vendor.Name, t.id, providers.ActionNone)
		return rep
	}
	in := withObserved(conn.planInput(o, false, r.now()), obs)
	in.Desired = v1.DesiredCanceled
	if d := plan.Plan(in); d.Action != providers.ActionCancel {
		rep.outcome = decisionOutcome(d)
		return rep
	}
	if _, err := t.client.Cancel(ctx, t.id, cancellation(o)); err != nil {
		rep.outcome = errorOutcome(err, conn.vendor.Name, t.id, providers.ActionCancel)
		return rep
	}
	r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(providers.ActionCancel), "Delete",
		"%s canceled order %s before deletion.", conn.vendor.Name, t.id)
	return rep
}
