package chaos

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// objects are a run's VerificationOrders by name; a deleted one is absent.
type objects map[string]*v1.VerificationOrder

func (r *run) list(ctx context.Context) objects {
	GinkgoHelper()
	var list v1.VerificationOrderList
	Expect(k8s.List(ctx, &list, client.InNamespace(r.ns))).To(Succeed())
	out := objects{}
	for i := range list.Items {
		out[list.Items[i].Name] = &list.Items[i]
	}
	return out
}

// deleter deletes a run's deletion orders at random moments: each once the
// controller has taken it on (a Cancel-policy order has its finalizer, an
// Orphan one a condition), and then after its own random number of
// further vendor calls, so that deletions land among kills and faults.
type deleter struct {
	eligibleAt map[string]int       // vendor calls seen when it could go
	eligibleOn map[string]time.Time // and when
	deleted    map[string]bool
}

func newDeleter() *deleter {
	return &deleter{eligibleAt: map[string]int{}, eligibleOn: map[string]time.Time{}, deleted: map[string]bool{}}
}

// maxDeleteWait deletes an order that is due by time when the vendor
// calls it waits for do not come (everything else converged).
const maxDeleteWait = 5 * time.Second

func (d *deleter) step(ctx context.Context, o *order, vo *v1.VerificationOrder, calls int) {
	GinkgoHelper()
	if !o.deletes() || d.deleted[o.name] || vo == nil {
		return
	}
	if _, ok := d.eligibleAt[o.name]; !ok {
		takenOn := len(vo.Status.Conditions) > 0
		if o.play.kind == simkit.PlayDeleteCancel {
			takenOn = controllerutil.ContainsFinalizer(vo, v1.CancelFinalizer)
		}
		if !takenOn {
			return
		}
		d.eligibleAt[o.name], d.eligibleOn[o.name] = calls, time.Now()
	}
	if calls < d.eligibleAt[o.name]+o.deleteAfter && time.Since(d.eligibleOn[o.name]) < maxDeleteWait {
		return
	}
	o.deletedAt = time.Now()
	err := k8s.Delete(ctx, vo)
	Expect(client.IgnoreNotFound(err)).To(Succeed())
	d.deleted[o.name] = true
}

// settled says whether an order has reached a state it would keep: a
// deletion order is gone, a paused one says so, any other is Ready or
// Stalled for its current generation.
func settled(o *order, vo *v1.VerificationOrder, deleted bool) bool {
	if o.deletes() {
		return deleted && vo == nil
	}
	if vo == nil {
		return false
	}
	ready := meta.FindStatusCondition(vo.Status.Conditions, v1.ConditionReady)
	if ready == nil || ready.ObservedGeneration != vo.Generation {
		return false
	}
	if o.play.kind == simkit.PlayPaused {
		return ready.Reason == string(v1.ReasonPaused)
	}
	return ready.Status == metav1.ConditionTrue || meta.IsStatusConditionTrue(vo.Status.Conditions, v1.ConditionStalled)
}

// converge waits until every order of the run has settled, deleting the
// deletion orders on the way. busy, called on every look with the number
// of orders not settled yet, holds the wait while the caller still has
// work to do (kills to make). It polls (4 times a second) and returns
// the orders that did not settle within timeout, described.
func (r *run) converge(ctx context.Context, timeout time.Duration, busy func(unsettled int) bool) []string {
	GinkgoHelper()
	d := newDeleter()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		_, calls := r.wire.snapshot()
		objs := r.list(ctx)
		var open []*order
		for _, o := range r.orders {
			vo := objs[o.name]
			d.step(ctx, o, vo, calls)
			if !settled(o, vo, d.deleted[o.name]) {
				open = append(open, o)
			}
		}
		working := busy != nil && busy(len(open))
		if len(open) == 0 && !working {
			return nil
		}
		if time.Now().After(deadline) {
			return describeOpen(open, objs)
		}
		<-tick.C
	}
}

func describeOpen(open []*order, objs objects) []string {
	out := make([]string, 0, len(open))
	for _, o := range open {
		if vo := objs[o.name]; vo != nil {
			out = append(out, fmt.Sprintf("%s (%s, finalizers %v): %s", o.name, o.play.kind, vo.Finalizers, conditionsOf(vo)))
		} else {
			out = append(out, fmt.Sprintf("%s (%s): gone", o.name, o.play.kind))
		}
	}
	sort.Strings(out)
	return out
}

// conditionsOf sums up an order's conditions for a message.
func conditionsOf(vo *v1.VerificationOrder) string {
	parts := make([]string, 0, len(vo.Status.Conditions))
	for _, c := range vo.Status.Conditions {
		parts = append(parts, fmt.Sprintf("%s=%s/%s (gen %d): %s", c.Type, c.Status, c.Reason, c.ObservedGeneration, c.Message))
	}
	if len(parts) == 0 {
		return "no conditions"
	}
	return strings.Join(parts, "; ")
}
