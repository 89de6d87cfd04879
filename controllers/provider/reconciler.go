// Package provider reconciles VerificationProviders and
// ClusterVerificationProviders: it checks each provider's credentials
// without calling the vendor, keeps it while Cancel-policy orders need it,
// declares its limits on its vendor account and says whether the account
// is held to them, and shows its account's budget figures and how many of
// its finished orders retention still holds.
package provider

import (
	"context"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/conflict"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers"
)

// Reconciler reports whether a provider's Secret holds
// well-formed credentials for its vendor and environment. It never calls the
// vendor: a rejected key shows on the orders that use it. One instance
// serves each provider kind.
type Reconciler struct {
	client.Client
	// Kind is the provider kind reconciled; empty means VerificationProvider.
	Kind v1.ProviderKind
	// OperatorNamespace: see Connector.
	OperatorNamespace string
	// APIReader reads Secrets past the cache, which holds only their metadata.
	APIReader client.Reader
	Registry  providers.Registry
	// Clients is told when a provider is deleted, to drop its client; its
	// budgets say how many orders an account polls, and how often.
	Clients  *connection.ClientCache
	Recorder events.EventRecorder
	// BudgetReports names providers whose account's polled orders changed,
	// and is told when this reconciler's figures for an account changed, so
	// that the other providers on the account show them too.
	BudgetReports *connection.BudgetReports
	// Shard is the shard this instance is (status.shard); empty when the
	// operator is not sharded.
	Shard string

	// finished spaces the writes of status.finishedOrders.
	finished finishedWrites
}

// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders/finalizers,verbs=update
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=clusterverificationproviders,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=clusterverificationproviders/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=clusterverificationproviders/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch
// +kubebuilder:rbac:groups="",resources=namespaces,verbs=get;list;watch

// Reconcile checks the provider's credentials and sets Ready, declares its
// limits on its account and sets LimitsApplied, and counts its finished
// orders.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	defer func() { res, err = conflict.Quiet(ctx, res, err) }()
	p := r.object()
	if err := r.Get(ctx, req.NamespacedName, p); err != nil {
		if client.IgnoreNotFound(err) == nil && r.Clients != nil {
			r.Clients.Forget(req.NamespacedName)
			r.finished.forget(req.NamespacedName)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	counts, err := r.countOrders(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	users := counts.canceling
	if done, err := r.syncInUse(ctx, p, users); done || err != nil {
		return ctrl.Result{}, err
	}
	st := p.ProviderStatus()
	before := st.DeepCopy()
	status, reason, message, account, err := r.check(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	recheck, err := r.syncLimits(ctx, p, account)
	if err != nil {
		return ctrl.Result{}, err
	}
	refresh := sooner(r.reportBudget(p, account), recheck)
	st.FinishedOrders = int32(counts.finished)
	st.Shard = r.Shard
	syncWebhookStatus(p)
	if !p.GetDeletionTimestamp().IsZero() {
		status, reason = metav1.ConditionFalse, v1.ReasonInUse
		message = fmt.Sprintf("Being deleted: waiting for %d VerificationOrders with deletionPolicy Cancel to cancel at the vendor first.", users)
	}
	st.ObservedGeneration = p.GetGeneration()
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{
		Type: v1.ConditionReady, Status: status, Reason: string(reason), Message: message, ObservedGeneration: p.GetGeneration()})
	if equality.Semantic.DeepEqual(before, st) {
		return ctrl.Result{RequeueAfter: refresh}, nil
	}
	now := r.Clients.Budgets.Time().Now()
	if onlyFinishedChanged(before, st) {
		if wait := r.finished.wait(req.NamespacedName, now); wait > 0 {
			return ctrl.Result{RequeueAfter: sooner(refresh, wait)}, nil
		}
	}
	if warning := connection.UnsignedWarning(p); warning != "" && !strings.Contains(readyMessage(before), warning) {
		r.Recorder.Eventf(p, nil, corev1.EventTypeWarning, "SignaturesNotVerified", "Check", "%s", warning)
	}
	if connection.Stretched(p) && !equality.Semantic.DeepEqual(before.EffectivePollInterval, st.EffectivePollInterval) {
		r.Recorder.Eventf(p, nil, corev1.EventTypeNormal, "PollsStretched", "Poll",
			"%d orders polled every %s would use more than %d%% of the %s: each is polled every %s instead.",
			st.Orders, connection.PollInterval(p), pollPercent(p), r.pollLimit(account), st.EffectivePollInterval.Round(time.Second))
	}
	r.warnLimits(p, before)
	if err := r.Status().Update(ctx, p); err != nil {
		return ctrl.Result{}, err
	}
	r.finished.wrote(req.NamespacedName, now)
	if budgetChanged(before, st) {
		// Each provider writes only figures that differ from its own, so
		// this ends once all on the account agree.
		r.BudgetReports.Changed(account, client.ObjectKeyFromObject(p))
	}
	return ctrl.Result{RequeueAfter: refresh}, nil
}

func readyMessage(s *v1.VerificationProviderStatus) string {
	if c := meta.FindStatusCondition(s.Conditions, v1.ConditionReady); c != nil {
		return c.Message
	}
	return ""
}

func budgetChanged(before, after *v1.VerificationProviderStatus) bool {
	return before.Orders != after.Orders || !equality.Semantic.DeepEqual(before.EffectivePollInterval, after.EffectivePollInterval)
}

// sooner is the sooner of two times to look again; zero is never.
func sooner(a, b time.Duration) time.Duration {
	if a == 0 || b == 0 {
		return max(a, b)
	}
	return min(a, b)
}

// budgetRefresh is how often a provider with polled orders reports its
// account's orders and effective poll interval.
const budgetRefresh = time.Minute

// reportBudget copies the account's polled orders and effective poll
// interval into p's status, and says when to look again (zero: no need).
func (r *Reconciler) reportBudget(p v1.Provider, account string) time.Duration {
	st := p.ProviderStatus()
	b, ok := r.Clients.Budgets.Get(account)
	if account == "" || !ok {
		st.Orders, st.EffectivePollInterval = 0, nil
		return 0
	}
	st.Orders = int32(b.Orders())
	st.EffectivePollInterval = &metav1.Duration{Duration: b.PollInterval(connection.PollInterval(p)).Round(time.Second)}
	switch {
	case b.Settling():
		return budget.ReportEvery
	case st.Orders == 0:
		return 0
	}
	return budgetRefresh
}

// pollLimit names what stretches the account's polls.
func (r *Reconciler) pollLimit(account string) string {
	if b, ok := r.Clients.Budgets.Get(account); ok && b.QuotaBound() {
		return "daily quota (spec.rateLimit.requestsPerDay)"
	}
	return "rate limit"
}

func pollPercent(p v1.Provider) int32 {
	if pct := p.ProviderSpec().PollBudgetPercent; pct != nil {
		return *pct
	}
	return int32(budget.DefaultPollShare * 100)
}

// orderCounts are what p's orders say about p.
type orderCounts struct {
	// canceling are the orders that may still need p to cancel their
	// vendor order: those holding the cancel-on-delete finalizer.
	canceling int
	// finished are the finished orders retention still holds
	// (status.finishedOrders): see held.
	finished int
}

// countOrders counts p's orders, in one pass over them.
func (r *Reconciler) countOrders(ctx context.Context, p v1.Provider) (orderCounts, error) {
	// A cluster provider's namespace is empty: orders in every namespace.
	orders, err := index.OrdersUsing(ctx, r.Client, p.GetNamespace(), r.kind(), p.GetName())
	if err != nil {
		return orderCounts{}, err
	}
	selected := r.selection(ctx, p)
	var n orderCounts
	for i := range orders {
		o := &orders[i]
		canceling, finished := controllerutil.ContainsFinalizer(o, v1.CancelFinalizer), held(o)
		if (!canceling && !finished) || !selected(o.Namespace) {
			continue
		}
		if canceling {
			n.canceling++
		}
		if finished {
			n.finished++
		}
	}
	return n, nil
}

// selection says which namespaces' orders are p's users: all, but for a
// cluster provider only those it selects (an order elsewhere may have kept
// a finalizer from before its namespace lost the label).
func (r *Reconciler) selection(ctx context.Context, p v1.Provider) func(namespace string) bool {
	cluster, ok := p.(*v1.ClusterVerificationProvider)
	if !ok {
		return func(string) bool { return true }
	}
	known := map[string]bool{}
	return func(namespace string) bool {
		if selected, ok := known[namespace]; ok {
			return selected
		}
		known[namespace] = !connection.IsNotSelected(connection.Selects(ctx, r.Client, cluster, namespace))
		return known[namespace]
	}
}

// syncInUse keeps the in-use finalizer on p while orders with deletionPolicy
// Cancel use it, as Crossplane's ProviderConfigUsage does: deleting a
// namespace deletes the provider with the orders, and the orders need it to
// cancel. done: p is gone or going, and there is nothing more to report.
func (r *Reconciler) syncInUse(ctx context.Context, p v1.Provider, users int) (done bool, err error) {
	has := controllerutil.ContainsFinalizer(p, v1.ProviderInUseFinalizer)
	deleting := !p.GetDeletionTimestamp().IsZero()
	switch {
	case deleting && users == 0:
		if !has {
			return true, nil
		}
		controllerutil.RemoveFinalizer(p, v1.ProviderInUseFinalizer)
		return true, r.Update(ctx, p)
	case deleting:
		return false, nil // keep waiting; each order that goes reconciles p
	case (users > 0) != has:
		if users > 0 {
			controllerutil.AddFinalizer(p, v1.ProviderInUseFinalizer)
		} else {
			controllerutil.RemoveFinalizer(p, v1.ProviderInUseFinalizer)
		}
		return false, r.Update(ctx, p)
	}
	return false, nil
}

// check validates the provider's credentials without calling the vendor,
// and names its vendor account when they are usable.
func (r *Reconciler) check(ctx context.Context, p v1.Provider) (status metav1.ConditionStatus, reason v1.Reason, message, account string, err error) {
	vendor, err := r.Registry.Get(string(p.ProviderSpec().Vendor))
	if err != nil {
		return metav1.ConditionFalse, v1.ReasonUnknownVendor, err.Error(), "", nil
	}
	secret := &corev1.Secret{}
	key := connection.SecretKey(p, r.OperatorNamespace)
	if err := r.APIReader.Get(ctx, key, secret); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return "", "", "", "", err
		}
		return metav1.ConditionFalse, v1.ReasonSecretNotFound, connection.SecretNotFound{Key: key}.Error() + ".", "", nil
	}
	env := connection.Environment(p)
	if err := vendor.ValidateCredentials(env, secret.Data); err != nil {
		return metav1.ConditionFalse, v1.ReasonInvalidCredentials,
			fmt.Sprintf("Secret %q is not usable for %s %s: %v", secret.Name, vendor.Name, env, err), "", nil
	}
	if _, err := connection.Signatures(p); err != nil {
		return metav1.ConditionFalse, v1.ReasonInvalidSettings, err.Error() + ".", "", nil
	}
	message = fmt.Sprintf("Secret %q holds well-formed %s credentials for %s.", secret.Name, vendor.Name, env)
	if warning := connection.UnsignedWarning(p); warning != "" {
		message += " " + warning
	}
	return metav1.ConditionTrue, v1.ReasonCredentialsValid, message, connection.AccountOf(p, vendor, secret.Data), nil
}

// SetupWithManager watches providers of r's kind and the Secrets they name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		// A label change may move the provider to another shard.
		For(r.object(), builder.WithPredicates(predicate.Or(predicate.GenerationChangedPredicate{}, predicate.LabelChangedPredicate{}))).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.providersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&v1.VerificationOrder{}, r.orderEvents()).
		WatchesRawSource(source.Channel(r.BudgetReports.Of(r.kind()), enqueueAfter(budgetReportDelay))).
		Named(strings.ToLower(string(r.kind()))).
		Complete(r)
}

// budgetReportDelay is how late a provider's budget figures (status.orders,
// effectivePollInterval) may follow its orders. Reports coming sooner are
// one refresh: when orders converge by the thousand, each would otherwise
// write its provider's status (0.47 writes per order, 2,000 orders over 50
// providers, docs/performance.md).
const budgetReportDelay = 2 * time.Second

// enqueueAfter queues the object of a generic event after delay; the queue
// keeps one entry per object, so the reports that arrive meanwhile add none.
func enqueueAfter(delay time.Duration) handler.EventHandler {
	return handler.Funcs{GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(reconcile.Request{NamespacedName: client.ObjectKeyFromObject(e.Object)}, delay)
	}}
}

func (r *Reconciler) kind() v1.ProviderKind {
	if r.Kind == "" {
		return v1.KindVerificationProvider
	}
	return r.Kind
}

// object returns an empty provider of r's kind.
func (r *Reconciler) object() v1.Provider { return connection.EmptyProvider(r.kind()) }

func (r *Reconciler) providerOfOrder(_ context.Context, obj client.Object) []reconcile.Request {
	o := obj.(*v1.VerificationOrder)
	if (o.Spec.ProviderRef.Kind == v1.KindClusterVerificationProvider) != (r.kind() == v1.KindClusterVerificationProvider) {
		return nil
	}
	_, key := connection.ProviderOf(o)
	return []reconcile.Request{{NamespacedName: key}}
}

func (r *Reconciler) providersForSecret(ctx context.Context, obj client.Object) []reconcile.Request {
	keys := index.ProvidersUsingSecret(ctx, r.Client, r.kind(), client.ObjectKeyFromObject(obj))
	reqs := make([]reconcile.Request, 0, len(keys))
	for _, p := range keys {
		reqs = append(reqs, reconcile.Request{NamespacedName: p})
	}
	return reqs
}

// syncWebhookStatus shows where p receives deliveries, or drops
// status.webhook when p has none.
func syncWebhookStatus(p v1.Provider) {
	st := p.ProviderStatus()
	if p.ProviderSpec().Webhook == nil {
		st.Webhook = nil
		return
	}
	if st.Webhook == nil {
		st.Webhook = &v1.WebhookStatus{}
	}
	st.Webhook.Path = webhook.Path(p)
}
