package retention

import (
	"context"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// world is a reconciler on a fake API server holding one provider and the
// orders given, at finishedAt plus elapsed.
type world struct {
	r      *Reconciler
	k8s    client.Client
	clock  *clocktesting.FakeClock
	events *events.FakeRecorder
}

func newWorld(t *testing.T, ttl *int32, elapsed time.Duration, orders ...*v1.VerificationOrder) *world {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	provider := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "lending", Name: "truework"},
		Spec: v1.VerificationProviderSpec{Vendor: v1.VendorTruework, Retention: &v1.Retention{TTLSecondsAfterFinished: ttl}}}
	cluster := &v1.ClusterVerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}
	cluster.Spec.Vendor, cluster.Spec.Retention = v1.VendorTxCloud, &v1.Retention{TTLSecondsAfterFinished: ttl}
	b := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.VerificationOrder{}).WithObjects(provider, cluster)
	for _, o := range orders {
		b = b.WithObjects(o)
	}
	k8s := b.Build()
	w := &world{k8s: k8s, clock: clocktesting.NewFakeClock(finishedAt.Add(elapsed)), events: events.NewFakeRecorder(10)}
	w.r = &Reconciler{Client: k8s, APIReader: k8s, Recorder: w.events, Clock: w.clock, Deletes: rate.NewLimiter(rate.Inf, 1)}
	return w
}

func (w *world) reconcile(t *testing.T, o *v1.VerificationOrder) ctrl.Result {
	t.Helper()
	res, err := w.r.Reconcile(context.Background(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func (w *world) exists(t *testing.T, o *v1.VerificationOrder) bool {
	t.Helper()
	err := w.k8s.Get(context.Background(), client.ObjectKeyFromObject(o), &v1.VerificationOrder{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

func named(name string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { o.Name = name }
}

func TestAFinishedOrderIsDeletedWhenItsTTLHasPassed(t *testing.T) {
	o := finishedOrder()
	w := newWorld(t, ptr.To[int32](3600), 20*time.Minute, o)
	if res := w.reconcile(t, o); res.RequeueAfter != 40*time.Minute || !w.exists(t, o) {
		t.Fatalf("20 minutes into an hour: %+v, want kept and back in 40m", res)
	}
	w.clock.Step(40 * time.Minute)
	if res := w.reconcile(t, o); res != (ctrl.Result{}) || w.exists(t, o) {
		t.Fatalf("an hour on: %+v, want deleted", res)
	}
}

func TestAnOrderOfAClusterProvider(t *testing.T) {
	o := finishedOrder(func(o *v1.VerificationOrder) {
		o.Spec.ProviderRef = v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: "shared"}
	})
	w := newWorld(t, ptr.To[int32](0), time.Minute, o)
	w.r.ClusterProviders = true
	if res := w.reconcile(t, o); res != (ctrl.Result{}) || w.exists(t, o) {
		t.Fatalf("%+v, want deleted", res)
	}
}

func TestKeptOrdersAreNotLookedAtAgain(t *testing.T) {
	for name, c := range map[string]struct {
		ttl   *int32
		order *v1.VerificationOrder
	}{
		"no TTL":       {order: finishedOrder()},
		"not finished": {ttl: ptr.To[int32](0), order: finishedOrder(state("active"), condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged))},
		"stalled":      {ttl: ptr.To[int32](0), order: finishedOrder(stalledFor(v1.ReasonCredentialsRejected))},
		"retained":     {ttl: ptr.To[int32](0), order: finishedOrder(func(o *v1.VerificationOrder) { o.Annotations = map[string]string{v1.RetainAnnotation: "true"} })},
		"GitOps":       {ttl: ptr.To[int32](0), order: finishedOrder(func(o *v1.VerificationOrder) { o.Labels = map[string]string{FluxKustomizationLabel: "lending"} })},
		"being deleted": {ttl: ptr.To[int32](0), order: finishedOrder(func(o *v1.VerificationOrder) {
			o.Finalizers = []string{v1.CancelFinalizer}
			o.DeletionTimestamp = &metav1.Time{Time: finishedAt}
		})},
		"a cluster provider, not served": {ttl: ptr.To[int32](0), order: finishedOrder(func(o *v1.VerificationOrder) {
			o.Spec.ProviderRef = v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: "truework"}
		})},
		"provider missing": {ttl: ptr.To[int32](0), order: finishedOrder(func(o *v1.VerificationOrder) { o.Spec.ProviderRef.Name = "gone" })},
	} {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t, c.ttl, 24*time.Hour, c.order)
			if res := w.reconcile(t, c.order); res != (ctrl.Result{}) || !w.exists(t, c.order) {
				t.Errorf("%+v, want kept and no requeue", res)
			}
		})
	}
}

// afterRead is an API reader that hands after each order it read.
type afterRead struct {
	client.Reader
	after func(read *v1.VerificationOrder) error
}

func (a afterRead) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := a.Reader.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	return a.after(obj.(*v1.VerificationOrder))
}

func TestAnOrderEditedBeforeTheDeleteIsKept(t *testing.T) {
	o := finishedOrder()
	w := newWorld(t, ptr.To[int32](0), time.Minute, o)
	// Someone says keep it, right after retention read it past the cache.
	w.r.APIReader = afterRead{Reader: w.k8s, after: func(read *v1.VerificationOrder) error {
		edited := read.DeepCopy()
		edited.Annotations = map[string]string{v1.RetainAnnotation: "true"}
		return w.k8s.Update(context.Background(), edited)
	}}
	if res := w.reconcile(t, o); res != (ctrl.Result{}) || !w.exists(t, o) {
		t.Fatalf("%+v, want kept: the delete's preconditions are what was checked", res)
	}
}

func TestTheLiveOrderIsCheckedAgain(t *testing.T) {
	o := finishedOrder()
	w := newWorld(t, ptr.To[int32](0), time.Minute, o)
	// The cache is behind: the order is no longer finished.
	w.r.APIReader = afterRead{Reader: w.k8s, after: func(read *v1.VerificationOrder) error {
		setCondition(read, v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonOrderClaimed)
		return nil
	}}
	if res := w.reconcile(t, o); res != (ctrl.Result{}) || !w.exists(t, o) {
		t.Fatalf("%+v, want kept", res)
	}
}

func TestOneEventPerProviderPerWindow(t *testing.T) {
	a, b := finishedOrder(named("a")), finishedOrder(named("b"), state("canceled"), condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged))
	c := finishedOrder(named("c"))
	w := newWorld(t, ptr.To[int32](60), time.Hour, a, b, c)
	for _, o := range []*v1.VerificationOrder{a, b, c} {
		w.reconcile(t, o)
		if w.exists(t, o) {
			t.Fatalf("%s kept", o.Name)
		}
	}
	select {
	case e := <-w.events.Events:
		t.Fatalf("an event before the window closed: %s", e)
	default:
	}
	w.clock.Step(DefaultEventWindow)
	select {
	case e := <-w.events.Events:
		want := "Normal OrdersPruned Deleted 3 finished orders past their ttlSecondsAfterFinished (1 canceled, 2 completed); no vendor was called."
		if e != want {
			t.Errorf("event %q, want %q", e, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event once the window closed")
	}
	// The next prune opens a new window.
	d := finishedOrder(named("d"))
	if err := w.k8s.Create(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	w.reconcile(t, d)
	w.clock.Step(DefaultEventWindow)
	select {
	case e := <-w.events.Events:
		if !strings.Contains(e, "Deleted 1 finished order past") {
			t.Errorf("event %q", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event for the second window")
	}
}
