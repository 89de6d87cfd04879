package order

import (
	"context"
	"time"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
)

// reconcileTimeout bounds one reconcile: a few vendor calls, each bounded
// by connection.VendorTimeout, and the status writes.
const reconcileTimeout = 2 * time.Minute

// SetupWithManager watches orders, and the providers and Secrets they use,
// so that fixing a provider or rotating a key heals Stalled orders at once.
// Our own status writes do not trigger a reconcile (they change neither
// generation nor annotations), which keeps a reconcile from causing another
// vendor call.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff()
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationOrder{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate()))).
		Watches(&v1.VerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.ordersForProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.ordersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		// An owner deleted, or changed, hands its vendor order to the next.
		Watches(&v1.VerificationOrder{}, handler.EnqueueRequestsFromMapFunc(r.claimants),
			builder.WithPredicates(ownerLetGo())).
		// A flight that landed after its worker let go (flights.go), or a
		// call in flight that ended and frees one for a waiting order.
		WatchesRawSource(source.Channel(r.Wakeups(), &handler.EnqueueRequestForObject{}))
	if r.Connector.ClusterProviders {
		// A namespace's labels decide whether a cluster provider serves it.
		b = b.Watches(&v1.ClusterVerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.ordersForProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
			WatchesMetadata(&corev1.Namespace{}, handler.EnqueueRequestsFromMapFunc(r.ordersOfClusterProviders),
				builder.WithPredicates(predicate.LabelChangedPredicate{}))
	}
	return b.Named("verificationorder").
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, ReconciliationTimeout: reconcileTimeout}).
		Complete(r)
}

func (r *Reconciler) ordersForProvider(ctx context.Context, obj client.Object) []reconcile.Request {
	p := obj.(v1.Provider)
	return r.ordersUsing(ctx, p.GetNamespace(), connection.KindOf(p), p.GetName())
}

func (r *Reconciler) ordersForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	kinds := []v1.ProviderKind{v1.KindVerificationProvider}
	if r.Connector.ClusterProviders {
		kinds = append(kinds, v1.KindClusterVerificationProvider)
	}
	for _, kind := range kinds {
		for _, p := range index.ProvidersUsingSecret(ctx, r.Client, kind, client.ObjectKeyFromObject(obj)) {
			reqs = append(reqs, r.ordersUsing(ctx, p.Namespace, kind, p.Name)...)
		}
	}
	return reqs
}

// ordersUsing lists the orders in namespace (every namespace if empty) that
// use the provider of kind and name.
func (r *Reconciler) ordersUsing(ctx context.Context, namespace string, kind v1.ProviderKind, name string) []reconcile.Request {
	orders, err := index.OrdersUsing(ctx, r.Client, namespace, kind, name)
	if err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(orders))
	for i := range orders {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&orders[i])})
	}
	return reqs
}

// ordersOfClusterProviders lists the orders in a namespace whose labels
// changed that use a cluster provider.
func (r *Reconciler) ordersOfClusterProviders(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1.VerificationOrderList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetName())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range list.Items {
		if list.Items[i].Spec.ProviderRef.Cluster() {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return reqs
}

// ownerLetGo passes an order's deletion, and the changes that may end its
// claim (its spec, its deletionTimestamp).
func ownerLetGo() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetGeneration() != e.ObjectNew.GetGeneration() || deletionPredicate().Update(e)
		},
	}
}

// deletionPredicate passes the update that sets deletionTimestamp.
func deletionPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}
