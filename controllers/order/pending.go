package order

import (
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// pendingDelay is how long after the controller's first look a new order
// may stay without conditions. kstatus (Flux, cli-utils) reads an object
// without conditions as Current, so a new order must not stay without them
// while its vendor calls are slow or it waits for its account's budget.
// Most new orders have their result well within it, and for them the
// result is the first and only status write: a Pending write before it
// would be one write in two.
//
// The Pending write is made by the reconcile itself, never by a timer of
// its own: while a vendor call is under way (vendorCall), or as the
// reconcile ends waiting for the budget (pendWhileQueued). It carries
// nothing but the conditions, and the reconcile's later writes follow the
// resourceVersion it made.
const pendingDelay = time.Second

// firstLooks are when the controller first looked at each order that has
// no conditions yet: pendingDelay counts from then, across reconciles.
type firstLooks struct {
	mu sync.Mutex
	m  map[types.NamespacedName]time.Time
}

// since returns how long ago key was first looked at, now being the first
// time if it was not before.
func (f *firstLooks) since(key types.NamespacedName, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	first, ok := f.m[key]
	if !ok {
		if f.m == nil {
			f.m = map[types.NamespacedName]time.Time{}
		}
		f.m[key], first = now, now
	}
	return now.Sub(first)
}

// forget drops key; an empty map is let go, since a map never shrinks and
// a burst of new orders would otherwise hold its size for good.
func (f *firstLooks) forget(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.m, key)
	if len(f.m) == 0 {
		f.m = nil
	}
}

// pendingLeft is how long o may still go without conditions.
func (r *Reconciler) pendingLeft(o *v1.VerificationOrder) time.Duration {
	return pendingDelay - r.firstLooks.since(client.ObjectKeyFromObject(o), r.now())
}

// vendorCall runs call, a vendor call that writes nothing to Kubernetes.
// If it outlasts callHold, the worker lets go of the reconcile (flights.go).
// If o has no conditions yet and call outlasts pendingDelay since the
// first look, o's Pending conditions are written meanwhile, from this
// goroutine; call runs on another only so that this one can.
func (r *Reconciler) vendorCall(ctx context.Context, o *v1.VerificationOrder, call func()) {
	defer r.letWorkerGo(o)()
	if !needsPending(o) {
		call()
		return
	}
	left := r.pendingLeft(o)
	done := make(chan struct{})
	go func() {
		defer close(done)
		call()
	}()
	timer := r.clock().NewTimer(max(left, 0))
	defer timer.Stop()
	select {
	case <-done:
		return
	case <-timer.C():
		r.writePending(ctx, o)
		<-done
	}
}

// pendWhileQueued writes o's Pending conditions if it has none and its
// reserved call comes due only after pendingDelay since the first look.
func (r *Reconciler) pendWhileQueued(ctx context.Context, o *v1.VerificationOrder, due time.Duration) {
	if needsPending(o) && due >= r.pendingLeft(o) {
		r.writePending(ctx, o)
	}
}

// writePending writes o's Pending conditions. A failure is only logged:
// the result's write follows, and says more.
func (r *Reconciler) writePending(ctx context.Context, o *v1.VerificationOrder) {
	if err := r.updateStatus(ctx, o); err != nil {
		log.FromContext(ctx).V(1).Info("writing the Pending conditions", "error", err.Error())
	}
}

// needsPending: o has no conditions, and is not paused (a paused order
// says so in its own conditions when it is reconciled).
func needsPending(o *v1.VerificationOrder) bool {
	return len(o.Status.Conditions) == 0 && !isPaused(o)
}

func markPending(o *v1.VerificationOrder) {
	setConditions(o, outcome{phase: phaseProgressing, reason: v1.ReasonPending,
		message: "The controller is looking at the order at the vendor."}, o.Generation)
}
