package shard

import (
	"context"
	"errors"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crfake "sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct{ expr, name string }{
		{"", DefaultName},
		{"!" + Label, DefaultName},
		{Label + "=a", "a"},
		{Label + "==a", "a"},
		{Label + " in (a)", "a"},
		{Label + " in (a,b)", Label + " in (a,b)"},
	} {
		s, err := Parse(tc.expr)
		if err != nil || s.Name != tc.name {
			t.Errorf("%q: %q, %v; want %q", tc.expr, s.Name, err, tc.name)
		}
	}
	for _, bad := range []string{"team=a", "!" + Label + ",team", "=="} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q must be refused", bad)
		}
	}
}

func provider(name string, labels map[string]string) *v1.VerificationProvider {
	return &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name, Labels: labels},
		Spec: v1.VerificationProviderSpec{Vendor: "truework"}}
}

func TestServes(t *testing.T) {
	def, _ := Parse("!" + Label)
	a, _ := Parse(Label + "=a")
	all := Unsharded()
	unlabeled, inA, inB := provider("p", nil), provider("p", map[string]string{Label: "a"}), provider("p", map[string]string{Label: "b"})
	for _, tc := range []struct {
		s    Shard
		p    *v1.VerificationProvider
		want bool
	}{
		{def, unlabeled, true}, {def, inA, false}, {def, inB, false},
		{a, unlabeled, false}, {a, inA, true}, {a, inB, false},
		{all, unlabeled, true}, {all, inA, true},
	} {
		if got := tc.s.Serves(tc.p); got != tc.want {
			t.Errorf("%s serves %v: %v, want %v", tc.s.Name, tc.p.Labels, got, tc.want)
		}
	}
	if def.LeaderElectionID("x") != "x" || all.LeaderElectionID("x") != "x" || a.LeaderElectionID("x") == "x" {
		t.Error("the default instance keeps the base Lease; a shard has one of its own")
	}
}

func scheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRoute(t *testing.T) {
	ctx := context.Background()
	def, _ := Parse("!" + Label)
	p := provider("truework", map[string]string{Label: "a"})
	o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o"},
		Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "truework"}}}
	c := crfake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(p, o).Build()
	r := &Router{Client: c, Shard: def}
	moved, err := r.Route(ctx, o)
	if err != nil || !moved {
		t.Fatalf("an order of shard a's provider at the default instance: moved %v, %v", moved, err)
	}
	got := &v1.VerificationOrder{}
	_ = c.Get(ctx, client.ObjectKeyFromObject(o), got)
	if got.Labels[Label] != "a" {
		t.Fatalf("the order carries %v, want its provider's shard a", got.Labels)
	}
	// The provider moves back to the default instance: shard a routes its
	// order there, removing the label.
	a, _ := Parse(Label + "=a")
	p.Labels = nil
	if err := c.Update(ctx, p); err != nil {
		t.Fatal(err)
	}
	moved, err = (&Router{Client: c, Shard: a}).Route(ctx, got)
	if err != nil || !moved {
		t.Fatalf("shard a after the provider left it: moved %v, %v", moved, err)
	}
	_ = c.Get(ctx, client.ObjectKeyFromObject(o), got)
	if _, ok := got.Labels[Label]; ok {
		t.Fatalf("the order still carries %v", got.Labels)
	}
	if moved, err := r.Route(ctx, got); err != nil || moved {
		t.Fatalf("the default instance serves it again: moved %v, %v", moved, err)
	}
	// A missing provider routes nothing.
	orphan := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "orphan"},
		Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "missing"}}}
	if moved, err := r.Route(ctx, orphan); err != nil || moved {
		t.Fatalf("an order of a missing provider: moved %v, %v", moved, err)
	}
}

const account = "truework|https://api.truework.com|0123456789abcdef"

func accounts(t *testing.T, leases *fake.Clientset, clk *clocktesting.FakeClock, name string) *Accounts {
	s, err := Parse(Label + "=" + name)
	if name == DefaultName {
		s, err = Parse("!" + Label)
	}
	if err != nil {
		t.Fatal(err)
	}
	c := crfake.NewClientBuilder().WithScheme(scheme(t)).Build()
	return &Accounts{Leases: leases.CoordinationV1(), Namespace: "ops", Shard: s, Identity: name + "-pod",
		Providers: c, Clients: &connection.ClientCache{Budgets: budget.Registry{Clock: clk}}, Clock: clk}
}

func TestAccountsOneShardAtATime(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	leases := fake.NewClientset()
	limits := budget.Limits{RequestsPerSecond: 10, Burst: 10}
	inA := provider("p", map[string]string{Label: "a"})
	inB := provider("p", map[string]string{Label: "b"})
	a := accounts(t, leases, clk, "a")
	b := accounts(t, leases, clk, "b")

	if err := a.Claim(ctx, account, inA, limits); err != nil {
		t.Fatalf("the first shard to claim a free account holds it: %v", err)
	}
	var held *connection.AccountHeld
	if err := b.Claim(ctx, account, inB, limits); !errors.As(err, &held) || held.Shard != "a" {
		t.Fatalf("another shard must be refused while a holds it: %v", err)
	}
	if err := a.Claim(ctx, account, inB, limits); !errors.As(err, &held) || held.Shard != "b" {
		t.Fatalf("a shard makes no call for a provider it does not serve: %v", err)
	}
	lease, err := leases.CoordinationV1().Leases("ops").Get(ctx, LeaseName(account), metav1.GetOptions{})
	if err != nil || ptr.Deref(lease.Spec.HolderIdentity, "") != "a/a-pod" {
		t.Fatalf("the Lease: %v, %v", lease, err)
	}
	// Renewed while a serves no provider on it (it never declared one) and
	// has no call in flight: released.
	a.Renew(ctx)
	if len(a.Held()) != 0 {
		t.Fatal("a shard that serves no provider on the account must release it")
	}
	// b takes it, and settles first: the vendor's bucket refills from a's
	// burst (5 calls at 9.7/s) before b's first call.
	clk.Step(2 * time.Second) // b's earlier look is stale
	err = b.Claim(ctx, account, inB, limits)
	if !errors.As(err, &held) || held.Shard != "" || held.RetryAfter <= 0 || held.RetryAfter > settle(limits) {
		t.Fatalf("the new holder must settle first: %v", err)
	}
	clk.Step(settle(limits))
	if err := b.Claim(ctx, account, inB, limits); err != nil {
		t.Fatalf("after settling, b spends it: %v", err)
	}
	if err := a.Claim(ctx, account, inA, limits); !errors.As(err, &held) || held.Shard != "b" {
		t.Fatalf("a must now be refused: %v", err)
	}
}

func TestAccountsExpiry(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	leases := fake.NewClientset()
	limits := budget.Limits{RequestsPerSecond: 10, Burst: 10}
	inA := provider("p", map[string]string{Label: "a"})
	dead := accounts(t, leases, clk, "a")
	if err := dead.Claim(ctx, account, inA, limits); err != nil {
		t.Fatal(err)
	}
	standby := accounts(t, leases, clk, "a")
	standby.Identity = "a-pod-2"
	var held *connection.AccountHeld
	if err := standby.Claim(ctx, account, inA, limits); !errors.As(err, &held) {
		t.Fatalf("the shard's next leader waits for the dead one's Lease: %v", err)
	}
	clk.Step(dead.validity())
	if err := dead.Claim(ctx, account, inA, limits); err != nil {
		t.Fatalf("a holder that did not renew in time reads its Lease, still its own, and goes on: %v", err)
	}
	clk.Step(DefaultLeaseDuration + time.Second)
	if err := standby.Claim(ctx, account, inA, limits); !errors.As(err, &held) && err != nil {
		t.Fatalf("unexpected: %v", err)
	}
	// A whole LeaseDuration after it last changed, the Lease is taken over.
	clk.Step(DefaultLeaseDuration)
	err := standby.Claim(ctx, account, inA, limits)
	if !errors.As(err, &held) || held.RetryAfter != settle(limits) {
		t.Fatalf("taken over, with a settle: %v", err)
	}
	clk.Step(settle(limits))
	if err := standby.Claim(ctx, account, inA, limits); err != nil {
		t.Fatal(err)
	}
	if err := dead.Claim(ctx, account, inA, limits); !errors.As(err, &held) {
		t.Fatalf("the old holder, back, must be refused: %v", err)
	}
}

func TestAccountsManyOrdersAtOnce(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	leases := fake.NewClientset()
	inA := provider("p", map[string]string{Label: "a"})
	a := accounts(t, leases, clk, "a")
	errs := make(chan error, 20)
	for range 20 {
		go func() { errs <- a.Claim(ctx, account, inA, budget.Limits{RequestsPerSecond: 10, Burst: 10}) }()
	}
	for range 20 {
		if err := <-errs; err != nil {
			t.Errorf("orders of one account claiming it at once: %v", err)
		}
	}
	if n := len(leases.Actions()); n != 2 { // one get, one create
		t.Errorf("%d Lease requests for 20 claims, want 2 (a get and a create)", n)
	}
}

func TestAccountsSendOnlyWhileHeld(t *testing.T) {
	ctx := context.Background()
	clk := clocktesting.NewFakeClock(time.Now())
	a := accounts(t, fake.NewClientset(), clk, "a")
	if err := a.Sending(account); err == nil {
		t.Fatal("a request for an account never claimed must not leave")
	}
	if err := a.Claim(ctx, account, provider("p", map[string]string{Label: "a"}), budget.Limits{RequestsPerSecond: 10, Burst: 10}); err != nil {
		t.Fatal(err)
	}
	if err := a.Sending(account); err != nil {
		t.Fatalf("held: %v", err)
	}
	// Released (its provider moved, no call in flight): a reconcile that
	// claimed it before may not call it now.
	a.Renew(ctx)
	if err := a.Sending(account); err == nil {
		t.Fatal("a request for a released account must not leave")
	}
	// Held but not renewed within Validity (cut off from the API server).
	if err := a.Claim(ctx, account, provider("p", map[string]string{Label: "a"}), budget.Limits{RequestsPerSecond: 10, Burst: 10}); err != nil {
		t.Fatal(err)
	}
	clk.Step(a.validity())
	if err := a.Sending(account); err == nil {
		t.Fatal("a holder that could not renew must stop sending")
	}
}

func TestServedOnly(t *testing.T) {
	ctx := context.Background()
	a, _ := Parse(Label + "=a")
	mine, theirs := provider("mine", map[string]string{Label: "a"}), provider("theirs", nil)
	c := crfake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(mine, theirs).Build()
	served := ServedOnly(c, a)
	if err := served.Get(ctx, client.ObjectKeyFromObject(mine), &v1.VerificationProvider{}); err != nil {
		t.Errorf("its own provider: %v", err)
	}
	if err := served.Get(ctx, client.ObjectKeyFromObject(theirs), &v1.VerificationProvider{}); !apierrors.IsNotFound(err) {
		t.Errorf("another shard's provider must read as not found: %v", err)
	}
	var list v1.VerificationProviderList
	if err := served.List(ctx, &list); err != nil || len(list.Items) != 1 || list.Items[0].Name != "mine" {
		t.Errorf("a list holds this shard's providers only: %v, %v", list.Items, err)
	}
	if ServedOnly(c, Unsharded()) != c {
		t.Error("an unsharded instance reads every provider")
	}
}
