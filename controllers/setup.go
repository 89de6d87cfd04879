package controllers

import (
	"cmp"
	"context"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// Field indexes that map a changed provider or Secret to what uses it.
const (
	orderProviderIndex  = ".spec.providerRef.name"
	providerSecretIndex = ".spec.credentialsSecretRef.name"
)

// SetupIndexes registers the field indexes both reconcilers rely on.
func SetupIndexes(ctx context.Context, mgr ctrl.Manager) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, orderProviderIndex, func(obj client.Object) []string {
		return []string{obj.(*v1.VerificationOrder).Spec.ProviderRef.Name}
	}); err != nil {
		return err
	}
	return idx.IndexField(ctx, &v1.VerificationProvider{}, providerSecretIndex, func(obj client.Object) []string {
		return []string{obj.(*v1.VerificationProvider).Spec.CredentialsSecretRef.Name}
	})
}

// reconcileTimeout bounds one reconcile: a few vendor calls, each bounded
// by vendorTimeout, and the status writes.
const reconcileTimeout = 2 * time.Minute

// SetupWithManager watches orders, and the providers and Secrets they use,
// so that fixing a provider or rotating a key heals Stalled orders at once.
// Our own status writes do not trigger a reconcile (they change neither
// generation nor annotations), which keeps a reconcile from causing another
// vendor call.
func (r *VerificationOrderReconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff()
	}
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationOrder{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate()))).
		Watches(&v1.VerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.ordersForProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.ordersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Named("verificationorder").
		WithOptions(controller.Options{MaxConcurrentReconciles: workers, ReconciliationTimeout: reconcileTimeout}).
		Complete(r)
}

func (r *VerificationOrderReconciler) ordersForProvider(ctx context.Context, obj client.Object) []reconcile.Request {
	return r.ordersUsing(ctx, obj.GetNamespace(), obj.GetName())
}

func (r *VerificationOrderReconciler) ordersForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1.VerificationProviderList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.MatchingFields{providerSecretIndex: obj.GetName()}); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, p := range list.Items {
		reqs = append(reqs, r.ordersUsing(ctx, p.Namespace, p.Name)...)
	}
	return reqs
}

func (r *VerificationOrderReconciler) ordersUsing(ctx context.Context, namespace, provider string) []reconcile.Request {
	var list v1.VerificationOrderList
	if err := r.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{orderProviderIndex: provider}); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, o := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: objectKey(&o)})
	}
	return reqs
}

// deletionPredicate passes the update that sets deletionTimestamp.
func deletionPredicate() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e event.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp().IsZero() != e.ObjectNew.GetDeletionTimestamp().IsZero()
	}}
}

func objectKey(obj metav1.Object) types.NamespacedName {
	return types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// Options configure both reconcilers.
type Options struct {
	Registry providers.Registry
	// Transport is the base HTTP transport to vendors; nil means the default.
	Transport http.RoundTripper
	// StalledRecheck: see VerificationOrderReconciler.
	StalledRecheck time.Duration
	// Workers is how many orders are reconciled at once; zero means 8.
	// Vendor calls stay within each provider's rate limit however many.
	Workers int
	// RepeatBackoff: see VerificationOrderReconciler.
	RepeatBackoff time.Duration
	// TraceReconcile: see VerificationOrderReconciler.Trace.
	TraceReconcile func(types.NamespacedName) (done func(ctrl.Result))
}

// Setup registers the indexes and both reconcilers with mgr. The sandbox and
// the test suites use it too, so every entry point runs the same wiring.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := SetupIndexes(ctx, mgr); err != nil {
		return err
	}
	if err := registerFleetMetrics(mgr, metrics.Registry); err != nil {
		return err
	}
	clients := &ClientCache{Transport: opts.Transport}
	budgetChanged := make(chan event.GenericEvent, 64)
	if err := (&VerificationProviderReconciler{
		Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: opts.Registry, Clients: clients,
		Recorder: mgr.GetEventRecorder("verification-operator"), BudgetChanged: budgetChanged,
	}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&VerificationOrderReconciler{
		Client:    mgr.GetClient(),
		Connector: &Connector{Cached: mgr.GetClient(), Live: mgr.GetAPIReader(), Registry: opts.Registry, Clients: clients},
		Recorder:  mgr.GetEventRecorder("verification-operator"), StalledRecheck: opts.StalledRecheck,
		RepeatBackoff: opts.RepeatBackoff, Trace: opts.TraceReconcile, BudgetChanged: budgetChanged,
	}).SetupWithManager(mgr, cmp.Or(opts.Workers, 8))
}

// lastApplied is kubectl's copy of the applied manifest.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TrimForCache is the informer cache's transform: it drops what the
// controllers never read, managed fields and kubectl's last-applied
// annotation, which are often most of an object's size. Every entry point
// sets it (cache.Options.DefaultTransform).
func TrimForCache(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			if _, ok := a[lastApplied]; ok {
				trimmed := make(map[string]string, len(a)-1)
				for k, v := range a {
					if k != lastApplied {
						trimmed[k] = v
					}
				}
				o.SetAnnotations(trimmed)
			}
		}
	}
	return obj, nil
}
