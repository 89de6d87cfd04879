package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// orderWatch follows every VerificationOrder through one watch. Waiting on
// it costs the API server one event per change, where polling 2,000 orders
// with a List every 200 ms made the bench one of the heaviest clients of
// the server it measures; and the times it keeps are those of the events.
type orderWatch struct {
	cache   cache.Cache
	mu      sync.Mutex
	waiters map[*waiter]struct{}
	// deletions are the orders seen deleted in the namespaces that
	// recordDeletions named, by namespace and uid.
	deletions map[string]map[types.UID]deletion
	// before are the orders of those namespaces as last seen before their
	// deletion began: setting deletionTimestamp bumps an order's
	// generation, so its conditions no longer describe it.
	before map[types.UID]*v1.VerificationOrder
}

// deletion is one order seen deleted: as it was when its deletion was
// first seen (its deletionTimestamp set, or gone), and when.
type deletion struct {
	order *v1.VerificationOrder
	at    time.Time
}

// waiter is one wait: the orders that matched, and when each first did.
type waiter struct {
	match func(*v1.VerificationOrder) bool
	want  int
	seen  map[string]time.Time
	done  chan struct{}
}

func watchOrders(cfg *rest.Config) (*orderWatch, error) {
	c, err := cache.New(cfg, cache.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	w := &orderWatch{cache: c, waiters: map[*waiter]struct{}{}}
	inf, err := c.GetInformer(ctx(), &v1.VerificationOrder{})
	if err != nil {
		return nil, err
	}
	seen := func(obj any) {
		if o, ok := obj.(*v1.VerificationOrder); ok {
			w.saw(o, time.Now())
			w.deleted(o, false, time.Now())
		}
	}
	gone := func(obj any) {
		if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if o, ok := obj.(*v1.VerificationOrder); ok {
			w.deleted(o, true, time.Now())
		}
	}
	if _, err := inf.AddEventHandler(toolscache.ResourceEventHandlerFuncs{
		AddFunc: seen, UpdateFunc: func(_, obj any) { seen(obj) }, DeleteFunc: gone,
	}); err != nil {
		return nil, err
	}
	go func() { _ = c.Start(context.Background()) }() // runs as long as the bench
	if !c.WaitForCacheSync(ctx()) {
		return nil, fmt.Errorf("the bench's watch of orders did not sync")
	}
	return w, nil
}

// saw records o, seen at now, with every waiter it matches.
func (w *orderWatch) saw(o *v1.VerificationOrder, now time.Time) {
	key := o.Namespace + "/" + o.Name
	w.mu.Lock()
	defer w.mu.Unlock()
	for wt := range w.waiters {
		if _, ok := wt.seen[key]; ok || !wt.match(o) {
			continue
		}
		wt.seen[key] = now
		if len(wt.seen) == wt.want {
			close(wt.done)
		}
	}
}

// recordDeletions has w keep the orders of ns deleted from now on.
func (w *orderWatch) recordDeletions(ns string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deletions == nil {
		w.deletions = map[string]map[types.UID]deletion{}
	}
	w.deletions[ns] = map[types.UID]deletion{}
}

// deleted records o's deletion the first time it is seen (o deleting, or
// gone), with o as it was before; o not deleting is kept as that.
func (w *orderWatch) deleted(o *v1.VerificationOrder, gone bool, now time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	d, ok := w.deletions[o.Namespace]
	if !ok {
		return
	}
	if w.before == nil {
		w.before = map[types.UID]*v1.VerificationOrder{}
	}
	if o.DeletionTimestamp == nil && !gone {
		w.before[o.UID] = o
		return
	}
	if _, seen := d[o.UID]; !seen {
		last := w.before[o.UID]
		if last == nil {
			last = o
		}
		d[o.UID] = deletion{order: last, at: now}
	}
	delete(w.before, o.UID)
}

// deletedIn is the orders of ns seen deleted so far.
func (w *orderWatch) deletedIn(ns string) []deletion {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]deletion, 0, len(w.deletions[ns]))
	for _, d := range w.deletions[ns] {
		out = append(out, d)
	}
	return out
}

// held is how many orders of ns the watch holds.
func (w *orderWatch) held(ns string) (int, error) {
	var list v1.VerificationOrderList
	if err := w.cache.List(ctx(), &list, client.InNamespace(ns)); err != nil {
		return 0, err
	}
	return len(list.Items), nil
}

// wait waits until want orders have matched, and returns when each first
// did, keyed by namespace/name. Orders that match already count from now.
func (w *orderWatch) wait(match func(*v1.VerificationOrder) bool, want int, timeout time.Duration) (map[string]time.Time, error) {
	wt := &waiter{match: match, want: want, seen: map[string]time.Time{}, done: make(chan struct{})}
	w.mu.Lock()
	w.waiters[wt] = struct{}{}
	w.mu.Unlock()
	defer func() {
		w.mu.Lock()
		delete(w.waiters, wt)
		w.mu.Unlock()
	}()
	var list v1.VerificationOrderList
	if err := w.cache.List(ctx(), &list); err != nil {
		return nil, err
	}
	for i := range list.Items {
		w.saw(&list.Items[i], time.Now())
	}
	select {
	case <-wt.done:
	case <-time.After(timeout):
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := make(map[string]time.Time, len(wt.seen))
	for k, t := range wt.seen {
		seen[k] = t
	}
	if len(seen) < want {
		return seen, fmt.Errorf("%d of %d orders converged within %s", len(seen), want, timeout)
	}
	return seen, nil
}

// readyWith matches the orders of namespace ns that are Ready for reason
// at their current generation.
func readyWith(ns string, reason v1.Reason) func(*v1.VerificationOrder) bool {
	return func(o *v1.VerificationOrder) bool {
		return o.Namespace == ns && readyFor(o, reason)
	}
}

// canceledNamed matches the orders of ns named prefix… that are Ready and
// canceled at their current generation.
func canceledNamed(ns, prefix string) func(*v1.VerificationOrder) bool {
	return func(o *v1.VerificationOrder) bool {
		return o.Namespace == ns && strings.HasPrefix(o.Name, prefix) && readyFor(o, "") && o.Status.State == v1.ObservedState(canceled)
	}
}

// readyFor: Ready=True for this generation, with reason unless it is empty.
func readyFor(o *v1.VerificationOrder, reason v1.Reason) bool {
	c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady)
	return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == o.Generation && (reason == "" || c.Reason == string(reason))
}
