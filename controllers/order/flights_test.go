package order

import (
	"context"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/providers"
)

// hanging is a vendor that does not answer calls about one id until
// released: arrived is closed when the first such call is made.
type hanging struct {
	arrived, release chan struct{}
	once             sync.Once
}

func newHanging() *hanging {
	return &hanging{arrived: make(chan struct{}), release: make(chan struct{})}
}

// answers answers like next, except for id, whose calls wait for release.
func (h *hanging) answers(id string, next call) call {
	return func(ctx context.Context, asked string) (providers.Observation, error) {
		if asked == id {
			h.once.Do(func() { close(h.arrived) })
			<-h.release
		}
		return next(ctx, asked)
	}
}

// secondOrder is another order of the same provider, for another vendor order.
func secondOrder() *v1.VerificationOrder {
	o := newOrder("o2")
	o.Spec.OrderID = "o-2"
	return o
}

// letGo reconciles name while its vendor call hangs at h: the worker must
// let go once callHold has passed on the fake clock, returning nothing.
func (e *env) letGo(name string, h *hanging) {
	e.t.Helper()
	key := types.NamespacedName{Namespace: namespace, Name: name}
	returned := make(chan ctrl.Result, 1)
	go func() {
		res, _ := e.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: key})
		returned <- res
	}()
	select {
	case <-h.arrived: // the hold's timer is set before the call is made
	case <-time.After(10 * time.Second):
		e.t.Fatal("the vendor call was never made")
	}
	e.clock.Step(callHold)
	select {
	case res := <-returned:
		if !res.IsZero() {
			e.t.Errorf("the worker that let go returned %+v, want nothing: the flight's wakeup brings the result", res)
		}
	case <-time.After(10 * time.Second):
		e.t.Fatal("the worker did not let go of a call that outlasted callHold")
	}
}

// once is one reconcile of name, as the controller makes it: a flight
// under way is answered for, not waited on.
func (e *env) once(name string) ctrl.Result {
	e.t.Helper()
	res, err := e.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}})
	if err != nil {
		e.t.Fatalf("reconcile %s: %v", name, err)
	}
	return res
}

// woken takes n wakeups and returns the orders they name.
func (e *env) woken(n int) map[string]bool {
	e.t.Helper()
	got := map[string]bool{}
	for range n {
		select {
		case ev := <-e.r.Wakeups():
			got[ev.Object.GetName()] = true
		case <-time.After(10 * time.Second):
			e.t.Fatalf("woken: %v so far, want %d wakeups", got, n)
		}
	}
	return got
}

// TestASlowCallHoldsNoWorker: a vendor call that does not answer lets its
// worker go after callHold; the order is not reconciled again while it
// flies (no second call), another order is served meanwhile, and when the
// call ends the order is woken and its result returned, brought forward
// because the order was touched while in flight.
func TestASlowCallHoldsNoWorker(t *testing.T) {
	e := newEnv(t)
	e.more = append(e.more, secondOrder())
	vendor := newHanging()
	e.vendor.ObserveFn = vendor.answers(orderID, answers("open"))
	e.start()

	e.letGo("o", vendor)
	if res := e.once("o"); !res.IsZero() {
		t.Errorf("a reconcile while the flight flies returned %+v, want nothing", res)
	}
	jittered(connection.DefaultPollInterval).check(t, "another order, meanwhile", e.reconcile("o2"))
	if got := e.vendor.made(); got != "Observe o-1, Observe o-2" {
		t.Fatalf("calls %q, want the hanging one and the other order's: none repeated", got)
	}

	close(vendor.release)
	if got := e.woken(1); !got["o"] {
		t.Fatalf("woken %v, want o, whose flight landed", got)
	}
	if res := e.once("o"); res.RequeueAfter != touchedRecheck {
		t.Errorf("the landed flight's result: %+v; want a look after %s, since o was touched in flight", res, touchedRecheck)
	}
	if o := e.get("o"); o.Status.VendorState != "open" {
		t.Errorf("the flight recorded %q, want open", o.Status.VendorState)
	}
	if e.r.flights.flying(types.NamespacedName{Namespace: namespace, Name: "o"}) {
		t.Error("the flight's result was returned but the flight is still kept")
	}
}

// TestAnAccountsCallsInFlightAreCapped: with maxInFlight 1, a second order
// of the account makes no call while the first hangs; it waits without a
// worker, and is woken when the call ends, to make its own.
func TestAnAccountsCallsInFlightAreCapped(t *testing.T) {
	e := newEnv(t)
	e.provider.Spec.RateLimit = &v1.RateLimit{MaxInFlight: 1}
	e.more = append(e.more, secondOrder())
	vendor := newHanging()
	e.vendor.ObserveFn = vendor.answers(orderID, answers("open"))
	e.start()

	e.letGo("o", vendor)
	exactly(connection.VendorTimeout).check(t, "an order with no call in flight free", e.reconcile("o2"))
	if got := e.vendor.made(); got != "Observe o-1" {
		t.Fatalf("calls %q, want only the hanging one", got)
	}

	close(vendor.release)
	if got := e.woken(2); !got["o"] || !got["o2"] {
		t.Fatalf("woken %v, want o (its flight landed) and o2 (the call it waited for ended)", got)
	}
	jittered(connection.DefaultPollInterval).check(t, "the woken order", e.reconcile("o2"))
	if got := e.vendor.made(); got != "Observe o-1, Observe o-2" {
		t.Errorf("calls %q, want the woken order's call after the first", got)
	}
	if o := e.get("o2"); o.Status.VendorState != "open" {
		t.Errorf("the woken order recorded %q, want open", o.Status.VendorState)
	}
}
