package order

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// syncFinalizer keeps the finalizer exactly when deletionPolicy is Cancel
// and the provider may serve the order, so Orphan orders are deleted
// without waiting on the vendor, and an order in a namespace a cluster
// provider does not select is no user of it.
func (r *Reconciler) syncFinalizer(ctx context.Context, o *v1.VerificationOrder) error {
	want := o.Spec.DeletionPolicy == v1.DeletionCancel && !r.Connector.NeverServes(ctx, o)
	if want == controllerutil.ContainsFinalizer(o, v1.CancelFinalizer) {
		return nil
	}
	if want {
		controllerutil.AddFinalizer(o, v1.CancelFinalizer)
	} else {
		controllerutil.RemoveFinalizer(o, v1.CancelFinalizer)
	}
	return r.Update(ctx, o)
}

// reconcileDelete cancels the vendor order of a deleted order with
// deletionPolicy Cancel, then releases it. It runs the same loop as any
// order, wanting canceled. Only what waiting can cure (outcome.holdsDeletion,
// or a cancel under way) holds the deletion; anything that can never succeed
// (the order is terminal, gone, or the provider was deleted with the
// namespace) releases it with a Warning event, so a namespace deletion never
// hangs on a vendor.
func (r *Reconciler) reconcileDelete(ctx context.Context, o *v1.VerificationOrder) (ctrl.Result, error) {
	if !controllerutil.ContainsFinalizer(o, v1.CancelFinalizer) {
		return ctrl.Result{}, nil
	}
	key := client.ObjectKeyFromObject(o)
	work, cancel := context.WithTimeout(context.WithoutCancel(ctx), resultDeadline)
	defer cancel()
	if obs, ok := plan.RecordedObservation(o); ok && obs.State.Terminal() {
		// Nothing can change at the vendor again, so nothing is left to
		// cancel: released without connecting (a pruned order, say, whose
		// provider's credentials were rotated away meanwhile).
		r.forget(key)
		controllerutil.RemoveFinalizer(o, v1.CancelFinalizer)
		return ctrl.Result{}, r.Update(work, o)
	}
	var rep report // ObserveOnly never acts, not even on deletion
	if o.Spec.ManagementPolicy != v1.ManagementObserveOnly {
		rep = r.sync(ctx, work, o, true)
	}
	switch {
	case rep.phase == phaseQueued:
		return ctrl.Result{RequeueAfter: rep.retryAfter}, nil
	case rep.holdsDeletion || rep.phase == phaseProgressing:
		r.record(o, rep, o.Generation)
		if err := r.writeResult(work, o, rep, o.Generation); err != nil {
			return afterStatusWrite(ctx, err)
		}
		return r.requeue(key, rep.outcome, rep.poll), nil
	case rep.phase == phaseStalled:
		r.Recorder.Eventf(o, nil, corev1.EventTypeWarning, string(rep.reason), "Delete",
			"Deleted without canceling at the vendor: %s", rep.message)
	case rep.applied == providers.ActionCancel:
		r.Recorder.Eventf(o, nil, corev1.EventTypeNormal, string(providers.ActionCancel), "Delete",
			"%s canceled the order before deletion.", o.Spec.ProviderRef.Name)
	}
	r.forget(key)
	controllerutil.RemoveFinalizer(o, v1.CancelFinalizer)
	return ctrl.Result{}, r.Update(work, o)
}
