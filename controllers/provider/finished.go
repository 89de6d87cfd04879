package provider

import (
	"context"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/retention"
)

// held says o counts in its provider's status.finishedOrders: it is
// finished (retention.Finished) and not being deleted, so retention still
// holds it, until its TTL passes or for good.
func held(o *v1.VerificationOrder) bool {
	if !o.DeletionTimestamp.IsZero() {
		return false
	}
	_, finished := retention.Finished(o)
	return finished
}

// orderEvents queues the provider of an order:
//
//   - at once when the order's finalizers change, or it comes or goes with
//     finalizers: whether the provider is in use may have changed;
//   - budgetReportDelay later when whether the order is held (finished, not
//     being deleted) may have changed, so that orders finishing or pruned by
//     the hundred are one refresh of the provider, as budget reports are.
//
// Other changes of an order (most: its status) queue nothing.
func (r *Reconciler) orderEvents() handler.EventHandler {
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) {
			r.queueProvider(ctx, e.Object, len(e.Object.GetFinalizers()) > 0, isHeld(e.Object), q)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) {
			r.queueProvider(ctx, e.ObjectNew, !slices.Equal(e.ObjectOld.GetFinalizers(), e.ObjectNew.GetFinalizers()),
				isHeld(e.ObjectOld) != isHeld(e.ObjectNew), q)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) {
			r.queueProvider(ctx, e.Object, len(e.Object.GetFinalizers()) > 0, isHeld(e.Object), q)
		},
	}
}

// queueProvider queues the provider of order obj now, or after
// budgetReportDelay, or not at all.
func (r *Reconciler) queueProvider(ctx context.Context, obj client.Object, now, later bool, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	if !now && !later {
		return
	}
	for _, req := range r.providerOfOrder(ctx, obj) {
		if now {
			q.Add(req)
		} else {
			q.AddAfter(req, budgetReportDelay)
		}
	}
}

func isHeld(obj client.Object) bool {
	o, ok := obj.(*v1.VerificationOrder)
	return ok && held(o)
}

// onlyFinishedChanged says status.finishedOrders is all that differs.
func onlyFinishedChanged(before, after *v1.VerificationProviderStatus) bool {
	if before.FinishedOrders == after.FinishedOrders {
		return false
	}
	same := *before
	same.FinishedOrders = after.FinishedOrders
	return equality.Semantic.DeepEqual(&same, after)
}

// finishedWrites spaces the status writes that only change
// status.finishedOrders to one per budget.ReportEvery per provider, as
// the budget figures are: a provider whose orders finish, or are pruned,
// one after another is not written for each. A count held back is
// written when the provider's status is written anyway, or ReportEvery
// after its last write.
type finishedWrites struct {
	mu   sync.Mutex
	last map[types.NamespacedName]time.Time
}

// wait is how long a change of the count alone must wait to be written.
func (f *finishedWrites) wait(key types.NamespacedName, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	last, ok := f.last[key]
	if !ok {
		return 0
	}
	return min(max(budget.ReportEvery-now.Sub(last), 0), budget.ReportEvery) // a clock set back waits no longer
}

// wrote records that key's status was written at now.
func (f *finishedWrites) wrote(key types.NamespacedName, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.last == nil {
		f.last = map[types.NamespacedName]time.Time{}
	}
	f.last[key] = now
}

// forget drops a provider that is gone.
func (f *finishedWrites) forget(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.last, key)
}
