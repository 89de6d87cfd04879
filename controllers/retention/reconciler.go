package retention

import (
	"context"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/metrics"
)

// DefaultDeletesPerSecond bounds retention's deletes (each also a read past
// the cache): a fleet of orders finishing together is pruned in a trickle
// that leaves the manager's API budget (--kube-api-qps, 300 by default) to
// status writes.
const DefaultDeletesPerSecond = 20

// Reconciler deletes each finished order once its TTL has passed. It
// reads orders and providers from the cache, requeues an order for when
// it expires, and at expiry reads it again past the cache, checks it
// again, and deletes it with UID and resourceVersion preconditions: an
// order edited meanwhile is kept. It never calls a vendor.
type Reconciler struct {
	// Client reads from the cache and deletes.
	Client client.Client
	// APIReader reads an order past the cache right before it is deleted.
	APIReader client.Reader
	Recorder  events.EventRecorder
	// Clock is the one clock the reconcilers read; nil means the real one.
	Clock clock.WithTicker
	// Deletes paces the deletes; nil means DefaultDeletesPerSecond.
	Deletes *rate.Limiter
	// ClusterProviders: ClusterVerificationProviders are served.
	ClusterProviders bool
	// EventWindow is how long the prunes of one provider are gathered into
	// one OrdersPruned event; zero means DefaultEventWindow.
	EventWindow time.Duration

	tallies *tallies
}

// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationorders,verbs=get;list;watch;delete
// +kubebuilder:rbac:groups=verification.ordersync.dev,resources=verificationproviders;clusterverificationproviders,verbs=get;list;watch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// SetupWithManager watches orders that are finished, and the providers'
// specs (a retention set or changed applies to their finished orders at
// once). Orders that are not finished never reach Reconcile.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	r.init()
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.VerificationOrder{}, builder.WithPredicates(finishedOrders())).
		Watches(&v1.VerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.finishedOrdersOf),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	if r.ClusterProviders {
		b = b.Watches(&v1.ClusterVerificationProvider{}, handler.EnqueueRequestsFromMapFunc(r.finishedOrdersOf),
			builder.WithPredicates(predicate.GenerationChangedPredicate{}))
	}
	// Two workers: a reconcile is a few cache reads, or a delete that
	// waits its turn of the rate.
	return b.Named("retention").WithOptions(controller.Options{MaxConcurrentReconciles: 2}).Complete(r)
}

func (r *Reconciler) init() {
	if r.Clock == nil {
		r.Clock = clock.RealClock{}
	}
	if r.Deletes == nil {
		r.Deletes = rate.NewLimiter(DefaultDeletesPerSecond, DefaultDeletesPerSecond)
	}
	if r.tallies == nil {
		r.tallies = &tallies{clock: r.Clock, recorder: r.Recorder, window: r.EventWindow}
	}
}

// Reconcile prunes one order if it is finished, retention applies to it,
// and its TTL has passed; otherwise it comes back when the TTL passes, or
// not at all.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	r.init()
	o := &v1.VerificationOrder{}
	if err := r.Client.Get(ctx, req.NamespacedName, o); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	c, ok, err := r.candidate(ctx, o)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	if wait := c.expiry.Sub(r.Clock.Now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if err := r.Deletes.Wait(ctx); err != nil {
		return ctrl.Result{}, nil // shutting down: the next leader starts afresh
	}
	return r.prune(ctx, req.NamespacedName)
}

// candidate is an order retention will delete, and when.
type candidate struct {
	provider v1.Provider
	policy   Policy
	finished time.Time
	expiry   time.Time
}

// candidate says whether o is to be deleted at some time: it is not being
// deleted, it is finished, and its policy prunes. Its provider is read
// from the cache; an order whose provider is missing, or of a kind not
// served, is not finished (the order reconciler stalls it), and is let be
// should its status not say so yet (the cache has no informer of cluster
// providers to ask when they are not served).
func (r *Reconciler) candidate(ctx context.Context, o *v1.VerificationOrder) (candidate, bool, error) {
	finished, ok := Finished(o)
	if !ok || !o.DeletionTimestamp.IsZero() || o.Spec.ProviderRef.Cluster() && !r.ClusterProviders {
		return candidate{}, false, nil
	}
	p, key := connection.ProviderOf(o)
	if err := r.Client.Get(ctx, key, p); err != nil {
		return candidate{}, false, client.IgnoreNotFound(err)
	}
	policy := PolicyFor(o, p.ProviderSpec())
	if !policy.Prunes() {
		return candidate{}, false, nil
	}
	return candidate{provider: p, policy: policy, finished: finished, expiry: finished.Add(policy.TTL)}, true, nil
}

// prune reads the order past the cache, checks it again, and deletes it
// with preconditions on what was checked.
func (r *Reconciler) prune(ctx context.Context, key client.ObjectKey) (ctrl.Result, error) {
	live := &v1.VerificationOrder{}
	if err := r.APIReader.Get(ctx, key, live); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	c, ok, err := r.candidate(ctx, live)
	if err != nil || !ok {
		return ctrl.Result{}, err
	}
	if wait := c.expiry.Sub(r.Clock.Now()); wait > 0 {
		return ctrl.Result{RequeueAfter: wait}, nil // its finish moved: the cache was behind
	}
	err = r.Client.Delete(ctx, live, client.Preconditions{UID: &live.UID, ResourceVersion: &live.ResourceVersion})
	switch {
	case apierrors.IsConflict(err):
		// Edited since it was read: the edit's own event brings it back
		// if it is still to be pruned.
		log.FromContext(ctx).V(1).Info("kept an order edited while it was being pruned")
		return ctrl.Result{}, nil
	case apierrors.IsNotFound(err):
		return ctrl.Result{}, nil
	case err != nil:
		return ctrl.Result{}, err
	}
	r.pruned(ctx, live, c)
	return ctrl.Result{}, nil
}

// pruned says so: a log line, the counter, and the provider's next
// OrdersPruned event. Ids and state words only: an order holds no PII, and
// its free-text cancellation details are not logged.
func (r *Reconciler) pruned(ctx context.Context, o *v1.VerificationOrder, c candidate) {
	reason := FinalReason(o)
	log.FromContext(ctx).Info("pruned a finished order",
		"uid", o.UID, "provider", connection.Describe(connection.KindOf(c.provider), c.provider.GetName()),
		"vendorOrderID", o.Status.OrderID, "state", o.Status.State, "reason", reason,
		"finishedAt", c.finished.UTC().Format(time.RFC3339), "ttl", c.policy.TTL.String(), "ttlFrom", c.policy.From)
	metrics.CountPruned(c.provider, reason)
	r.tallies.add(c.provider, o.Status.State)
}

// finishedOrders passes the events of orders that are finished and not
// being deleted: a status write that finishes one, an edit of one (its
// TTL, its annotations), and every finished order at start.
func finishedOrders() predicate.Predicate {
	finished := func(obj client.Object) bool {
		o, ok := obj.(*v1.VerificationOrder)
		if !ok || !o.DeletionTimestamp.IsZero() {
			return false
		}
		_, ok = Finished(o)
		return ok
	}
	return predicate.Funcs{
		CreateFunc:  func(e event.CreateEvent) bool { return finished(e.Object) },
		UpdateFunc:  func(e event.UpdateEvent) bool { return finished(e.ObjectNew) },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
}

// finishedOrdersOf lists the finished orders of a provider whose spec
// changed.
func (r *Reconciler) finishedOrdersOf(ctx context.Context, obj client.Object) []reconcile.Request {
	p := obj.(v1.Provider)
	orders, err := index.OrdersUsing(ctx, r.Client, p.GetNamespace(), connection.KindOf(p), p.GetName())
	if err != nil {
		return nil
	}
	var reqs []reconcile.Request
	for i := range orders {
		if _, ok := Finished(&orders[i]); ok {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&orders[i])})
		}
	}
	return reqs
}
