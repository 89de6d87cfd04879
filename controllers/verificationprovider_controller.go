package controllers

import (
	"context"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
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
	// Clients is told when a provider is deleted, to drop its client; its
	// budgets say how many orders an account polls, and how often.
	Clients  *ClientCache
	Recorder events.EventRecorder
	// BudgetChanged names providers whose account's polled orders changed.
	BudgetChanged <-chan event.GenericEvent
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
	status, reason, message, account, err := r.check(ctx, p)
	if err != nil {
		return ctrl.Result{}, err
	}
	refresh := r.reportBudget(p, account)
	if !p.DeletionTimestamp.IsZero() {
		status, reason = metav1.ConditionFalse, v1.ReasonInUse
		message = fmt.Sprintf("Being deleted: waiting for %d VerificationOrders with deletionPolicy Cancel to cancel at the vendor first.", users)
	}
	p.Status.ObservedGeneration = p.Generation
	meta.SetStatusCondition(&p.Status.Conditions, metav1.Condition{
		Type: v1.ConditionReady, Status: status, Reason: string(reason), Message: message, ObservedGeneration: p.Generation})
	if equality.Semantic.DeepEqual(before, &p.Status) {
		return ctrl.Result{RequeueAfter: refresh}, nil
	}
	if stretched(p) && !equality.Semantic.DeepEqual(before.EffectivePollInterval, p.Status.EffectivePollInterval) {
		r.Recorder.Eventf(p, nil, corev1.EventTypeNormal, "PollsStretched", "Poll",
			"%d orders polled every %s would use more than %d%% of the rate limit: each is polled every %s instead.",
			p.Status.Orders, pollInterval(p), pollPercent(p), p.Status.EffectivePollInterval.Round(time.Second))
	}
	if res, err := afterStatusWrite(ctx, r.Status().Update(ctx, p)); err != nil || res.RequeueAfter > 0 {
		return res, err
	}
	return ctrl.Result{RequeueAfter: refresh}, nil
}

// budgetRefresh is how often a provider with polled orders reports its
// account's orders and effective poll interval.
const budgetRefresh = time.Minute

// reportBudget copies the account's polled orders and effective poll
// interval into p's status, and says when to look again (zero: no need).
func (r *VerificationProviderReconciler) reportBudget(p *v1.VerificationProvider, account string) time.Duration {
	b, ok := r.Clients.Budgets.Get(account)
	if account == "" || !ok {
		p.Status.Orders, p.Status.EffectivePollInterval = 0, nil
		return 0
	}
	p.Status.Orders = int32(b.Orders())
	p.Status.EffectivePollInterval = &metav1.Duration{Duration: b.PollInterval(pollInterval(p)).Round(time.Second)}
	switch {
	case b.Settling(time.Now()):
		return budget.ReportEvery
	case p.Status.Orders == 0:
		return 0
	}
	return budgetRefresh
}

func stretched(p *v1.VerificationProvider) bool {
	e := p.Status.EffectivePollInterval
	return e != nil && e.Duration > pollInterval(p)
}

func pollInterval(p *v1.VerificationProvider) time.Duration {
	if p.Spec.PollInterval != nil {
		return p.Spec.PollInterval.Duration
	}
	return defaultPollInterval
}

func pollPercent(p *v1.VerificationProvider) int32 {
	if p.Spec.PollBudgetPercent != nil {
		return *p.Spec.PollBudgetPercent
	}
	return int32(budget.DefaultPollShare * 100)
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

// check validates the provider's credentials without calling the vendor,
// and names its vendor account when they are usable.
func (r *VerificationProviderReconciler) check(ctx context.Context, p *v1.VerificationProvider) (status metav1.ConditionStatus, reason v1.Reason, message, account string, err error) {
	vendor, err := r.Registry.Get(string(p.Spec.Vendor))
	if err != nil {
		return metav1.ConditionFalse, v1.ReasonUnknownVendor, err.Error(), "", nil
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: p.Namespace, Name: p.Spec.CredentialsSecretRef.Name}, secret); err != nil {
		if client.IgnoreNotFound(err) != nil {
			return "", "", "", "", err
		}
		return metav1.ConditionFalse, v1.ReasonSecretNotFound, errSecretNotFound{name: p.Spec.CredentialsSecretRef.Name}.Error() + ".", "", nil
	}
	env := environment(p)
	if err := vendor.ValidateCredentials(env, secret.Data); err != nil {
		return metav1.ConditionFalse, v1.ReasonInvalidCredentials,
			fmt.Sprintf("Secret %q is not usable for %s %s: %v", secret.Name, vendor.Name, env, err), "", nil
	}
	return metav1.ConditionTrue, v1.ReasonCredentialsValid,
		fmt.Sprintf("Secret %q holds well-formed %s credentials for %s.", secret.Name, vendor.Name, env), Account(p, vendor, secret.Data), nil
}

// SetupWithManager watches providers and the Secrets they name.
func (r *VerificationProviderReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationProvider{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(r.providersForSecret),
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{})).
		Watches(&v1.VerificationOrder{}, handler.EnqueueRequestsFromMapFunc(providerOfOrder),
			builder.WithPredicates(finalizersChanged())).
		WatchesRawSource(source.Channel(r.BudgetChanged, &handler.EnqueueRequestForObject{})).
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
