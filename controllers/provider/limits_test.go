package provider

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/providers/registry"
)

func limits(rps float64, burst int) budget.Limits {
	return budget.Limits{RequestsPerSecond: rps, Burst: burst, MaxInFlight: 10, PollShare: 0.5}
}

func declared(namespace, name string, l budget.Limits) connection.Declared {
	return connection.Declared{Provider: types.NamespacedName{Namespace: namespace, Name: name}, Limits: l}
}

func TestLimitsAppliedSaysWhatTheAccountIsHeldToAndByWhom(t *testing.T) {
	for _, tc := range []struct {
		name    string
		a       connection.AccountLimits
		status  metav1.ConditionStatus
		reason  v1.Reason
		message string
	}{
		{"alone", connection.AccountLimits{Own: limits(10, 10), InForce: limits(10, 10)},
			metav1.ConditionTrue, v1.ReasonOwnLimits,
			"Its vendor account is held to the limits this provider declares: 10 requests/s, burst 10, no daily quota, 10 calls in flight, 50% of the rate for polls."},
		{"the strictest of several", connection.AccountLimits{Own: limits(10, 10), InForce: limits(10, 10),
			Others: []connection.Declared{declared("team-a", "truework", limits(1000, 1000))}},
			metav1.ConditionTrue, v1.ReasonOwnLimits,
			"Its vendor account is held to the limits this provider declares: 10 requests/s, burst 10, no daily quota, 10 calls in flight, 50% of the rate for polls."},
		{"held to another's", connection.AccountLimits{Own: limits(1000, 1000), InForce: limits(10, 10),
			Others: []connection.Declared{declared("team-b", "truework", limits(10, 10))}},
			metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer,
			"This provider declares 1000 requests/s, burst 1000; its vendor account is also reached by VerificationProvider team-b/truework, " +
				"which declares 10 requests/s, burst 10; the account is held to 10 requests/s, burst 10. Set the same limits on every provider of the account."},
		{"held field by field to two others, a third naming nothing stricter", connection.AccountLimits{
			Own:     budget.Limits{RequestsPerSecond: 10, Burst: 10, RequestsPerDay: 0, MaxInFlight: 10, PollShare: 0.5},
			InForce: budget.Limits{RequestsPerSecond: 10, Burst: 5, RequestsPerDay: 1000, MaxInFlight: 10, PollShare: 0.5},
			Others: []connection.Declared{
				declared("", "shared", budget.Limits{RequestsPerSecond: 10, Burst: 5, MaxInFlight: 10, PollShare: 0.5}),
				declared("team-c", "txcloud", budget.Limits{RequestsPerSecond: 20, Burst: 20, MaxInFlight: 10, PollShare: 0.5}),
				declared("team-d", "txcloud", budget.Limits{RequestsPerSecond: 10, Burst: 10, RequestsPerDay: 1000, MaxInFlight: 10, PollShare: 0.5}),
			}},
			metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer,
			"This provider declares burst 10, no daily quota; its vendor account is also reached by ClusterVerificationProvider shared, " +
				"which declares burst 5, no daily quota, and by VerificationProvider team-d/txcloud, which declares burst 10, 1000 requests/day; " +
				"the account is held to 10 requests/s, burst 5, 1000 requests/day. Set the same limits on every provider of the account."},
		{"the poll share and calls in flight", connection.AccountLimits{
			Own:     budget.Limits{RequestsPerSecond: 10, Burst: 10, MaxInFlight: 10, PollShare: 1},
			InForce: budget.Limits{RequestsPerSecond: 10, Burst: 10, MaxInFlight: 2, PollShare: 0.2},
			Others:  []connection.Declared{declared("team-b", "truework", budget.Limits{RequestsPerSecond: 10, Burst: 10, MaxInFlight: 2, PollShare: 0.2})}},
			metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer,
			"This provider declares 10 calls in flight, 100% of the rate for polls; its vendor account is also reached by VerificationProvider team-b/truework, " +
				"which declares 2 calls in flight, 20% of the rate for polls; the account is held to 10 requests/s, burst 10, 2 calls in flight, 20% of the rate for polls. " +
				"Set the same limits on every provider of the account."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := limitsApplied(tc.a, 3)
			if c.Type != v1.ConditionLimitsApplied || c.Status != tc.status || c.Reason != string(tc.reason) || c.ObservedGeneration != 3 {
				t.Errorf("%s %s %s (generation %d), want %s %s", c.Type, c.Status, c.Reason, c.ObservedGeneration, tc.status, tc.reason)
			}
			if c.Message != tc.message {
				t.Errorf("message\n%s\nwant\n%s", c.Message, tc.message)
			}
		})
	}
}

func TestLimitsAppliedNamesAFewHolders(t *testing.T) {
	a := connection.AccountLimits{Own: limits(1000, 1000), InForce: limits(10, 10)}
	for _, ns := range []string{"a", "b", "c", "d", "e"} {
		a.Others = append(a.Others, declared(ns, "p", limits(10, 10)))
	}
	got := limitsApplied(a, 1).Message
	if !strings.Contains(got, "VerificationProvider c/p, which declares 10 requests/s, burst 10, and by 2 more providers; the account") ||
		strings.Contains(got, "d/p") {
		t.Errorf("message names more than three, or not the count of the rest:\n%s", got)
	}
}

func TestTermsNameEveryLimit(t *testing.T) {
	// A field added to budget.Limits must be put in words here too, or a
	// provider differing only in it would be told nothing that differs.
	if n, words := reflect.TypeFor[budget.Limits]().NumField(), len(terms(budget.Limits{})); n != words {
		t.Errorf("budget.Limits has %d fields, terms names %d", n, words)
	}
}

// account is a fake cluster on which providers are reconciled one at a
// time, as the reconcilers would.
type account struct {
	t       *testing.T
	kube    client.Client
	clients *connection.ClientCache
	reports *connection.BudgetReports
	events  *events.FakeRecorder
}

const operatorNamespace = "ops"

func newAccount(t *testing.T) *account {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, v1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	builder := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.VerificationProvider{}, &v1.ClusterVerificationProvider{})
	kinds := []v1.ProviderKind{v1.KindVerificationProvider, v1.KindClusterVerificationProvider}
	if err := index.Setup(t.Context(), fakeIndexer{builder}, kinds, operatorNamespace); err != nil {
		t.Fatal(err)
	}
	clients := &connection.ClientCache{}
	return &account{t: t, kube: builder.Build(), clients: clients, reports: connection.NewBudgetReports(clients, kinds),
		events: events.NewFakeRecorder(100)}
}

type fakeIndexer struct{ *fake.ClientBuilder }

func (f fakeIndexer) IndexField(_ context.Context, obj client.Object, field string, extract client.IndexerFunc) error {
	f.WithIndex(obj, field, extract)
	return nil
}

// create makes p and a Secret for it with the account's Truework key and
// webhookSecret, which names no account.
func (a *account) create(p v1.Provider, webhookSecret string) {
	a.t.Helper()
	key := connection.SecretKey(p, operatorNamespace)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name},
		Data: map[string][]byte{"apiKey": []byte("tw_sk_test_4f1c9a7e2b5d8c0f3a6e9b2d5c8f1a4e"), "webhookSecret": []byte(webhookSecret)}}
	for _, obj := range []client.Object{secret, p} {
		if err := a.kube.Create(a.t.Context(), obj); err != nil {
			a.t.Fatal(err)
		}
	}
}

func spec(rps int32) v1.VerificationProviderSpec {
	s := v1.VerificationProviderSpec{Vendor: v1.VendorTruework, Endpoint: "https://truework.example",
		CredentialsSecretRef: v1.SecretReference{Name: "truework-credentials"}}
	if rps > 0 {
		s.RateLimit = &v1.RateLimit{RequestsPerSecond: rps}
	}
	return s
}

func namespaced(namespace string, rps int32) *v1.VerificationProvider {
	return &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: "truework"}, Spec: spec(rps)}
}

func cluster(name string, rps int32) *v1.ClusterVerificationProvider {
	p := &v1.ClusterVerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1.ClusterVerificationProviderSpec{VerificationProviderSpec: spec(rps), NamespaceSelector: &metav1.LabelSelector{}}}
	p.Spec.CredentialsSecretRef.Name = name + "-credentials"
	return p
}

// reconcile runs p's reconciler once, and returns p's LimitsApplied and
// when it asked to look again.
func (a *account) reconcile(p v1.Provider) (*metav1.Condition, time.Duration) {
	a.t.Helper()
	r := &Reconciler{Client: a.kube, Kind: connection.KindOf(p), OperatorNamespace: operatorNamespace, APIReader: a.kube,
		Registry: registry.Default(), Clients: a.clients, Recorder: a.events, BudgetReports: a.reports}
	res, err := r.Reconcile(a.t.Context(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(p)})
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.kube.Get(a.t.Context(), client.ObjectKeyFromObject(p), p); err != nil {
		return nil, res.RequeueAfter
	}
	return meta.FindStatusCondition(p.ProviderStatus().Conditions, v1.ConditionLimitsApplied), res.RequeueAfter
}

func (a *account) expect(p v1.Provider, status metav1.ConditionStatus, reason v1.Reason, message string) {
	a.t.Helper()
	c, _ := a.reconcile(p)
	if c == nil {
		a.t.Fatalf("%s has no LimitsApplied condition", p.GetName())
	}
	if c.Status != status || c.Reason != string(reason) || !strings.Contains(c.Message, message) {
		a.t.Errorf("%s: LimitsApplied %s %s %q, want %s %s with %q", client.ObjectKeyFromObject(p), c.Status, c.Reason, c.Message, status, reason, message)
	}
}

// warnings are the Warning events recorded since the last call.
func (a *account) warnings() []string {
	var got []string
	for {
		select {
		case e := <-a.events.Events:
			if strings.HasPrefix(e, corev1.EventTypeWarning) {
				got = append(got, e)
			}
		default:
			return got
		}
	}
}

// queued are the providers the reconcilers were asked to look at again.
func (a *account) queued() []string {
	var got []string
	for _, kind := range a.reports.Kinds() {
		for ch := a.reports.Of(kind); len(ch) > 0; {
			e := <-ch
			got = append(got, string(kind)+" "+client.ObjectKeyFromObject(e.Object).String())
		}
	}
	return got
}

func TestProvidersSayWhetherTheirAccountIsHeldToTheirLimits(t *testing.T) {
	a := newAccount(t)
	loose, strict := namespaced("team-a", 1000), namespaced("team-b", 0) // team-b: Truework's published 10/s
	a.create(loose, "whsec-a")
	a.create(strict, "whsec-b") // a copy of the Secret with another webhook secret
	a.expect(loose, metav1.ConditionTrue, v1.ReasonOwnLimits, "1000 requests/s")
	a.queued()
	a.expect(strict, metav1.ConditionTrue, v1.ReasonOwnLimits, "10 requests/s")
	if got := a.queued(); !reflect.DeepEqual(got, []string{"VerificationProvider team-a/truework"}) {
		t.Errorf("the strict one's arrival queued %v, want the loose one", got)
	}
	const held = "This provider declares 1000 requests/s, burst 1000; its vendor account is also reached by VerificationProvider team-b/truework, " +
		"which declares 10 requests/s, burst 10; the account is held to 10 requests/s, burst 10. Set the same limits on every provider of the account."
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, held)
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, held)
	if got := a.warnings(); !reflect.DeepEqual(got, []string{"Warning AccountLimitsDiffer " + held}) {
		t.Errorf("warnings %q, want one AccountLimitsDiffer however many reconciles", got)
	}

	// A cluster provider on the account, stricter still.
	shared := cluster("shared", 5)
	a.create(shared, "whsec-c")
	a.expect(shared, metav1.ConditionTrue, v1.ReasonOwnLimits, "5 requests/s")
	a.expect(strict, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, "also reached by ClusterVerificationProvider shared, which declares 5 requests/s, burst 5;")
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, "the account is held to 5 requests/s, burst 5.")

	// The cluster provider deleted: its limits leave the account.
	if err := a.kube.Delete(t.Context(), shared); err != nil {
		t.Fatal(err)
	}
	a.queued()
	a.reconcile(shared)
	if got := a.queued(); len(got) != 2 {
		t.Errorf("the cluster provider's deletion queued %v, want both others", got)
	}
	a.expect(strict, metav1.ConditionTrue, v1.ReasonOwnLimits, "10 requests/s")
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, held)

	// The strict one's Secret gone: it names no account, and says nothing
	// of its limits.
	if err := a.kube.Delete(t.Context(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-b", Name: "truework-credentials"}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := a.reconcile(strict); c != nil {
		t.Errorf("a provider without its Secret says %+v", c)
	}
	a.expect(loose, metav1.ConditionTrue, v1.ReasonOwnLimits, "1000 requests/s")
	if got := a.warnings(); len(got) != 1 || !strings.Contains(got[0], "ClusterVerificationProvider shared") {
		t.Errorf("warnings %q, want the strict one's only, once it turned False", got)
	}
}

func TestAProviderIsNotSaidToBeHeldToItsOwnLimitsBeforeEveryProviderDeclared(t *testing.T) {
	a := newAccount(t)
	loose, strict := namespaced("team-a", 1000), namespaced("team-b", 0)
	a.create(loose, "whsec-a")
	a.create(strict, "whsec-b")
	a.reconcile(strict)
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, "team-b/truework")
	// A restart: the declarations are lost, and the loose provider is
	// reconciled before the strict one.
	a.clients = &connection.ClientCache{}
	a.reports = connection.NewBudgetReports(a.clients, a.reports.Kinds())
	c, again := a.reconcile(loose)
	if c.Status != metav1.ConditionFalse || again == 0 {
		t.Errorf("before the strict one declared again: %s, looking again in %s; want False kept, and a look again", c.Status, again)
	}
	a.reconcile(strict)
	a.expect(loose, metav1.ConditionFalse, v1.ReasonAccountLimitsDiffer, "team-b/truework")
	if got := a.warnings(); len(got) != 1 {
		t.Errorf("warnings %q, want the first only: the restart did not turn it False again", got)
	}
}
