package controllers_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
)

var nsCounter atomic.Int64

// vendorEnv is one test's vendor: a fresh simulator, a namespace, a Secret
// and a VerificationProvider pointing at the simulator (internal/fixture).
// A simulator per test keeps call counts and injected faults from leaking
// between tests.
type vendorEnv struct {
	*fixture.Account
	NS string
}

func startVendor(name string, credentials map[string]string) *vendorEnv {
	GinkgoHelper()
	ns := newNamespace(name)
	a, err := fixture.Start(name, fixture.Namespace(ns), fixture.Credentials(credentials), fixture.PollInterval(2*time.Second))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(a.Close)
	Expect(a.Create(ctx(), k8s)).To(Succeed())
	return &vendorEnv{Account: a, NS: ns}
}

// updateProvider changes e's provider, and waits until the manager has seen
// the change (the provider's status says its generation), so that an order
// created next is reconciled with it.
func (e *vendorEnv) updateProvider(change func(*v1.VerificationProvider)) {
	GinkgoHelper()
	var generation int64
	Eventually(func() error {
		p := fetchProvider(e.Provider)
		change(p)
		err := k8s.Update(ctx(), p)
		generation = p.Generation
		return err
	}).Should(Succeed())
	Eventually(func() int64 { return fetchProvider(e.Provider).Status.ObservedGeneration }).Should(BeNumerically(">=", generation))
}

// waitProviderReady waits until the manager has made e's provider Ready, so
// that an order created next finds it in the manager's cache (an order
// reconciled before that stalls ProviderNotReady until the provider's
// event heals it).
func (e *vendorEnv) waitProviderReady() {
	GinkgoHelper()
	Eventually(func() bool {
		return meta.IsStatusConditionTrue(fetchProvider(e.Provider).Status.Conditions, v1.ConditionReady)
	}).Should(BeTrue(), "the provider never became Ready")
}

// vendorOrder creates an order at the vendor in the given state word.
func (e *vendorEnv) vendorOrder(state string) string {
	GinkgoHelper()
	id, err := e.Sim.CreateOrder(state)
	Expect(err).NotTo(HaveOccurred())
	return id
}

func (e *vendorEnv) vendorState(id string) string {
	GinkgoHelper()
	s, ok := e.Sim.OrderState(id)
	Expect(ok).To(BeTrue(), "simulator lost order %s", id)
	return s
}

func (e *vendorEnv) mutatingCalls(id string) int { return e.Sim.CountCalls(id, e.MutatingMethod) }

// acceptedMutatingCalls counts the mutating calls the vendor answered 2xx.
func (e *vendorEnv) acceptedMutatingCalls(id string) int {
	n := 0
	for _, c := range e.Sim.Calls(id) {
		if c.Method == e.MutatingMethod && c.Status/100 == 2 {
			n++
		}
	}
	return n
}

// order creates a VerificationOrder for vendor order id; mutate adjusts it.
func (e *vendorEnv) order(id string, mutate ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	GinkgoHelper()
	o := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("order-%d", nsCounter.Add(1)), Namespace: e.NS},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: e.Provider.Name}, OrderID: id},
	}
	for _, m := range mutate {
		m(o)
	}
	Expect(k8s.Create(ctx(), o)).To(Succeed())
	return o
}

func wantState(s v1.DesiredState) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { o.Spec.State = s }
}

func newNamespace(prefix string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))}}
	Expect(k8s.Create(ctx(), ns)).To(Succeed())
	return ns.Name
}

func ctx() context.Context { return context.Background() }

// fetch reads the latest version of o.
func fetch(o *v1.VerificationOrder) *v1.VerificationOrder {
	GinkgoHelper()
	latest := &v1.VerificationOrder{}
	Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(o), latest)).To(Succeed())
	return latest
}

func fetchProvider(p *v1.VerificationProvider) *v1.VerificationProvider {
	GinkgoHelper()
	latest := &v1.VerificationProvider{}
	Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), latest)).To(Succeed())
	return latest
}

// expectCondition waits until o has the condition with status and reason,
// stamped with o's current generation.
func expectCondition(o *v1.VerificationOrder, condition string, status metav1.ConditionStatus, reason v1.Reason) *v1.VerificationOrder {
	GinkgoHelper()
	var latest *v1.VerificationOrder
	Eventually(func(g Gomega) {
		latest = &v1.VerificationOrder{}
		g.Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(o), latest)).To(Succeed())
		c := meta.FindStatusCondition(latest.Status.Conditions, condition)
		g.Expect(c).NotTo(BeNil(), "no %s condition yet; conditions: %+v", condition, latest.Status.Conditions)
		g.Expect(c.Status).To(Equal(status), "%s: %s", c.Reason, c.Message)
		g.Expect(c.Reason).To(BeEquivalentTo(reason), c.Message)
		g.Expect(c.ObservedGeneration).To(Equal(latest.Generation))
	}).Should(Succeed())
	return latest
}

// expectReady waits for Ready=True with reason, and checks the kstatus shape.
func expectReady(o *v1.VerificationOrder, reason v1.Reason) *v1.VerificationOrder {
	GinkgoHelper()
	latest := expectCondition(o, v1.ConditionReady, metav1.ConditionTrue, reason)
	Expect(meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionStalled)).To(BeNil())
	Expect(meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionReconciling)).To(BeNil())
	Expect(latest.Status.ObservedGeneration).To(Equal(latest.Generation))
	return latest
}

// expectStalled waits for Stalled=True with reason, and Ready=False alongside.
func expectStalled(o *v1.VerificationOrder, reason v1.Reason) *v1.VerificationOrder {
	GinkgoHelper()
	latest := expectCondition(o, v1.ConditionStalled, metav1.ConditionTrue, reason)
	ready := meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionReady)
	Expect(ready).NotTo(BeNil())
	Expect(ready.Status).To(Equal(metav1.ConditionFalse))
	Expect(meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionReconciling)).To(BeNil())
	return latest
}

func withAnnotation(k, val string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		if o.Annotations == nil {
			o.Annotations = map[string]string{}
		}
		o.Annotations[k] = val
	}
}

func workqueueBackoff() workqueue.TypedRateLimiter[types.NamespacedName] {
	return workqueue.NewTypedItemExponentialFailureRateLimiter[types.NamespacedName](10*time.Millisecond, time.Second)
}

// reconcileTracer counts started and finished reconciles per order and
// keeps each order's last result.
type reconcileTracer struct {
	mu       sync.Mutex
	started  map[types.NamespacedName]int
	finished map[types.NamespacedName]int
	last     map[types.NamespacedName]ctrl.Result
}

func (t *reconcileTracer) trace(key types.NamespacedName) func(ctrl.Result) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.started == nil {
		t.started, t.finished, t.last = map[types.NamespacedName]int{}, map[types.NamespacedName]int{}, map[types.NamespacedName]ctrl.Result{}
	}
	t.started[key]++
	return func(res ctrl.Result) {
		t.mu.Lock()
		defer t.mu.Unlock()
		t.finished[key]++
		t.last[key] = res
	}
}

// mark is how many reconciles of o have started so far.
func (t *reconcileTracer) mark(o client.Object) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.started[client.ObjectKeyFromObject(o)]
}

// waitPast waits until a reconcile of o that started after mark has
// finished, and returns its result. At most one reconcile of a key runs at
// a time, so finished > mark means one that started later is done.
func (t *reconcileTracer) waitPast(o client.Object, mark int) ctrl.Result {
	GinkgoHelper()
	key := client.ObjectKeyFromObject(o)
	var res ctrl.Result
	Eventually(func() bool {
		t.mu.Lock()
		defer t.mu.Unlock()
		res = t.last[key]
		return t.finished[key] > mark
	}).Should(BeTrue(), "no reconcile of %s finished", key)
	return res
}

// reconcileAgain makes the reconciler look at o once more (an annotation
// change is a trigger) and waits until it has; o is refreshed in place. A
// negative check ("no vendor call") made after it has seen the reconciler
// act on the current spec.
func reconcileAgain(o *v1.VerificationOrder) ctrl.Result {
	GinkgoHelper()
	mark := reconciles.mark(o)
	Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(o), o)).To(Succeed())
	before := o.DeepCopy()
	if o.Annotations == nil {
		o.Annotations = map[string]string{}
	}
	o.Annotations["test.ordersync.dev/nudge"] = strconv.Itoa(mark + 1)
	Expect(k8s.Patch(ctx(), o, client.MergeFrom(before))).To(Succeed())
	return reconciles.waitPast(o, mark)
}
