package controllers

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// ProviderInUseFinalizer holds a VerificationProvider while orders with
// deletionPolicy Cancel may still need it to cancel.
const ProviderInUseFinalizer = "verification.ordersync.dev/in-use"

// VerificationProviderReconciler reports whether a provider's Secret holds
// well-formed credentials for its vendor and environment. It never calls the
// vendor: a rejected key shows on the orders that use it.
type VerificationProviderReconciler struct {
	client.Client
	// APIReader reads Secrets past the cache, which holds only their metadata.
	APIReader client.Reader
	Registry  providers.Registry
	// Clients is told when a provider is deleted, to drop its client.
	Clients *ClientCache
}

// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch

// Reconcile checks the provider's credentials and sets Ready.
func (r *VerificationProviderReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	p := &v1.VerificationProvider{}
	if err := r.Get(ctx, req.NamespacedName, p); err != nil {
		if client.IgnoreNotFound(err) == nil && r.Clients != nil {
			r.Clients.Forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	users, err := r.cancelingOrders(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if done, err := r.syncInUse(ctx, p, users); done || err != nil {
		return ctrl.Result{}, err
	}
	before := p.Status.DeepCopy()
	status, reason, message, err := r.check(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	if !p.DeletionTimestamp.IsZero() {
		status, reason = metav1.ConditionFalse, v1.ReasonInUse
		message = fmt.Sprintf("Being deleted: waiting for %d VerificationOrders with deletionPolicy Cancel to cancel at the vendor first.", users)
	}
	p.Status.ObservedGeneration = p.Generation
	meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{
		Type: v1.ConditionReady, Status: status, Reason: string(reason), Message: message, ObservedGeneration: p.Generation})
	if equality.Semantic.DeepEqual(before, &p.Status) {
		return ctrl.Result{}, nil
	}
	return afterStatusWrite(ctx, r.Status().Update(ctx, p))
}

// cancelingOrders counts the orders that may still need p to cancel their
// vendor order: those holding the cancel-on-delete finalizer.
func (r *VerificationProviderReconciler) cancelingOrders(ctx context.Context, p *v1.VerificationProvider) (int, error) {
	var list v1.VerificationOrderList
	if err := r.List(ctx, &list, client.InNamespace(p.Namespace), client.MatchingFields{orderProviderIndex: p.Name}); err != nil {
		return 0, err
	}
	n := 0
	for i := range list.Items {
		if controllerutil.ContainsFinalizer(&list.Items[i], CancelFinalizer) {
			n++
		}
	}
	return n, nil
}

// syncInUse keeps the in-use finalizer on p while orders with deletionPolicy
// Cancel use it, as Crossplane's ProviderConfigUsage does: deleting a
// namespace deletes the provider with the orders, and the orders need it to
// cancel. done: p is gone or going, and there is nothing more to report.
func (r *VerificationProviderReconciler) syncInUse(ctx context.Context, p *v1.VerificationProvider, users int) (done bool, err error) {
	has := controllerutil.ContainsFinalizer(p, ProviderInUseFinalizer)
	switch {
	case !p.DeletionTimestamp.IsZero() && users == 0:
		if !has {
			return true, nil
		}
		controllerutil.RemoveFinalizer(p, ProviderInUseFinalizer)
		return true, r.Update(ctx, p)
	case !p.DeletionTimestamp.IsZero():
		return false, nil // keep waiting; each order that goes reconciles p
	case (users > 0) != has:
		if users > 0 {
			controllerutil.AddFinalizer(p, ProviderInUseFinalizer)
		} else {
			controllerutil.RemoveFinalizer(p, ProviderInUseFinalizer)
		}
		return false, r.Update(ctx, p)
	}
	return false, nil
}

func (r *VerificationProviderReconciler) check(ctx context.Context, p *v1.VerificationProvider) (metav1.ConditionStatus, v1.Reason, string, error) {
	vendor, err := r.Registry.Get(string(p.Spec.Vendor))
	if err != nil {
		return metav1.ConditionFalse, v1.ReasonUnknownVendor, err.Error(), nil
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Spec.CredentialsSecretRef.Name}, secret); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return "", "", "", err
		}
		return metav1.ConditionFalse, v1.ReasonSecretNotFound, errSecretNotFound{name: p.Spec.CredentialsSecretRef.Name}.Error() + ".", nil
	}
	env := environment(p)
	if err := vendor.ValidateCredentials(env, secret.Data); err != nil {
		return metav1.ConditionFalse, v1.ReasonInvalidCredentials,
			fmt.Sprintf("Secret %q is not usable for %s %s: %v", secret.Name, vendor.Name, env, err), nil
	}
	return metav1.ConditionTrue, v1.ReasonCredentialsValid,
		fmt.Sprintf("Secret %q holds well-formed %s credentials for %s.", secret.Name, vendor.Name, env), nil
}

// SetupWithManager watches providers and the Secrets they name.
func (r *VerificationProviderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationProvider{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.providersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&v1.VerificationOrder{}, handler.EnqueueRequestsFromMapFunc(providerOfOrder),
			builder.WithPredicates(finalizersChanged())).
		Named("verificationprovider").
		Complete(r)
}

func providerOfOrder(_ context.Context, obj client.Object) []reconcile.Request {
	o := obj.(*v1.VerificationOrder)
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.ProviderRef.Name}}}
}

// finalizersChanged passes orders created or deleted, and updates that add
// or remove a finalizer: what changes how many orders need their provider.
func finalizersChanged() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers())
	}}
}

func (r *VerificationProviderReconciler) providersForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1.VerificationProviderList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{providerSecretIndex: obj.GetName()}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, p := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: objectKey(&p)})
	}
	return reqs
}
