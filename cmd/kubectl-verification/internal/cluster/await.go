package cluster

import (
	"cmp"
	"context"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// AwaitRefresh waits until the controller has looked at every refreshed
// order that it will read again, or ctx ends, and returns those it did not
// see refreshed. It lists the selection, then watches it from the list's
// resourceVersion, so no change is missed; a watch that ends early is
// followed by another list.
func AwaitRefresh(ctx context.Context, c client.WithWatch, s Selection, refreshes []Refresh) ([]Refresh, error) {
	waiting := map[types.NamespacedName]Refresh{}
	for _, r := range refreshes {
		if r.Skipped == "" {
			waiting[r.Key()] = r
		}
	}
	relist := wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Cap: 5 * time.Second, Steps: 1 << 30}
	for len(waiting) > 0 && ctx.Err() == nil {
		orders, resourceVersion, err := Orders(ctx, c, s)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			return nil, err
		}
		listed := map[types.NamespacedName]bool{}
		for i := range orders {
			listed[types.NamespacedName{Namespace: orders[i].Namespace, Name: orders[i].Name}] = true
			settle(waiting, &orders[i], false)
		}
		for key := range waiting {
			if !listed[key] {
				delete(waiting, key) // deleted meanwhile: nothing to wait for
			}
		}
		if len(waiting) == 0 {
			break
		}
		if err := watchFrom(ctx, c, s, resourceVersion, waiting); err != nil && ctx.Err() == nil {
			return nil, err
		}
		if len(waiting) == 0 {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(relist.Step()):
		}
	}
	left := make([]Refresh, 0, len(waiting))
	for _, r := range waiting {
		left = append(left, r)
	}
	slices.SortFunc(left, func(a, b Refresh) int {
		return cmp.Or(cmp.Compare(a.Order.Namespace, b.Order.Namespace), cmp.Compare(a.Order.Name, b.Order.Name))
	})
	return left, nil
}

// watchFrom settles waiting orders from a watch of the selection, until
// none waits, ctx ends, or the watch ends (then the caller lists again).
func watchFrom(ctx context.Context, c client.WithWatch, s Selection, resourceVersion string, waiting map[types.NamespacedName]Refresh) error {
	opts := append(s.listOptions(), &client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: resourceVersion}})
	w, err := c.Watch(ctx, &v1.VerificationOrderList{}, opts...)
	if err != nil {
		return err
	}
	defer w.Stop()
	for len(waiting) > 0 {
		select {
		case <-ctx.Done():
			return nil
		case ev, open := <-w.ResultChan():
			if !open || ev.Type == watch.Error {
				return nil // e.g. the resourceVersion is too old by now
			}
			if o, ok := ev.Object.(*v1.VerificationOrder); ok {
				settle(waiting, o, ev.Type == watch.Deleted)
			}
		}
	}
	return nil
}

// settle stops waiting for o once it is refreshed, or gone.
func settle(waiting map[types.NamespacedName]Refresh, o *v1.VerificationOrder, deleted bool) {
	key := types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
	if r, ok := waiting[key]; ok && (deleted || r.Refreshed(o)) {
		delete(waiting, key)
	}
}
