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
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers"
)

// Field indexes that map a changed provider or Secret to what uses it.
const (
	// orderProviderIndex: "Kind/name" of an order's provider.
	orderProviderIndex = ".spec.providerRef"
	// providerSecretIndex: "namespace/name" of a provider's Secret.
	providerSecretIndex = ".spec.credentialsSecretRef"
)

// SetupIndexes registers the field indexes the reconcilers rely on.
func SetupIndexes(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	idx := mgr.GetFieldIndexer()
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, orderProviderIndex, func(obj client.Object) []string {
		ref := obj.(*v1.VerificationOrder).Spec.ProviderRef
		return []string{refIndexValue(ref.Kind, ref.Name)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, webhook.OrderVendorIDIndex, func(obj client.Object) []string {
		return webhook.VendorIDs(obj.(*v1.VerificationOrder))
	}); err != nil {
		return err
	}
	secretOf := func(obj client.Object) []string {
		return []string{secretKey(obj.(v1.Provider), opts.OperatorNamespace).String()}
	}
	for _, kind := range opts.providerKinds() {
		if err := idx.IndexField(ctx, emptyProvider(kind), providerSecretIndex, secretOf); err != nil {
			return err
		}
	}
	return nil
}

// providersUsingSecret returns the keys of the providers of kind whose
// credentials are in Secret secret.
func providersUsingSecret(ctx context.Context, reader client.Reader, kind v1.ProviderKind, secret types.NamespacedName) []types.NamespacedName {
	match := client.MatchingFields{providerSecretIndex: secret.String()}
	var keys []types.NamespacedName
	if kind == v1.KindClusterVerificationProvider {
		var list v1.ClusterVerificationProviderList
		if err := reader.List(ctx, &list, match); err != nil {
			return nil
		}
		for _, p := range list.Items {
			keys = append(keys, objectKey(&p))
		}
		return keys
	}
	var list v1.VerificationProviderList
	if err := reader.List(ctx, &list, client.InNamespace(secret.Namespace), match); err != nil {
		return nil
	}
	for _, p := range list.Items {
		keys = append(keys, objectKey(&p))
	}
	return keys
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
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationOrder{}, builder.WithPredicates(predicate.Or(
			predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}, deletionPredicate()))).
		Watches(&v1.VerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.ordersForProvider),
			builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.ordersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
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

func (r *VerificationOrderReconciler) ordersForProvider(ctx context.Context, obj client.Object) []reconcile.Request {
	p := obj.(v1.Provider)
	return r.ordersUsing(ctx, p.GetNamespace(), kindOf(p), p.GetName())
}

func (r *VerificationOrderReconciler) ordersForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	var reqs []reconcile.Request
	kinds := []v1.ProviderKind{v1.KindVerificationProvider}
	if r.Connector.ClusterProviders {
		kinds = append(kinds, v1.KindClusterVerificationProvider)
	}
	for _, kind := range kinds {
		for _, p := range providersUsingSecret(ctx, r.Client, kind, objectKey(obj)) {
			reqs = append(reqs, r.ordersUsing(ctx, p.Namespace, kind, p.Name)...)
		}
	}
	return reqs
}

// ordersUsing lists the orders in namespace (every namespace if empty) that
// use the provider of kind and name.
func (r *VerificationOrderReconciler) ordersUsing(ctx context.Context, namespace string, kind v1.ProviderKind, name string) []reconcile.Request {
	return r.ordersMatching(ctx, client.InNamespace(namespace), client.MatchingFields{orderProviderIndex: refIndexValue(kind, name)})
}

// ordersOfClusterProviders lists the orders in a namespace whose labels
// changed that use a cluster provider.
func (r *VerificationOrderReconciler) ordersOfClusterProviders(ctx context.Context, obj client.Object) []reconcile.Request {
	var list v1.VerificationOrderList
	if err := r.List(ctx, &list, client.InNamespace(obj.GetName())); err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for _, o := range list.Items {
		if o.Spec.ProviderRef.Cluster() {
			reqs = append(reqs, reconcile.Request{NamespacedName: objectKey(&o)})
		}
	}
	return reqs
}

func (r *VerificationOrderReconciler) ordersMatching(ctx context.Context, opts ...client.ListOption) []reconcile.Request {
	var list v1.VerificationOrderList
	if err := r.List(ctx, &list, opts...); err != nil {
		return nil
	}
	reqs := make([]reconcile.Request, 0, len(list.Items))
	for _, o := range list.Items {
		reqs = append(reqs, reconcile.Request{NamespacedName: objectKey(&o)})
	}
	return reqs
}

// addWebhookReceiver serves the vendors' deliveries, when asked to.
func addWebhookReceiver(mgr ctrl.Manager, opts Options, connector *Connector) error {
	if opts.WebhookAddr == "" || opts.WebhookAddr == "0" {
		return nil
	}
	mux := http.NewServeMux()
	(&webhook.Receiver{Client: mgr.GetClient(), Registry: opts.Registry, Credentials: connector.credentials,
		Replays: webhook.NewReplays()}).Register(mux)
	return mgr.Add(&webhook.Server{Addr: opts.WebhookAddr, CertDir: opts.WebhookCertDir, Handler: mux})
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
	// OperatorNamespace: see Connector.
	OperatorNamespace string
	// ClusterProviders serves ClusterVerificationProviders; it needs
	// cluster-wide read of them and of Namespaces.
	ClusterProviders bool
	// WebhookAddr is the webhook receiver's listen address; empty or "0"
	// turns it off. WebhookCertDir: see webhook.Server.
	WebhookAddr, WebhookCertDir string
}

// providerKinds are the provider kinds served.
func (opts Options) providerKinds() []v1.ProviderKind {
	if opts.ClusterProviders {
		return []v1.ProviderKind{v1.KindVerificationProvider, v1.KindClusterVerificationProvider}
	}
	return []v1.ProviderKind{v1.KindVerificationProvider}
}

// Setup registers the indexes and both reconcilers with mgr. The sandbox and
// the test suites use it too, so every entry point runs the same wiring.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	if err := SetupIndexes(ctx, mgr, opts); err != nil {
		return err
	}
	clients := &ClientCache{Transport: opts.Transport}
	if err := registerFleetMetrics(mgr, metrics.Registry, clients, opts.ClusterProviders); err != nil {
		return err
	}
	kinds := opts.providerKinds()
	reports := newBudgetReports(clients, kinds)
	for _, kind := range kinds {
		if err := (&VerificationProviderReconciler{
			Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Registry: opts.Registry, Clients: clients,
			Kind: kind, OperatorNamespace: opts.OperatorNamespace,
			Recorder: mgr.GetEventRecorder("verification-operator"), BudgetReports: reports,
		}).SetupWithManager(mgr); err != nil {
			return err
		}
	}
	connector := &Connector{Cached: mgr.GetClient(), Live: mgr.GetAPIReader(), Registry: opts.Registry, Clients: clients,
		OperatorNamespace: opts.OperatorNamespace, ClusterProviders: opts.ClusterProviders}
	if err := addWebhookReceiver(mgr, opts, connector); err != nil {
		return err
	}
	return (&VerificationOrderReconciler{
		Client:    mgr.GetClient(),
		Connector: connector,
		Recorder:  mgr.GetEventRecorder("verification-operator"), StalledRecheck: opts.StalledRecheck,
		RepeatBackoff: opts.RepeatBackoff, Trace: opts.TraceReconcile, BudgetReports: reports,
	}).SetupWithManager(mgr, cmp.Or(opts.Workers, 8))
}
