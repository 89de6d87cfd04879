package cluster

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// RefreshAnnotation asks the controller to look at an order now: a change
// to an order's annotations triggers a reconcile. The Argo CD refresh
// action (config/argocd) sets the same annotation.
const RefreshAnnotation = "verification.ordersync.dev/refresh"

// Refresh is one order's refresh request.
type Refresh struct {
	// Order is the order as the request left it: its status is what a new
	// observation must be newer than.
	Order v1.VerificationOrder
	// Requested is when the API server took the request, by its clock, to
	// the second.
	Requested time.Time
	// Skipped says why the controller will not read the vendor for this
	// refresh (paused; terminal); empty when it will.
	Skipped string
}

// Key is the order's namespace and name.
func (r Refresh) Key() types.NamespacedName {
	return types.NamespacedName{Namespace: r.Order.Namespace, Name: r.Order.Name}
}

// RequestRefresh annotates each order with the time at. The value has
// nanoseconds so that two refreshes within a second both change it.
func RequestRefresh(ctx context.Context, c client.Client, orders []v1.VerificationOrder, at time.Time) ([]Refresh, error) {
	patch := client.RawPatch(types.MergePatchType,
		fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, RefreshAnnotation, at.UTC().Format(time.RFC3339Nano)))
	out := make([]Refresh, 0, len(orders))
	for i := range orders {
		o := orders[i].DeepCopy()
		if err := c.Patch(ctx, o, patch, client.FieldOwner(FieldManager)); err != nil {
			return out, fmt.Errorf("annotating VerificationOrder %s/%s: %w", o.Namespace, o.Name, err)
		}
		out = append(out, Refresh{Order: *o, Requested: requestedAt(o, at), Skipped: skipped(o)})
	}
	return out, nil
}

// skipped says why a reconcile of o makes no vendor call: the controller
// makes none for a paused order, and never reads a terminal order again
// (its status already says all there is).
func skipped(o *v1.VerificationOrder) string {
	switch {
	case o.Annotations[v1.PausedAnnotation] == "true":
		return "paused: the controller makes no vendor calls"
	case o.Status.LastObservedTime != nil && providers.State(o.Status.State).Terminal() && (o.Spec.Reverification == nil || o.Status.OrderID != ""):
		return fmt.Sprintf("%s: the controller does not read a finished order again", o.Status.State)
	}
	return ""
}

// requestedAt is when the API server recorded the plugin's annotation (the
// time of its managedFields entry), or, should it not say, when the plugin
// asked.
func requestedAt(o *v1.VerificationOrder, asked time.Time) time.Time {
	for _, f := range o.ManagedFields {
		if f.Manager == FieldManager && f.Time != nil {
			return f.Time.Time
		}
	}
	return asked.Truncate(time.Second)
}

// Refreshed reports whether after, a later version of the order requested,
// shows an observation no older than the request: status.lastObservedTime
// moved, or was already in the second of the request or later; or the
// Ready condition changed (a look that could not read the vendor still
// concludes something).
//
// Timestamps in status have whole seconds, so a look in the same second
// as the last one leaves status as it was: nothing would show it, and an
// observation in that second counts as fresh. The request's time is the
// API server's, not this machine's, whose clock may be off.
func (r Refresh) Refreshed(after *v1.VerificationOrder) bool {
	was, is := r.Order.Status.LastObservedTime, after.Status.LastObservedTime
	if is != nil && (was == nil || is.After(was.Time) || !is.Time.Before(r.Requested)) {
		return true
	}
	readyWas := meta.FindStatusCondition(r.Order.Status.Conditions, v1.ConditionReady)
	readyIs := meta.FindStatusCondition(after.Status.Conditions, v1.ConditionReady)
	return readyIs != nil && !equality.Semantic.DeepEqual(readyWas, readyIs)
}
