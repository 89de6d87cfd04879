package argocd

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	apiruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/order"
	"github.com/ordersync/verification-operator/controllers/provider"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// The status samples in each kind's testdata/ are what Argo CD's health
// scripts (health_test.yaml) and Flux's CEL expressions (test/flux, a
// module of its own that cannot import the operator's reconcilers) are
// tested on. TestStatusSamples makes sure they are what the operator
// really writes: it drives the operator's own reconcilers, on a fake
// Kubernetes client, against a vendor simulator on a loopback port, into
// every state, and compares what they wrote with the files. After a change
// to the reconcilers' conditions or messages:
//
//	go test ./test/argocd -run TestStatusSamples -update
//
// rewrites them; health_test.yaml and test/flux then say whether the
// scripts and the expressions still read them right.
var update = flag.Bool("update", false, "rewrite the status samples in config/argocd/.../testdata from the operator's reconcilers")

// sampleHeader starts every sample, so that no one edits one by hand.
const sampleHeader = "# Written by the operator's reconcilers: go test ./test/argocd -run TestStatusSamples -update\n"

// sampleTime replaces every time in a sample (lastTransitionTime is the
// real clock's): the samples must not change from one run to the next.
var sampleTime = metav1.NewTime(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))

const (
	sampleNamespace = "lending"
	// sampleVendor is the simulator the samples are made against: its
	// orders read in one call, and its ids are not random.
	sampleVendor = "accountchek"
	// sampleEndpoint stands for the simulator's loopback URL, whose port
	// changes each run.
	sampleEndpoint = "https://api.accountchek.example"
)

// sample is one file under a kind's directory (testdata/, or
// actions/testdata/ for an action's expected output) and how the operator
// gets an object into the state it shows.
type sample struct {
	kind, path string
	make       func(w *world) client.Object
}

var orderSamples = []sample{
	{orderKind, "testdata/new.yaml", func(w *world) client.Object {
		// Created, and not looked at yet (a backlog can delay the first look).
		return w.newOrder("o", nil)
	}},
	{orderKind, "testdata/pending.yaml", func(w *world) client.Object {
		// The account's one call of the day went to another order: this
		// one waits for the budget, and says Pending meanwhile.
		w.account.Provider.Spec.RateLimit = &v1.RateLimit{RequestsPerDay: 1}
		w.settle(w.newOrder("first", nil))
		return w.reconcile(w.newOrder("o", nil))
	}},
	{orderKind, "testdata/converged.yaml", func(w *world) client.Object {
		return w.settle(w.newOrder("o", func(o *v1.VerificationOrder) { o.Spec.State = v1.DesiredCanceled }))
	}},
	{orderKind, "testdata/vendor-unavailable.yaml", func(w *world) client.Object {
		// Every call answered 503: retried with backoff, Reconciling.
		w.account.Sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
		return w.reconcile(w.newOrder("o", nil))
	}},
	{orderKind, "testdata/converged-vendor-unavailable.yaml", func(w *world) client.Object {
		// Converged, then a routine look fails: Ready stays as last
		// observed, Reconciling while the look is retried.
		o := w.settle(w.newOrder("o", nil))
		w.account.Sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
		return w.reconcile(o)
	}},
	{orderKind, "testdata/stalled.yaml", func(w *world) client.Object {
		// Canceled in Git, but the vendor completed the order first.
		return w.reconcile(w.newOrder("o", func(o *v1.VerificationOrder) {
			o.Spec.OrderID = w.vendorOrder(w.account.Completed)
			o.Spec.State = v1.DesiredCanceled
		}))
	}},
	{orderKind, "testdata/paused.yaml", func(w *world) client.Object {
		// Paused once converged: Ready stays as last observed.
		o := w.settle(w.newOrder("o", nil))
		w.annotate(o, v1.PausedAnnotation, "true")
		return w.reconcile(o)
	}},
	{orderKind, "testdata/paused-new.yaml", func(w *world) client.Object {
		// Paused before the first look: nothing was ever observed.
		return w.reconcile(w.newOrder("o", func(o *v1.VerificationOrder) {
			o.Annotations = map[string]string{v1.PausedAnnotation: "true"}
		}))
	}},
	{orderKind, "actions/testdata/converged-refreshed.yaml", func(w *world) client.Object {
		// What the refresh action makes of converged.yaml (the time zeroed).
		o := w.settle(w.newOrder("o", func(o *v1.VerificationOrder) { o.Spec.State = v1.DesiredCanceled }))
		w.annotate(o, refreshAnnotation, zeroTime)
		return w.get(o)
	}},
	{orderKind, "actions/testdata/paused-refreshed.yaml", func(w *world) client.Object {
		// What the refresh action makes of paused.yaml: the annotations kept.
		o := w.settle(w.newOrder("o", nil))
		w.annotate(o, v1.PausedAnnotation, "true")
		w.annotate(w.reconcile(o), refreshAnnotation, zeroTime)
		return w.get(o)
	}},
	{orderKind, "testdata/deleting.yaml", func(w *world) client.Object {
		// Deleted with deletionPolicy Cancel while the vendor is down: the
		// finalizer holds the order until the cancel goes through.
		o := w.settle(w.newOrder("o", func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel }))
		w.account.Sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
		if err := w.kube.Delete(w.t.Context(), o); err != nil {
			w.t.Fatal(err)
		}
		return w.reconcile(o)
	}},
	{orderKind, "testdata/spec-changed.yaml", func(w *world) client.Object {
		// Converged as active, then canceled in Git: the API server has
		// moved metadata.generation on, the controller has not looked yet.
		o := w.settle(w.newOrder("o", nil))
		o.Spec.State = v1.DesiredCanceled
		o.Generation++
		return w.update(o)
	}},
}

// samples are the orders' and, alike, both provider kinds'.
var samples = append(append(orderSamples, providerSamples(providerKind)...), providerSamples(clusterProviderKind)...)

func providerSamples(kind string) []sample {
	return []sample{
		{kind, "testdata/new.yaml", func(w *world) client.Object {
			return w.newProvider(kind, nil)
		}},
		{kind, "testdata/ready.yaml", func(w *world) client.Object {
			return w.reconcileProvider(kind, w.newProvider(kind, nil))
		}},
		{kind, "testdata/secret-not-found.yaml", func(w *world) client.Object {
			return w.reconcileProvider(kind, w.newProvider(kind, func(s *v1.VerificationProviderSpec) {
				s.CredentialsSecretRef.Name = "missing"
			}))
		}},
		{kind, "testdata/spec-changed.yaml", func(w *world) client.Object {
			// Its poll interval changed in Git, not yet looked at.
			p := w.reconcileProvider(kind, w.newProvider(kind, nil))
			p.SetGeneration(p.GetGeneration() + 1)
			p.(v1.Provider).ProviderSpec().PollInterval = &metav1.Duration{Duration: time.Hour}
			return w.update(p)
		}},
	}
}

func TestStatusSamples(t *testing.T) {
	for _, s := range samples {
		t.Run(s.kind+"/"+s.path, func(t *testing.T) {
			w := newWorld(t)
			got := w.render(s.make(w))
			path := filepath.Join(kindDir(s.kind), s.path)
			if *update {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v: run go test ./test/argocd -run TestStatusSamples -update", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s is not what the operator writes now; run go test ./test/argocd -run TestStatusSamples -update, then check health_test.yaml and test/flux.\ngot:\n%s\nwant:\n%s", path, got, want)
			}
		})
	}
}

// world is one vendor account on a simulator, a fake Kubernetes client
// with the operator's field indexes, and the operator's reconcilers on
// them, with one fake clock for the budgets.
type world struct {
	t       *testing.T
	kube    client.Client
	account *fixture.Account
	clients *connection.ClientCache
	orders  *order.Reconciler
	// ids are the simulator's order ids, in the order they were seeded:
	// random GUIDs, rendered as stable ones.
	ids []string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	a, err := fixture.Start(sampleVendor, fixture.Namespace(sampleNamespace))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	scheme := apiruntime.NewScheme()
	for _, add := range []func(*apiruntime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).
		WithStatusSubresource(&v1.VerificationOrder{}, &v1.VerificationProvider{}, &v1.ClusterVerificationProvider{})
	kinds := []v1.ProviderKind{v1.KindVerificationProvider, v1.KindClusterVerificationProvider}
	if err := index.Setup(t.Context(), fakeIndexer{builder}, kinds, sampleNamespace); err != nil {
		t.Fatal(err)
	}
	if err := index.FieldIndexClaims(t.Context(), fakeIndexer{builder}); err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, kube: builder.Build(), account: a}
	w.clients = &connection.ClientCache{Budgets: budget.Registry{Clock: clocktesting.NewFakeClock(sampleTime.Time)}}
	w.orders = &order.Reconciler{
		Client:    w.kube,
		Claims:    index.ListClaims(w.kube),
		Connector: &connection.Connector{Cached: w.kube, Live: w.kube, Registry: registry.Default(), Clients: w.clients},
		Recorder:  events.NewFakeRecorder(100),
		Backoff:   order.DefaultBackoff(),
	}
	return w
}

// fakeIndexer registers the operator's field indexes (index.Setup) with
// the fake client being built, so that the reconcilers' lookups through
// them work as on a manager's cache.
type fakeIndexer struct{ *fake.ClientBuilder }

func (f fakeIndexer) IndexField(_ context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	f.WithIndex(obj, field, extract)
	return nil
}

// vendorOrder seeds an order at the simulator in state.
func (w *world) vendorOrder(state string) string {
	w.t.Helper()
	id, err := w.account.Sim.CreateOrder(state)
	if err != nil {
		w.t.Fatal(err)
	}
	w.ids = append(w.ids, id)
	return id
}

// newOrder creates the account's provider and Secret the first time, then
// an order named name of a cancelable vendor order, changed by change.
func (w *world) newOrder(name string, change func(*v1.VerificationOrder)) *v1.VerificationOrder {
	w.t.Helper()
	if err := w.kube.Get(w.t.Context(), client.ObjectKeyFromObject(w.account.Provider), &v1.VerificationProvider{}); err != nil {
		for _, obj := range []client.Object{w.secret(), w.account.Provider} {
			if err := w.kube.Create(w.t.Context(), obj); err != nil {
				w.t.Fatal(err)
			}
		}
	}
	o := &v1.VerificationOrder{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: orderKind},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: sampleNamespace, Generation: 1},
		Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: w.account.Provider.Name},
			OrderID: w.vendorOrder(w.account.Cancelable), State: v1.DesiredActive},
	}
	if change != nil {
		change(o)
	}
	if err := w.kube.Create(w.t.Context(), o); err != nil {
		w.t.Fatal(err)
	}
	return o
}

// newProvider creates a provider of kind pointing at the simulator, and
// its Secret in the namespace the operator reads it from.
func (w *world) newProvider(kind string, change func(*v1.VerificationProviderSpec)) client.Object {
	w.t.Helper()
	spec := *w.account.Provider.Spec.DeepCopy()
	if change != nil {
		change(&spec)
	}
	secret := w.secret()
	meta := metav1.ObjectMeta{Name: w.account.Provider.Name, Namespace: sampleNamespace, Generation: 1}
	var p client.Object = &v1.VerificationProvider{ObjectMeta: meta, Spec: spec}
	if kind == clusterProviderKind {
		meta.Namespace = ""
		spec.CredentialsSecretRef.Namespace = sampleNamespace
		p = &v1.ClusterVerificationProvider{ObjectMeta: meta,
			Spec: v1.ClusterVerificationProviderSpec{VerificationProviderSpec: spec, NamespaceSelector: &metav1.LabelSelector{}}}
	}
	p.GetObjectKind().SetGroupVersionKind(v1.GroupVersion.WithKind(kind))
	for _, obj := range []client.Object{secret, p} {
		if err := w.kube.Create(w.t.Context(), obj); err != nil {
			w.t.Fatal(err)
		}
	}
	return p
}

// secret is the account's Secret as the API server stores it: the fake
// client, unlike the API server, does not move stringData into data.
func (w *world) secret() *corev1.Secret {
	s := w.account.Secret.DeepCopy()
	s.Data = map[string][]byte{}
	for k, v := range s.StringData {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	return s
}

// reconcile runs one reconcile of o and returns o as it then is.
func (w *world) reconcile(o *v1.VerificationOrder) *v1.VerificationOrder {
	w.t.Helper()
	w.run(o)
	return w.get(o).(*v1.VerificationOrder)
}

// settle reconciles o until it is Ready, as the requeues would.
func (w *world) settle(o *v1.VerificationOrder) *v1.VerificationOrder {
	w.t.Helper()
	for range 5 {
		if o = w.reconcile(o); isReady(o.Status.Conditions) {
			return o
		}
	}
	w.t.Fatalf("order %s never became Ready: %+v", o.Name, o.Status.Conditions)
	return nil
}

func (w *world) reconcileProvider(kind string, p client.Object) client.Object {
	w.t.Helper()
	r := &provider.Reconciler{Client: w.kube, Kind: v1.ProviderKind(kind),
		OperatorNamespace: sampleNamespace, APIReader: w.kube, Registry: registry.Default(), Clients: w.clients,
		Recorder: events.NewFakeRecorder(100)}
	if _, err := r.Reconcile(w.t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(p)}); err != nil {
		w.t.Fatal(err)
	}
	return w.get(p)
}

func (w *world) run(o *v1.VerificationOrder) {
	w.t.Helper()
	if _, err := w.orders.Reconcile(w.t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)}); err != nil {
		w.t.Fatal(err)
	}
}

// get reads obj again from the fake client.
func (w *world) get(obj client.Object) client.Object {
	w.t.Helper()
	fresh := obj.DeepCopyObject().(client.Object)
	if err := w.kube.Get(w.t.Context(), client.ObjectKeyFromObject(obj), fresh); err != nil {
		w.t.Fatal(err)
	}
	return fresh
}

func (w *world) update(obj client.Object) client.Object {
	w.t.Helper()
	if err := w.kube.Update(w.t.Context(), obj); err != nil {
		w.t.Fatal(err)
	}
	return w.get(obj)
}

func (w *world) annotate(o *v1.VerificationOrder, key, value string) {
	w.t.Helper()
	patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, key, value)
	if err := w.kube.Patch(w.t.Context(), o, client.RawPatch(types.MergePatchType, patch)); err != nil {
		w.t.Fatal(err)
	}
}

func isReady(conditions []metav1.Condition) bool {
	for _, c := range conditions {
		if c.Type == v1.ConditionReady {
			return c.Status == metav1.ConditionTrue
		}
	}
	return false
}

// render writes obj as the API server would serve it, less what differs
// from run to run: the fields the API server sets for itself (uid,
// resourceVersion, creationTimestamp, managedFields), the times, the
// simulator's port. An object created without status has none: the API
// server drops status on create when the CRD has a status subresource.
func (w *world) render(obj client.Object) []byte {
	w.t.Helper()
	obj.GetObjectKind().SetGroupVersionKind(v1.GroupVersion.WithKind(kindOf(obj)))
	obj.SetUID("")
	obj.SetResourceVersion("")
	obj.SetManagedFields(nil)
	obj.SetCreationTimestamp(metav1.Time{})
	if obj.GetDeletionTimestamp() != nil {
		obj.SetDeletionTimestamp(&sampleTime)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		w.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		w.t.Fatal(err)
	}
	delete(m["metadata"].(map[string]any), "creationTimestamp")
	if status, ok := m["status"].(map[string]any); ok {
		for key, value := range status {
			if _, isTime := value.(string); isTime && strings.HasSuffix(key, "Time") {
				status[key] = sampleTime.UTC().Format(time.RFC3339)
			}
		}
		conditions, _ := status["conditions"].([]any)
		for _, c := range conditions {
			c.(map[string]any)["lastTransitionTime"] = sampleTime.UTC().Format(time.RFC3339)
		}
		if len(status) == 0 {
			delete(m, "status")
		}
	}
	out, err := yaml.Marshal(m)
	if err != nil {
		w.t.Fatal(err)
	}
	out = bytes.ReplaceAll(out, []byte(w.account.URL), []byte(sampleEndpoint))
	for i, id := range w.ids {
		out = bytes.ReplaceAll(out, []byte(id), fmt.Appendf(nil, "00000000-0000-4000-8000-%012d", i+1))
	}
	return append([]byte(sampleHeader), out...)
}

func kindOf(obj client.Object) string {
	switch obj.(type) {
	case *v1.VerificationOrder:
		return orderKind
	case *v1.ClusterVerificationProvider:
		return clusterProviderKind
	}
	return providerKind
}
