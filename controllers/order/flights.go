package order

import (
	"context"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// No worker is held by a vendor. Each reconcile runs on a goroutine of its
// own (a flight) while the worker that started it waits; when one vendor
// call outlasts callHold, the worker lets go and serves other orders, and
// the flight goes on alone. When it lands, the order is woken (Wakeups),
// and the reconcile that comes returns the flight's result to the queue,
// so its requeue and backoff are as if the worker had waited.
//
// A flight is the order's only reconcile while it flies: any reconcile of
// the order meanwhile returns at once, and the flight's result is then
// brought forward (touched), so that whatever changed is looked at as soon
// as the flight's own writes are in. Writes to Kubernetes never let the
// worker go: only a vendor call does, so flights in the air are at most the
// calls in flight, which each account caps (budget.Begin).

// callHold is how long a worker waits on one vendor call before it lets
// go: longer than a healthy vendor takes, so that most reconciles end on
// their worker, as they did before flights.
const callHold = 200 * time.Millisecond

// touchedRecheck is how soon an order that changed while its flight flew
// is looked at again, when the flight's result would have it wait longer.
const touchedRecheck = time.Second

type flights struct {
	mu sync.Mutex
	m  map[types.NamespacedName]*flight
	// wake enqueues an order whose flight landed after its worker let go.
	wake chan event.GenericEvent
}

type flight struct {
	// done is closed when the reconcile has ended, with res and err.
	done chan struct{}
	res  ctrl.Result
	err  error
	// letGo is closed when a vendor call outlasted callHold.
	letGo    chan struct{}
	released bool
	// alone: the worker let go; landed: the reconcile ended. Both are read
	// and written under flights.mu, so exactly one of worker and flight
	// sees the other's mark and hands the result on.
	alone, landed, touched bool
}

// Wakeups is the channel the controller watches for orders whose flights
// landed alone.
func (r *Reconciler) Wakeups() <-chan event.GenericEvent { return r.flights.wakeups() }

func (f *flights) wakeups() chan event.GenericEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.wake == nil {
		f.wake = make(chan event.GenericEvent, 1024)
	}
	return f.wake
}

// fly runs reconcile for key on its own goroutine and waits for it, or
// until it lets the worker go. A flight already under way for key is
// answered for instead: its result if it landed, nothing if it flies.
func (f *flights) fly(ctx context.Context, key types.NamespacedName, reconcile func(context.Context) (ctrl.Result, error)) (ctrl.Result, error) {
	fl, started := f.start(key)
	if !started {
		return f.answer(key, fl, true)
	}
	// The controller's per-reconcile deadline ends with the worker's wait;
	// the flight keeps its own.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), reconcileTimeout)
	go func() {
		defer cancel()
		fl.res, fl.err = reconcile(fctx)
		f.land(key, fl)
	}()
	select {
	case <-fl.done:
	case <-fl.letGo:
	}
	return f.answer(key, fl, false)
}

// start makes key's flight, or returns the one under way.
func (f *flights) start(key types.NamespacedName) (*flight, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.m[key]; ok {
		return fl, false
	}
	if f.m == nil {
		f.m = map[types.NamespacedName]*flight{}
	}
	fl := &flight{done: make(chan struct{}), letGo: make(chan struct{})}
	f.m[key] = fl
	return fl, true
}

// answer is what a worker returns for key's flight: its result once it
// landed (the flight is over), or nothing while it flies: the flight wakes
// the order when it lands. other: the worker is not the one that started
// the flight, so something changed meanwhile.
func (f *flights) answer(key types.NamespacedName, fl *flight, other bool) (ctrl.Result, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !fl.landed {
		fl.alone = true
		fl.touched = fl.touched || other
		return ctrl.Result{}, nil
	}
	delete(f.m, key)
	res := fl.res
	if fl.touched && fl.err == nil && (res.RequeueAfter == 0 || res.RequeueAfter > touchedRecheck) {
		res = ctrl.Result{RequeueAfter: touchedRecheck}
	}
	return res, fl.err
}

// land marks key's flight as ended, and wakes the order if its worker let
// go: the next reconcile returns the result.
func (f *flights) land(key types.NamespacedName, fl *flight) {
	f.mu.Lock()
	fl.landed = true
	close(fl.done)
	alone := fl.alone
	f.mu.Unlock()
	if alone {
		f.enqueue(key)
	}
}

// flying: key's flight is under way or landed, its result not taken yet.
func (f *flights) flying(key types.NamespacedName) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.m[key]
	return ok
}

// letGo tells key's worker it may go: a vendor call outlasted callHold.
func (f *flights) letGo(key types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if fl, ok := f.m[key]; ok && !fl.released {
		fl.released = true
		close(fl.letGo)
	}
}

// enqueue wakes key through the controller's channel source, never
// blocking the caller: a full channel is fed from a goroutine.
func (f *flights) enqueue(key types.NamespacedName) {
	ev := event.GenericEvent{Object: &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}}}
	wake := f.wakeups()
	select {
	case wake <- ev:
	default:
		go func() { wake <- ev }()
	}
}

// letWorkerGo lets o's worker go once callHold has passed, until the
// returned stop is called: around a vendor call.
func (r *Reconciler) letWorkerGo(o *v1.VerificationOrder) (stop func()) {
	key := client.ObjectKeyFromObject(o)
	t := r.clock().NewTimer(callHold)
	stopped := make(chan struct{})
	go func() {
		select {
		case <-t.C():
			r.flights.letGo(key)
		case <-stopped:
		}
	}()
	return func() {
		t.Stop()
		close(stopped)
	}
}
