package connection

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers/registry"
)

func TestAccountOfNamesTheAccountByItsIdentityKeys(t *testing.T) {
	for _, vendor := range registry.Default() {
		t.Run(vendor.Name, func(t *testing.T) {
			p := &v1.VerificationProvider{Spec: v1.VerificationProviderSpec{Vendor: v1.Vendor(vendor.Name)}}
			secret := map[string][]byte{"webhookSecret": []byte("whsec-a"), "unrelated": []byte("unrelated-value")}
			for _, k := range vendor.CredentialKeys {
				secret[k] = []byte("secret-" + k)
			}
			account := AccountOf(p, vendor, secret)
			for k, v := range secret {
				if strings.Contains(account, string(v)) {
					t.Errorf("account %q holds key %s's value", account, k)
				}
			}
			copied := clone(secret, "webhookSecret", "whsec-b")
			delete(copied, "unrelated")
			if got := AccountOf(p, vendor, copied); got != account {
				t.Errorf("a copy that differs only by webhookSecret and an unrelated key is account %q, want %q", got, account)
			}
			for _, k := range vendor.IdentityKeys {
				if got := AccountOf(p, vendor, clone(secret, k, "another")); got == account {
					t.Errorf("another %s names the same account %q", k, got)
				}
			}
			production := p.DeepCopy()
			production.Spec.Environment = v1.EnvironmentProduction
			if got := AccountOf(production, vendor, secret); got == account {
				t.Errorf("production names the same account as sandbox: %q", got)
			}
			proxied := p.DeepCopy()
			proxied.Spec.Endpoint = "https://proxy.example"
			if got := AccountOf(proxied, vendor, secret); got == account {
				t.Errorf("another endpoint names the same account: %q", got)
			}
		})
	}
}

func clone(m map[string][]byte, key, value string) map[string][]byte {
	out := map[string][]byte{key: []byte(value)}
	for k, v := range m {
		if k != key {
			out[k] = v
		}
	}
	return out
}

func TestStrictest(t *testing.T) {
	l := func(rps float64, burst, perDay, inFlight int, share float64) budget.Limits {
		return budget.Limits{RequestsPerSecond: rps, Burst: burst, RequestsPerDay: perDay, MaxInFlight: inFlight, PollShare: share}
	}
	for _, tc := range []struct {
		name       string
		a, b, want budget.Limits
	}{
		{"the same", l(10, 10, 0, 10, 0.5), l(10, 10, 0, 10, 0.5), l(10, 10, 0, 10, 0.5)},
		{"the lower rate and burst", l(1000, 1000, 0, 10, 0.5), l(10, 20, 0, 10, 0.5), l(10, 20, 0, 10, 0.5)},
		{"field by field, from either", l(1, 50, 0, 10, 0.5), l(10, 5, 0, 10, 0.5), l(1, 5, 0, 10, 0.5)},
		{"a daily quota where only one has it", l(1, 5, 0, 10, 0.5), l(1, 5, 1000, 10, 0.5), l(1, 5, 1000, 10, 0.5)},
		{"the lower daily quota", l(1, 5, 10000, 10, 0.5), l(1, 5, 1000, 10, 0.5), l(1, 5, 1000, 10, 0.5)},
		{"the fewer calls in flight", l(1, 5, 0, 3, 0.5), l(1, 5, 0, 10, 0.5), l(1, 5, 0, 3, 0.5)},
		{"the smaller poll share: the larger reserve for cancels", l(1, 5, 0, 10, 1), l(1, 5, 0, 10, 0.2), l(1, 5, 0, 10, 0.2)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, got := range []budget.Limits{Strictest(tc.a, tc.b), Strictest(tc.b, tc.a)} {
				if got != tc.want {
					t.Errorf("%+v, want %+v", got, tc.want)
				}
			}
		})
	}
	// A field added to budget.Limits must be decided on here: how the
	// strictest of two is taken, and whether an unset one has a default
	// (normalized). Strictest builds its result field by field, so a field
	// it does not name would be zero.
	if n := reflect.TypeFor[budget.Limits]().NumField(); n != 5 {
		t.Errorf("budget.Limits has %d fields; Strictest and normalized know 5", n)
	}
}

func provider(namespace, name string, generation int64) *v1.VerificationProvider {
	return &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name,
		UID: types.UID(namespace + "/" + name), Generation: generation}}
}

func rate(rps float64) budget.Limits {
	return budget.Limits{RequestsPerSecond: rps, Burst: int(rps)}
}

func TestProvidersOnOneAccountAreHeldToTheStrictest(t *testing.T) {
	c := &ClientCache{}
	var told []string
	c.declared.changed = func(account string, except types.NamespacedName) {
		told = append(told, account+" but "+except.String())
	}
	a, b := provider("team-a", "truework", 1), provider("team-b", "truework", 1)
	cluster := provider("", "shared", 1)

	got := c.Declare(a, "acct", rate(1000))
	if got.Differ() || got.InForce != rate(1000).Normalized() || len(got.Others) != 0 {
		t.Errorf("alone: %+v, want its own limits", got)
	}
	c.Declare(b, "acct", rate(10))
	c.Declare(cluster, "acct", rate(1000))
	got = c.Declare(a, "acct", rate(1000))
	want := AccountLimits{Own: rate(1000).Normalized(), InForce: rate(10).Normalized(), Others: []Declared{
		{Provider: types.NamespacedName{Name: "shared"}, Limits: rate(1000).Normalized()},
		{Provider: types.NamespacedName{Namespace: "team-b", Name: "truework"}, Limits: rate(10).Normalized()},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("three on one account (-want +got):\n%s", diff)
	}
	if !got.Differ() {
		t.Error("a provider declaring 1000 on an account held to 10 does not differ")
	}
	if diff := cmp.Diff([]string{"acct but team-a/truework", "acct but team-b/truework", "acct but /shared"}, told); diff != "" {
		t.Errorf("told (-want +got); a declaration that changes nothing tells no one:\n%s", diff)
	}

	told = nil
	c.Declare(b, "other", rate(10)) // b's Secret now names another account
	if got := c.Declare(a, "acct", rate(1000)); got.InForce != rate(1000).Normalized() || len(got.Others) != 1 {
		t.Errorf("once b left the account: %+v, want 1000/s with the cluster provider alone beside", got)
	}
	if diff := cmp.Diff([]string{"acct but team-b/truework", "other but team-b/truework"}, told); diff != "" {
		t.Errorf("told of the account b left and the one it joined (-want +got):\n%s", diff)
	}

	c.Declare(cluster, "acct", rate(5))
	c.Declare(cluster, "", budget.Limits{}) // its Secret is gone: it names no account
	if got := c.Declare(a, "acct", rate(1000)); got.Differ() || len(got.Others) != 0 {
		t.Errorf("once the cluster provider named none: %+v, want a's own limits", got)
	}
	if !c.Declared([]types.NamespacedName{{Namespace: "team-a", Name: "truework"}, {Name: "shared"}}) {
		t.Error("a provider that names no account has been looked at all the same")
	}

	c.Declare(b, "acct", rate(10))
	c.Forget(types.NamespacedName{Namespace: "team-b", Name: "truework"}) // deleted
	if got := c.Declare(a, "acct", rate(1000)); got.Differ() {
		t.Errorf("once b was deleted: %+v, want a's own limits", got)
	}
	if c.Declared([]types.NamespacedName{{Namespace: "team-b", Name: "truework"}}) {
		t.Error("a deleted provider is still declared")
	}
}

func TestAStaleReadOfAProviderDoesNotUndoItsLimits(t *testing.T) {
	c := &ClientCache{}
	c.Declare(provider("ns", "p", 2), "acct", rate(10))
	got := c.Declare(provider("ns", "p", 1), "acct", rate(1000))
	if got.Own != rate(10).Normalized() {
		t.Errorf("generation 1 after generation 2: %+v, want generation 2's limits", got.Own)
	}
}

func TestUnsetFieldsDeclareTheirDefaults(t *testing.T) {
	c := &ClientCache{}
	c.Declare(provider("a", "p", 1), "acct", budget.Limits{RequestsPerSecond: 10, Burst: 10})
	got := c.Declare(provider("b", "p", 1), "acct", budget.Limits{RequestsPerSecond: 10, Burst: 10, PollShare: budget.DefaultPollShare, MaxInFlight: 10})
	if got.Differ() {
		t.Errorf("a spec that sets the defaults differs from one that leaves them unset: %+v", got)
	}
}

func TestTheBudgetFollowsTheStrictestDeclared(t *testing.T) {
	c := &ClientCache{}
	// A connecting provider not yet declared (at start) holds the account
	// to its own limits too.
	b := c.Budget("acct", rate(100))
	polled(b, 100)
	assertRate(t, b, rate(100), "an order's provider alone")

	c.Declare(provider("a", "p", 1), "acct", rate(1000))
	c.Declare(provider("b", "p", 1), "acct", rate(10))
	assertRate(t, b, rate(10), "once two providers declared")
	c.Forget(types.NamespacedName{Namespace: "b", Name: "p"})
	assertRate(t, b, rate(1000), "once the strict one was deleted")
	if c.Budget("acct", rate(1000)) != b {
		t.Error("the account has another budget")
	}
	c.Declare(provider("c", "p", 1), "unused", rate(1))
	if _, ok := c.Budgets.Get("unused"); ok {
		t.Error("a declaration made a budget for an account no order calls")
	}
}

func TestDeclarationsAreSafeForConcurrentUse(t *testing.T) {
	c := &ClientCache{}
	b := c.Budget("acct", rate(1000))
	polled(b, 100)
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			p := provider("ns", fmt.Sprintf("p%d", i), 1)
			for round := range 50 {
				c.Declare(p, "acct", rate(float64(1000-i-round)))
				c.Budget("acct", rate(1000))
				c.Sharing("acct")
			}
		})
	}
	wg.Wait()
	// The last declarations are 1000-i-49; the strictest is i=19's.
	assertRate(t, b, rate(1000-19-49), "after concurrent declarations")
}

// polled has n orders polled on b, so that its poll interval shows its rate.
func polled(b *budget.Budget, n int) {
	for i := range n {
		b.Polled(types.NamespacedName{Name: fmt.Sprint(i)}, true)
	}
}

// assertRate checks that b, with 100 polled orders, stretches polls as a
// budget at want does: budgets do not show their limits otherwise.
func assertRate(t *testing.T, b *budget.Budget, want budget.Limits, when string) {
	t.Helper()
	reference := (&budget.Registry{}).For("reference", want)
	polled(reference, 100)
	if got, wantInterval := b.PollInterval(time.Nanosecond), reference.PollInterval(time.Nanosecond); got != wantInterval {
		t.Errorf("%s: 100 orders polled every %s, want every %s, as at %v requests/s", when, got, wantInterval, want.RequestsPerSecond)
	}
}
