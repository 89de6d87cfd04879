package provider

import (
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/workqueue"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers/registry"
)

// finishedOrder is an order of provider ref, in namespace ns, recorded as
// the order reconciler records one whose vendor order completed; mods
// change it before it is created.
func finishedOrder(ns, name string, ref v1.ProviderReference, mods ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Generation: 1},
		Spec: v1.VerificationOrderSpec{ProviderRef: ref, OrderID: "id-" + name}}
	o.Status = v1.VerificationOrderStatus{ObservedGeneration: 1, OrderID: "id-" + name, VendorState: "completed", State: "completed",
		LastObservedTime: ptr.To(metav1.Now()), Conditions: []metav1.Condition{
			{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: string(v1.ReasonWatching), ObservedGeneration: 1},
			{Type: v1.ConditionSynced, Status: metav1.ConditionTrue, Reason: string(v1.ReasonSynced), ObservedGeneration: 1},
		}}
	for _, m := range mods {
		m(o)
	}
	return o
}

func active(o *v1.VerificationOrder) {
	o.Status.VendorState, o.Status.State = "processing", "active"
}

// withFinalizer gives o the cancel-on-delete finalizer.
func withFinalizer(o *v1.VerificationOrder) { o.Finalizers = []string{v1.CancelFinalizer} }

// finishedOrders reconciles p with r and reads back its
// status.finishedOrders, and when r asked to look again.
func (a *account) finishedOrders(r *Reconciler, p v1.Provider) (int32, time.Duration) {
	a.t.Helper()
	res, err := r.Reconcile(a.t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.kube.Get(a.t.Context(), client.ObjectKeyFromObject(p), p); err != nil {
		a.t.Fatal(err)
	}
	return p.ProviderStatus().FinishedOrders, res.RequeueAfter
}

func (a *account) add(objs ...client.Object) {
	a.t.Helper()
	for _, obj := range objs {
		if err := a.kube.Create(a.t.Context(), obj); err != nil {
			a.t.Fatal(err)
		}
	}
}

func TestFinishedOrdersCountsTheFinishedOrdersHeld(t *testing.T) {
	a := newAccount(t)
	clock := clocktesting.NewFakeClock(time.Now())
	a.clients.Budgets.Clock = clock
	p := namespaced("team-a", 0)
	a.create(p, "whsec")
	ref := v1.ProviderReference{Name: p.Name}
	a.add(
		finishedOrder("team-a", "watched", ref),
		finishedOrder("team-a", "retained", ref, func(o *v1.VerificationOrder) { o.Annotations = map[string]string{v1.RetainAnnotation: "true"} }),
		finishedOrder("team-a", "canceling", ref, withFinalizer),
		finishedOrder("team-a", "active", ref, active),
		finishedOrder("team-a", "stalled", ref, func(o *v1.VerificationOrder) {
			o.Status.Conditions[0].Status, o.Status.Conditions[0].Reason = metav1.ConditionFalse, string(v1.ReasonOrderNotFound)
			o.Status.Conditions = append(o.Status.Conditions, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue,
				Reason: string(v1.ReasonOrderNotFound), ObservedGeneration: 1})
		}),
		finishedOrder("team-a", "being-deleted", ref, withFinalizer),
		finishedOrder("team-a", "another-providers", v1.ProviderReference{Name: "other"}),
		finishedOrder("team-b", "another-namespace", ref),
	)
	if err := a.kube.Delete(t.Context(), &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "being-deleted"}}); err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: a.kube, OperatorNamespace: operatorNamespace, APIReader: a.kube,
		Registry: registry.Default(), Clients: a.clients, Recorder: a.events, BudgetReports: a.reports}
	if n, _ := a.finishedOrders(r, p); n != 3 {
		t.Errorf("finishedOrders %d, want 3: watched, retained and canceling (not active, stalled, being deleted, or another provider's)", n)
	}
	if !slices.Equal(p.Finalizers, []string{v1.ProviderInUseFinalizer}) {
		t.Errorf("finalizers %v: the same pass counts the Cancel-policy orders, which keep the provider in use", p.Finalizers)
	}

	// Another finishes right after the write: the count alone is held
	// back until ReportEvery after it, then written.
	finishing := &v1.VerificationOrder{}
	if err := a.kube.Get(t.Context(), client.ObjectKey{Namespace: "team-a", Name: "active"}, finishing); err != nil {
		t.Fatal(err)
	}
	finishing.Status.VendorState, finishing.Status.State = "completed", "completed"
	if err := a.kube.Update(t.Context(), finishing); err != nil {
		t.Fatal(err)
	}
	clock.Step(time.Second)
	if n, again := a.finishedOrders(r, p); n != 3 || again != budget.ReportEvery-time.Second {
		t.Errorf("a second after the last write: finishedOrders %d, looking again in %s; want 3 kept, and a look in %s", n, again, budget.ReportEvery-time.Second)
	}
	clock.Step(budget.ReportEvery)
	if n, _ := a.finishedOrders(r, p); n != 4 {
		t.Errorf("ReportEvery after the last write: finishedOrders %d, want 4", n)
	}

	// Deleted orders leave the count; a change of the count written with
	// another change goes at once.
	for _, name := range []string{"watched", "retained"} {
		if err := a.kube.Delete(t.Context(), &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := a.finishedOrders(r, p); n != 4 {
		t.Errorf("right after the last write: finishedOrders %d, want 4 kept", n)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: p.Spec.CredentialsSecretRef.Name}}
	if err := a.kube.Delete(t.Context(), secret); err != nil {
		t.Fatal(err)
	}
	if n, _ := a.finishedOrders(r, p); n != 2 || meta.IsStatusConditionTrue(p.Status.Conditions, v1.ConditionReady) {
		t.Errorf("with its Secret gone: finishedOrders %d (want 2, written with Ready False), conditions %v", n, p.Status.Conditions)
	}
}

func TestAClusterProviderCountsTheFinishedOrdersOfTheNamespacesItSelects(t *testing.T) {
	a := newAccount(t)
	p := cluster("shared", 0)
	p.Spec.NamespaceSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"team": "lending"}}
	a.create(p, "whsec")
	a.add(&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "lending", Labels: map[string]string{"team": "lending"}}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "elsewhere"}})
	ref := v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: p.Name}
	a.add(finishedOrder("lending", "a", ref), finishedOrder("lending", "b", ref), finishedOrder("elsewhere", "c", ref),
		finishedOrder("lending", "namespaced", v1.ProviderReference{Name: p.Name}))
	r := &Reconciler{Client: a.kube, Kind: v1.KindClusterVerificationProvider, OperatorNamespace: operatorNamespace, APIReader: a.kube,
		Registry: registry.Default(), Clients: a.clients, Recorder: a.events, BudgetReports: a.reports}
	if n, _ := a.finishedOrders(r, p); n != 2 {
		t.Errorf("finishedOrders %d, want 2: the selected namespace's orders of the cluster provider", n)
	}
}

// queued records what an event handler asked of the queue.
type queued struct {
	workqueue.TypedRateLimitingInterface[reconcile.Request]
	now, later []string
}

func (q *queued) Add(r reconcile.Request) { q.now = append(q.now, r.String()) }

func (q *queued) AddAfter(r reconcile.Request, d time.Duration) {
	if d != budgetReportDelay {
		panic(d)
	}
	q.later = append(q.later, r.String())
}

func TestOrderEventsQueueTheProviderAtOnceOrBatched(t *testing.T) {
	r := &Reconciler{}
	h := r.orderEvents()
	ref := v1.ProviderReference{Name: "truework"}
	finished := finishedOrder("ns", "o", ref)
	running := finishedOrder("ns", "o", ref, active)
	deleting := finishedOrder("ns", "o", ref, withFinalizer, func(o *v1.VerificationOrder) { o.DeletionTimestamp = ptr.To(metav1.Now()) })
	relabeled := finished.DeepCopy()
	relabeled.Labels = map[string]string{"team": "a"}
	clusters := finishedOrder("ns", "o", v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: "truework"})
	const provider = "ns/truework"
	for _, tc := range []struct {
		name       string
		fire       func(q *queued)
		now, later []string
	}{
		{"an order created without finalizers, not finished", func(q *queued) { h.Create(t.Context(), event.CreateEvent{Object: running}, q) }, nil, nil},
		{"a finished order created (the cache filling)", func(q *queued) { h.Create(t.Context(), event.CreateEvent{Object: finished}, q) }, nil, []string{provider}},
		{"an order created with its finalizer", func(q *queued) {
			h.Create(t.Context(), event.CreateEvent{Object: finishedOrder("ns", "o", ref, active, withFinalizer)}, q)
		}, []string{provider}, nil},
		{"an order finishing", func(q *queued) { h.Update(t.Context(), event.UpdateEvent{ObjectOld: running, ObjectNew: finished}, q) }, nil, []string{provider}},
		{"a finished order relabeled", func(q *queued) {
			h.Update(t.Context(), event.UpdateEvent{ObjectOld: finished, ObjectNew: relabeled}, q)
		}, nil, nil},
		{"a finished order being deleted", func(q *queued) {
			with := finished.DeepCopy()
			withFinalizer(with)
			h.Update(t.Context(), event.UpdateEvent{ObjectOld: with, ObjectNew: deleting}, q)
		}, nil, []string{provider}},
		{"its finalizer removed", func(q *queued) {
			gone := deleting.DeepCopy()
			gone.Finalizers = nil
			h.Update(t.Context(), event.UpdateEvent{ObjectOld: deleting, ObjectNew: gone}, q)
		}, []string{provider}, nil},
		{"a finished order deleted (pruned)", func(q *queued) { h.Delete(t.Context(), event.DeleteEvent{Object: finished}, q) }, nil, []string{provider}},
		{"an order deleted, neither finished nor with finalizers", func(q *queued) { h.Delete(t.Context(), event.DeleteEvent{Object: running}, q) }, nil, nil},
		{"a cluster provider's order, to the namespaced kind's reconciler", func(q *queued) {
			h.Delete(t.Context(), event.DeleteEvent{Object: clusters}, q)
		}, nil, nil},
	} {
		q := &queued{}
		tc.fire(q)
		if !slices.Equal(q.now, tc.now) || !slices.Equal(q.later, tc.later) {
			t.Errorf("%s: queued now %v, later %v; want now %v, later %v", tc.name, q.now, q.later, tc.now, tc.later)
		}
	}
}

// The budget's clock is the one the spacing reads; a clock set back
// waits no longer than ReportEvery.
func TestFinishedWritesWaitAtMostReportEvery(t *testing.T) {
	var f finishedWrites
	key := client.ObjectKey{Namespace: "ns", Name: "p"}
	now := time.Now()
	if w := f.wait(key, now); w != 0 {
		t.Errorf("before any write: wait %s", w)
	}
	f.wrote(key, now)
	for _, tc := range []struct {
		at   time.Duration
		want time.Duration
	}{{0, budget.ReportEvery}, {2 * time.Second, budget.ReportEvery - 2*time.Second}, {budget.ReportEvery, 0}, {time.Hour, 0}, {-time.Hour, budget.ReportEvery}} {
		if w := f.wait(key, now.Add(tc.at)); w != tc.want {
			t.Errorf("%s after the write: wait %s, want %s", tc.at, w, tc.want)
		}
	}
	f.forget(key)
	if w := f.wait(key, now); w != 0 {
		t.Errorf("forgotten: wait %s", w)
	}
}
