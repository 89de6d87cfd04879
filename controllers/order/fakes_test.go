package order

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/providers"
)

// The fakes of the reconciler's table tests: a vendor whose client calls
// function fields (crossplane's ExternalClientFns style) and logs each
// call, a fake Kubernetes client that logs each status write, and one fake
// clock shared by the reconciler and the budgets. Nothing here sleeps.

const (
	fakeVendorName = "fakevendor"
	namespace      = "ns"
	orderID        = "o-1"
	// stalledRecheck and repeatBackoff are the reconciler's, set unlike
	// their defaults so that the rows show they are used.
	stalledRecheck = 7 * time.Minute
	repeatBackoff  = 3 * time.Second
)

// t0 is when every test starts, on a whole second: metav1.Time keeps
// seconds only, and the fake client stores what it is given as JSON.
var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fakeStates are the fake vendor's words.
var fakeStates = providers.StateTable{
	"open": providers.StateActive, "completed": providers.StateCompleted, "canceled": providers.StateCanceled,
	"closed": providers.StateClosed, "expired": providers.StateExpired,
}

// call is what one vendor method answers for the id asked.
type call func(ctx context.Context, id string) (providers.Observation, error)

// fns are the fake client's behavior, one function a method; a method
// without one fails as a vendor that cannot be reached would.
type fns struct {
	ObserveFn, CancelFn, CloseFn call
	// ReverifyFn is asked with the id of the request to reverify.
	ReverifyFn call
	FindFn     func(ctx context.Context, requestID string, since time.Time) (providers.Observation, bool, error)
}

// fakeClient is a providers.Client, Closer, Reverifier and
// ReverificationFinder.
type fakeClient struct {
	fns
	mu    sync.Mutex
	calls []string // "Cancel o-1", in the order made
}

var (
	_ providers.Client               = (*fakeClient)(nil)
	_ providers.Closer               = (*fakeClient)(nil)
	_ providers.Reverifier           = (*fakeClient)(nil)
	_ providers.ReverificationFinder = (*fakeClient)(nil)
)

func (f *fakeClient) Observe(ctx context.Context, id string) (providers.Observation, error) {
	return f.do(ctx, "Observe", id, f.ObserveFn)
}

func (f *fakeClient) Cancel(ctx context.Context, id string, _ providers.Cancellation) (providers.Observation, error) {
	return f.do(ctx, "Cancel", id, f.CancelFn)
}

func (f *fakeClient) Close(ctx context.Context, id string) (providers.Observation, error) {
	return f.do(ctx, "Close", id, f.CloseFn)
}

func (f *fakeClient) Reverify(ctx context.Context, requestID, _ string) (providers.Observation, error) {
	return f.do(ctx, "Reverify", requestID, f.ReverifyFn)
}

// Reverified returns the client itself: the fake's requests are its orders.
func (f *fakeClient) Reverified() providers.Client { return f }

func (f *fakeClient) FindReverification(ctx context.Context, requestID string, since time.Time) (providers.Observation, bool, error) {
	f.log("Find", requestID)
	if f.FindFn == nil {
		return providers.Observation{}, false, unreachable("Find")
	}
	return f.FindFn(ctx, requestID, since)
}

func (f *fakeClient) do(ctx context.Context, method, id string, fn call) (providers.Observation, error) {
	f.log(method, id)
	if fn == nil {
		return providers.Observation{}, unreachable(method)
	}
	return fn(ctx, id)
}

func (f *fakeClient) log(method, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, method+" "+id)
}

// made lists the calls made so far: "Observe o-1, Cancel o-1".
func (f *fakeClient) made() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return strings.Join(f.calls, ", ")
}

func unreachable(method string) error {
	return providers.Errorf(providers.KindTransient, 0, "the fake has no %s function", method)
}

// newFakeVendor declares the fake vendor, whose every client is c: a
// generous rate limit, every action, and credentials that need a "key".
func newFakeVendor(c *fakeClient) providers.Vendor {
	return providers.Vendor{
		Name:      fakeVendorName,
		BaseURLs:  map[string]string{providers.EnvSandbox: "https://sandbox.fake.invalid", providers.EnvProduction: "https://fake.invalid"},
		RateLimit: providers.RateLimit{RequestsPerSecond: 1000, Burst: 1000},
		Capabilities: providers.Capabilities{From: map[providers.Action][]string{
			providers.ActionCancel: {"open"}, providers.ActionClose: {"open"}, providers.ActionReverify: {"completed"},
		}, ReverifyWindow: 90 * 24 * time.Hour},
		States:         fakeStates,
		CredentialKeys: []string{"key"},
		ValidateCredentials: func(_ string, data map[string][]byte) error {
			if len(data["key"]) == 0 {
				return fmt.Errorf("the Secret has no key")
			}
			return nil
		},
		New: func(providers.Config) (providers.Client, error) { return c, nil },
	}
}

// Answers of the fake vendor.

// observed is the fake vendor's answer for id in its word.
func observed(id, word string) providers.Observation {
	return providers.Observation{ID: id, VendorState: word, State: fakeStates.Normalize(word)}
}

// answers answers the id asked with words, one a call, the last repeated.
func answers(words ...string) call {
	var mu sync.Mutex
	n := 0
	return func(_ context.Context, id string) (providers.Observation, error) {
		mu.Lock()
		defer mu.Unlock()
		word := words[min(n, len(words)-1)]
		n++
		return observed(id, word), nil
	}
}

// completed answers that the id asked was completed ago.
func completed(ago time.Duration) call {
	return func(_ context.Context, id string) (providers.Observation, error) {
		obs, at := observed(id, "completed"), t0.Add(-ago)
		obs.CompletedAt = &at
		return obs, nil
	}
}

// creates answers a reverify call with the new request id, in word.
func creates(id, word string) call {
	return func(context.Context, string) (providers.Observation, error) { return observed(id, word), nil }
}

// found answers a search for a reverification with request id, open;
// none when id is empty.
func found(id string) func(context.Context, string, time.Time) (providers.Observation, bool, error) {
	return func(context.Context, string, time.Time) (providers.Observation, bool, error) {
		if id == "" {
			return providers.Observation{}, false, nil
		}
		return observed(id, "open"), true, nil
	}
}

// fails answers every call with err.
func fails(err error) call {
	return func(context.Context, string) (providers.Observation, error) { return providers.Observation{}, err }
}

// refuses answers as the real clients do once providers.Settle read an
// order that the refused action did not bring where it wanted: the
// refusal, with the order as the read found it.
func refuses(word string) call {
	return func(_ context.Context, id string) (providers.Observation, error) {
		return observed(id, word), providers.Errorf(providers.KindRejected, 409, "order is %s", word)
	}
}

// env is one test's world: the objects, the fakes, and the reconciler.
// The objects may be changed until start.
type env struct {
	t        *testing.T
	clock    *clocktesting.FakeClock
	vendor   *fakeClient
	declared providers.Vendor
	secret   *corev1.Secret
	provider *v1.VerificationProvider
	order    *v1.VerificationOrder
	// more are further objects (a second order).
	more []client.Object
	// onStart runs once the reconciler is built, before the first reconcile.
	onStart []func()

	kube   client.Client
	r      *Reconciler
	writes statusWrites
	events *events.FakeRecorder
}

func newEnv(t *testing.T) *env {
	e := &env{t: t, clock: clocktesting.NewFakeClock(t0), vendor: &fakeClient{}}
	e.declared = newFakeVendor(e.vendor)
	e.secret = &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: namespace}, Data: map[string][]byte{"key": []byte("k")}}
	e.provider = &v1.VerificationProvider{
		ObjectMeta: metav1.ObjectMeta{Name: "fake", Namespace: namespace, Generation: 1, UID: "provider-uid"},
		Spec:       v1.VerificationProviderSpec{Vendor: fakeVendorName, CredentialsSecretRef: v1.SecretReference{Name: "creds"}},
	}
	e.order = newOrder("o")
	return e
}

func newOrder(name string) *v1.VerificationOrder {
	return &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Generation: 1},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "fake"}, OrderID: orderID, State: v1.DesiredActive},
	}
}

// start puts the objects (those not nil) in a fake Kubernetes client and
// builds the reconciler on it.
func (e *env) start() {
	scheme := apiruntime.NewScheme()
	for _, add := range []func(*apiruntime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme} {
		if err := add(scheme); err != nil {
			e.t.Fatal(err)
		}
	}
	objects := append([]client.Object{e.order}, e.more...)
	if e.secret != nil {
		objects = append(objects, e.secret)
	}
	if e.provider != nil {
		objects = append(objects, e.provider)
	}
	e.writes.notify = make(chan struct{}, 64)
	e.kube = fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.VerificationOrder{}).
		WithObjects(objects...).WithInterceptorFuncs(interceptor.Funcs{SubResourceUpdate: e.writes.intercept}).
		WithIndex(&v1.VerificationOrder{}, index.OrderClaim, func(o client.Object) []string {
			return index.ClaimKeys(o.(*v1.VerificationOrder))
		}).Build()
	e.events = events.NewFakeRecorder(100)
	clients := &connection.ClientCache{Budgets: budget.Registry{Clock: e.clock}}
	e.r = &Reconciler{
		Client:         e.kube,
		Claims:         index.ListClaims(e.kube),
		Connector:      &connection.Connector{Cached: e.kube, Live: e.kube, Registry: providers.NewRegistry(e.declared), Clients: clients},
		Recorder:       e.events,
		Backoff:        DefaultBackoff(),
		StalledRecheck: stalledRecheck,
		RepeatBackoff:  repeatBackoff,
	}
	for _, f := range e.onStart {
		f()
	}
}

// reconcile runs one reconcile of the order name.
func (e *env) reconcile(name string) ctrl.Result {
	e.t.Helper()
	key := types.NamespacedName{Namespace: namespace, Name: name}
	res, err := e.r.Reconcile(e.t.Context(), ctrl.Request{NamespacedName: key})
	if e.r.flights.flying(key) {
		// The worker let go of a slow call: as the controller does, take
		// the wakeup when the flight lands and reconcile again, which
		// returns the flight's result.
		select {
		case ev := <-e.r.Wakeups():
			if got := client.ObjectKeyFromObject(ev.Object); got != key {
				e.t.Fatalf("woke %v, want %v", got, key)
			}
		case <-time.After(10 * time.Second):
			e.t.Fatalf("the flight of %s never landed", name)
		}
		res, err = e.r.Reconcile(e.t.Context(), ctrl.Request{NamespacedName: key})
	}
	if err != nil {
		e.t.Fatalf("reconcile %s: %v", name, err)
	}
	return res
}

// get reads the order name from the fake client; nil when it is gone.
// It may be called from a fake vendor call's goroutine.
func (e *env) get(name string) *v1.VerificationOrder {
	o := &v1.VerificationOrder{}
	if err := e.kube.Get(context.Background(), types.NamespacedName{Namespace: namespace, Name: name}, o); err != nil {
		if client.IgnoreNotFound(err) != nil {
			e.t.Error(err)
		}
		return nil
	}
	return o
}

// slowly answers like next, but only once the reconcile has waited a
// pendingDelay on the fake clock and written the Pending conditions
// meanwhile: a vendor call slower than the pending delay.
func (e *env) slowly(next call) call {
	return func(ctx context.Context, id string) (providers.Observation, error) {
		if !e.waitForTimer() {
			e.t.Error("the reconcile set no timer on the clock while the call ran")
			return next(ctx, id)
		}
		e.clock.Step(pendingDelay)
		if !e.writes.await(1) {
			e.t.Error("no status write while the call ran")
		}
		return next(ctx, id)
	}
}

// onlyAfter answers like next if the order's status in the fake client
// already records intent when the call is made; otherwise the call is
// refused and the test fails.
func (e *env) onlyAfter(intent string, recorded func(v1.VerificationOrderStatus) bool, next call) call {
	return func(ctx context.Context, id string) (providers.Observation, error) {
		if o := e.get("o"); o == nil || !recorded(o.Status) {
			e.t.Errorf("the vendor was called before %s was written", intent)
			return providers.Observation{}, providers.Errorf(providers.KindRejected, 400, "called before the intent")
		}
		return next(ctx, id)
	}
}

// emitted lists the events recorded so far: "Normal Cancel, Warning OrderNotFound".
func (e *env) emitted() string {
	var got []string
	for {
		select {
		case ev := <-e.events.Events:
			got = append(got, strings.Join(strings.Fields(ev)[:2], " "))
		default:
			return strings.Join(got, ", ")
		}
	}
}

// waitForTimer returns once a reconcile waits on the fake clock, so that
// a Step reaches it.
func (e *env) waitForTimer() bool {
	return eventually(e.clock.HasWaiters)
}

// eventually spins until ok; the deadline only turns a hang into a failure.
func eventually(ok func() bool) bool {
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		runtime.Gosched()
	}
	return true
}

// statusWrites logs every status write that landed.
type statusWrites struct {
	mu     sync.Mutex
	log    []written
	notify chan struct{}
}

type written struct {
	name   string
	status v1.VerificationOrderStatus
}

func (w *statusWrites) intercept(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if err := c.SubResource(sub).Update(ctx, obj, opts...); err != nil {
		return err
	}
	if o, ok := obj.(*v1.VerificationOrder); ok && sub == "status" {
		w.mu.Lock()
		w.log = append(w.log, written{name: o.Name, status: *o.Status.DeepCopy()})
		w.mu.Unlock()
		select {
		case w.notify <- struct{}{}:
		default:
		}
	}
	return nil
}

// of lists the Ready reason of each status write of the order name,
// "Pending, Converged"; "-" stands for a write without Ready.
func (w *statusWrites) of(name string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var got []string
	for _, wr := range w.log {
		if wr.name != name {
			continue
		}
		reason := "-"
		if c := meta.FindStatusCondition(wr.status.Conditions, v1.ConditionReady); c != nil {
			reason = c.Reason
		}
		got = append(got, reason)
	}
	return strings.Join(got, ", ")
}

// await returns once n status writes have landed.
func (w *statusWrites) await(n int) bool {
	return eventually(func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return len(w.log) >= n
	})
}

// The setups rows compose.

// wants sets spec.state.
func wants(s v1.DesiredState) func(*env) {
	return func(e *env) { e.order.Spec.State = s }
}

// seen records in status that the order was observed in word, ago, and
// found Ready, as an earlier reconcile would have.
func seen(word string, ago time.Duration) func(*env) {
	return func(e *env) {
		at := metav1.NewTime(t0.Add(-ago))
		obs := observed(orderID, word)
		s := &e.order.Status
		s.ObservedGeneration, s.LastObservedTime = e.order.Generation, &at
		s.OrderID, s.VendorState, s.State = obs.ID, obs.VendorState, v1.ObservedState(obs.State)
		for c, reason := range map[string]v1.Reason{v1.ConditionReady: v1.ReasonConverged, v1.ConditionSynced: v1.ReasonSynced} {
			meta.SetStatusCondition(&s.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue, Reason: string(reason),
				Message: "recorded", ObservedGeneration: e.order.Generation, LastTransitionTime: at})
		}
	}
}

// applied records in status that action was applied count times in a row.
func applied(action providers.Action, count int32) func(*env) {
	return func(e *env) {
		at := metav1.NewTime(t0.Add(-time.Second))
		e.order.Status.LastAppliedAction, e.order.Status.AppliedCount, e.order.Status.LastAppliedTime = v1.Action(action), count, &at
	}
}

// observeOnly sets managementPolicy ObserveOnly.
func observeOnly(e *env) { e.order.Spec.ManagementPolicy = v1.ManagementObserveOnly }

// paused sets the pause annotation.
func paused(e *env) { e.order.Annotations = map[string]string{v1.PausedAnnotation: "true"} }

// deleted has the order, with deletionPolicy Cancel, being deleted.
func deleted(e *env) {
	at := metav1.NewTime(t0.Add(-time.Second))
	e.order.Spec.DeletionPolicy = v1.DeletionCancel
	e.order.Finalizers = []string{v1.CancelFinalizer}
	e.order.DeletionTimestamp = &at
}

// reverification has the order reverify request req-1 instead of naming
// an order.
func reverification(e *env) {
	e.order.Spec.OrderID = ""
	e.order.Spec.Reverification = &v1.Reverification{VerificationRequestID: "req-1", ReportID: "report-1"}
}

// annotated checks that the order keeps its reverification in the
// annotation, as want ("<source>/<created>").
func annotated(want string) func(*testing.T, *env) {
	return func(t *testing.T, e *env) {
		if got := e.get("o").Annotations[v1.ReverifiedAnnotation]; got != want {
			t.Errorf("annotation %s = %q, want %q", v1.ReverifiedAnnotation, got, want)
		}
	}
}

// inDoubt records a reverification intent made ago whose result was not
// recorded.
func inDoubt(ago time.Duration) func(*env) {
	return func(e *env) {
		at := metav1.NewTime(t0.Add(-ago))
		e.order.Status.ReverificationRequestedTime = &at
	}
}

// claimedFirst adds an older order that names the same vendor order
// through the same provider; watching, it only observes.
func claimedFirst(watching bool) func(*env) {
	return func(e *env) {
		first := newOrder("first")
		first.UID = "first-uid"
		e.order.UID = "o-uid"
		first.CreationTimestamp = metav1.NewTime(t0.Add(-time.Hour))
		e.order.CreationTimestamp = metav1.NewTime(t0)
		if watching {
			first.Spec.ManagementPolicy = v1.ManagementObserveOnly
		}
		e.more = append(e.more, first)
	}
}

// limited gives the provider a budget of rps calls a second, burst 1,
// and spends taken calls of it for other orders before the first reconcile.
func limited(rps int32, taken int) func(*env) {
	return func(e *env) {
		e.provider.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: rps, Burst: 1}
		e.onStart = append(e.onStart, func() {
			conn, err := e.r.Connector.Connect(e.t.Context(), e.order)
			if err != nil {
				e.t.Fatal(err)
			}
			for i := range taken {
				conn.Budget.Take(types.NamespacedName{Namespace: namespace, Name: fmt.Sprintf("other-%d", i)})
			}
		})
	}
}

// without removes an object before start: "provider" or "secret".
func without(what string) func(*env) {
	return func(e *env) {
		switch what {
		case "provider":
			e.provider = nil
		case "secret":
			e.secret = nil
		default:
			e.t.Fatalf("without %q", what)
		}
	}
}
