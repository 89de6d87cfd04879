package main

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// writesPerOrder is what the operator wrote to the API server per order:
// status writes and Events, on average (a few orders need a write more).
type writesPerOrder struct {
	status, events float64
}

// of is the writes of the k-th order, so that the first n orders make
// n × w writes, rounded down: the ceiling is measured for the operator's
// own mix, not for a whole number of writes near it.
func (w writesPerOrder) of(k int) writes {
	return writes{status: spread(w.status, k), events: spread(w.events, k)}
}

func spread(perOrder float64, k int) int {
	return int(math.Floor(float64(k+1)*perOrder)) - int(math.Floor(float64(k)*perOrder))
}

// writes are one order's status writes and Events.
type writes struct{ status, events int }

// ceilingWriters write at once, as the manager's 8 workers do.
const ceilingWriters = 8

// ceiling is what apiCeiling measured.
type ceiling struct {
	rate   float64 // orders per second
	orders int
	cpu    cpuSplit
}

// apiCeiling is how many orders per second a bare client gets through the
// API server when it does for each order what the operator does (w), 8
// at a time, on this machine as it is now: the most any operator could do
// here, were vendors and its own work free. The orders are created first,
// in a namespace of their own, and are not timed.
func (b *bench) apiCeiling(w writesPerOrder, orders int, limit time.Duration) (ceiling, error) {
	ns, err := b.namespace("ceiling")
	if err != nil {
		return ceiling{}, err
	}
	defer b.cleanup(ns)
	all, err := b.placeholderOrders(ns, orders)
	if err != nil {
		return ceiling{}, err
	}
	next := make(chan int, len(all))
	for k := range all {
		next <- k
	}
	close(next)
	var done atomic.Int64
	errs := make(chan error, ceilingWriters)
	stop := time.Now().Add(limit)
	before := b.sampleCPU(0)
	var wg sync.WaitGroup
	for range ceilingWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range next {
				if time.Now().After(stop) {
					return
				}
				if err := b.writeAsOperator(all[k], w.of(k)); err != nil {
					errs <- err
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	c := ceiling{orders: int(done.Load()), cpu: splitCPU(before, b.sampleCPU(0), cpuCount())}
	c.rate = float64(c.orders) / c.cpu.wall().Seconds()
	close(errs)
	return c, <-errs
}

// placeholderOrders creates n orders in ns, 16 at a time, for a provider
// that does not exist (no manager runs while they are used).
func (b *bench) placeholderOrders(ns string, n int) ([]*v1.VerificationOrder, error) {
	out := make([]*v1.VerificationOrder, n)
	err := parallel(n, 16, func(i int) error {
		out[i] = &v1.VerificationOrder{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("o-%d", i), Namespace: ns},
			Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "none"}, OrderID: fmt.Sprintf("id-%d", i), State: canceled},
		}
		return b.k8s.Create(ctx(), out[i])
	})
	return out, err
}

// writeAsOperator writes o's status as a reconcile that cancels it does
// (Pending first, then the result, each on what the last write returned),
// and records the operator's Event for it.
func (b *bench) writeAsOperator(o *v1.VerificationOrder, w writes) error {
	for i := range w.status {
		if i < w.status-1 {
			setBenchConditions(o, metav1.ConditionUnknown, v1.ReasonPending)
		} else {
			now := metav1.Now()
			o.Status.ObservedGeneration, o.Status.LastObservedTime, o.Status.LastAppliedTime = o.Generation, &now, &now
			o.Status.OrderID, o.Status.VendorState, o.Status.State = o.Spec.OrderID, "canceled", v1.ObservedState(canceled)
			o.Status.LastAppliedAction = v1.Action(providers.ActionCancel)
			setBenchConditions(o, metav1.ConditionTrue, v1.ReasonConverged)
		}
		if err := b.k8s.Status().Update(ctx(), o); err != nil {
			return err
		}
	}
	for range w.events {
		ev := &eventsv1.Event{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s.%x", o.Name, time.Now().UnixNano()), Namespace: o.Namespace}, // as client-go names them
			EventTime:  metav1.NowMicro(), ReportingController: "ordersync.dev/bench", ReportingInstance: "ceiling",
			Action: string(providers.ActionCancel), Reason: string(providers.ActionCancel), Type: corev1.EventTypeNormal, Note: "truework accepted cancel for order " + o.Spec.OrderID + ".",
			Regarding: corev1.ObjectReference{APIVersion: v1.GroupVersion.String(), Kind: "VerificationOrder", Namespace: o.Namespace, Name: o.Name, UID: o.UID},
		}
		if err := b.k8s.Create(ctx(), ev); err != nil {
			return err
		}
	}
	return nil
}

// setBenchConditions sets the four kstatus conditions about as the
// operator does, messages included, so that each write weighs the same.
func setBenchConditions(o *v1.VerificationOrder, ready metav1.ConditionStatus, reason v1.Reason) {
	reconciling := metav1.ConditionTrue
	if ready == metav1.ConditionTrue {
		reconciling = metav1.ConditionFalse
	}
	for _, c := range []metav1.Condition{
		{Type: v1.ConditionReady, Status: ready, Reason: string(reason), Message: "The order is canceled at truework, as declared."},
		{Type: v1.ConditionSynced, Status: metav1.ConditionTrue, Reason: string(reason), Message: "The vendor answered."},
		{Type: v1.ConditionReconciling, Status: reconciling, Reason: string(reason), Message: "The controller is looking at the order at the vendor."},
	} {
		c.ObservedGeneration = o.Generation
		if c.Status == metav1.ConditionFalse {
			meta.RemoveStatusCondition(&o.Status.Conditions, c.Type) // present only while True
			continue
		}
		meta.SetStatusCondition(&o.Status.Conditions, c)
	}
}

// parallel runs do(0..n-1) on workers goroutines and returns the first error.
func parallel(n, workers int, do func(i int) error) error {
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := do(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
