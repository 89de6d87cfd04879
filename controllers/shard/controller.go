package shard

import (
	"context"

	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
)

// SetupWithManager routes the orders this instance caches: each as it
// appears (every order at start-up, each new one) or has its label
// changed, and those of a provider whose labels changed. The order
// reconciler also routes each order before it looks at it (Route), so
// that it never works on an order of another shard's provider.
func (r *Router) SetupWithManager(mgr ctrl.Manager, kinds []v1.ProviderKind) error {
	b := ctrl.NewControllerManagedBy(mgr).Named("shard-router").
		For(&v1.VerificationOrder{}, builder.WithPredicates(predicate.LabelChangedPredicate{}))
	for _, kind := range kinds {
		b = b.Watches(connection.EmptyProvider(kind), handler.EnqueueRequestsFromMapFunc(r.ordersOf),
			builder.WithPredicates(predicate.LabelChangedPredicate{}))
		b = b.Watches(connection.EmptyProvider(kind), handler.Funcs{UpdateFunc: r.relabeled},
			builder.WithPredicates(predicate.LabelChangedPredicate{}))
	}
	return b.WithOptions(controller.Options{MaxConcurrentReconciles: 2}).Complete(r)
}

// Reconcile routes one order.
func (r *Router) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	o := &v1.VerificationOrder{}
	if err := r.Client.Get(ctx, req.NamespacedName, o); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	_, err := r.Route(ctx, o)
	return reconcile.Result{}, err
}

func (r *Router) ordersOf(ctx context.Context, obj client.Object) []reconcile.Request {
	p := obj.(v1.Provider)
	orders, err := index.OrdersUsing(ctx, r.Client, p.GetNamespace(), connection.KindOf(p), p.GetName())
	if err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(orders))
	for i := range orders {
		reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&orders[i])})
	}
	return reqs
}

// relabeled tells Relabeled of a provider whose labels changed.
func (r *Router) relabeled(_ context.Context, e event.TypedUpdateEvent[client.Object], _ workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if p, ok := e.ObjectNew.(v1.Provider); ok && r.Relabeled != nil && Of(e.ObjectOld) != Of(e.ObjectNew) {
		r.Relabeled(p)
	}
}
