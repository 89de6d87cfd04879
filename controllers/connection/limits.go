package connection

import (
	"cmp"
	"maps"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
)

// An account owns its budget. Providers that reach one vendor account (one
// Secret in several namespaces, or copies of it) share one budget, and the
// vendor holds the account, not a provider, to its limit: so the budget is
// held to the strictest limits any of them declares, field by field, and
// not to whichever provider was reconciled last. Each provider's declared
// limits are kept here, by the provider reconciler, which reads its Secret
// and so knows its account; when a provider goes, or comes to name
// another account, its limits leave the account and the others' apply.

// AccountLimits is what a provider's account is held to, and why.
type AccountLimits struct {
	// Own is what the provider declares (budget.LimitsOf its spec);
	// InForce the strictest that any provider on the account declares.
	Own, InForce budget.Limits
	// Others are the other providers that declare limits on the account,
	// sorted by key (a cluster provider's namespace is empty).
	Others []Declared
}

// Declared is one provider's limits on an account.
type Declared struct {
	Provider types.NamespacedName
	Limits   budget.Limits
}

// Differ says the account is held to other limits than the provider's own.
func (a AccountLimits) Differ() bool { return a.Own != a.InForce }

// Strictest is, field by field, the stricter of two normalized limits: the
// lower rate, burst, poll share and calls in flight, and the lower daily
// quota where either has one. The poll share too: it keeps the rest of the
// rate for cancels, and the largest reserve any team asks for is kept.
func Strictest(a, b budget.Limits) budget.Limits {
	return budget.Limits{
		RequestsPerSecond: min(a.RequestsPerSecond, b.RequestsPerSecond),
		Burst:             min(a.Burst, b.Burst),
		PollShare:         min(a.PollShare, b.PollShare),
		RequestsPerDay:    lowerQuota(a.RequestsPerDay, b.RequestsPerDay),
		MaxInFlight:       min(a.MaxInFlight, b.MaxInFlight),
	}
}

// lowerQuota is the lower of two daily quotas, zero meaning none.
func lowerQuota(a, b int) int {
	if a == 0 || b == 0 {
		return max(a, b)
	}
	return min(a, b)
}

// declarations are the providers' declared limits. They have a lock of
// their own: budgets are brought up to date under it, so that two
// declarations cannot leave a budget at the older one's limits.
type declarations struct {
	mu sync.Mutex
	// of holds every provider the provider reconciler has looked at since
	// the start; one that names no account has an empty account.
	of        map[types.NamespacedName]declaration
	byAccount map[string]map[types.NamespacedName]budget.Limits
	// changed is told of each account whose declarations changed, but for
	// the provider that changed them (BudgetReports.Changed).
	changed func(account string, except types.NamespacedName)
}

// declaration is one provider's: the account it names and its limits, as
// of the provider's uid and generation.
type declaration struct {
	account    string
	limits     budget.Limits
	uid        types.UID
	generation int64
}

// Declare records the limits p declares on account, brings the account's
// budget to the strictest limits its providers declare, and tells the
// other providers on the accounts this changes. An empty account withdraws
// p's limits: p's Secret is missing or unusable, so it names none.
func (c *ClientCache) Declare(p v1.Provider, account string, limits budget.Limits) AccountLimits {
	d := &c.declared
	key := providerKey(p)
	d.mu.Lock()
	changed := d.set(key, declaration{account: account, limits: limits.Normalized(), uid: p.GetUID(), generation: p.GetGeneration()})
	for _, a := range changed {
		c.update(a)
	}
	view := d.view(key)
	tell := d.changed
	d.mu.Unlock()
	notify(tell, changed, key)
	return view
}

// Budget returns the account's budget, held to the strictest limits its
// providers declare and own: the connecting provider's, which its own
// reconcile may not have declared yet (at start), and which hold the
// calls of an order canceling with the last credentials of a provider
// whose Secret is gone.
func (c *ClientCache) Budget(account string, own budget.Limits) *budget.Budget {
	d := &c.declared
	d.mu.Lock()
	defer d.mu.Unlock()
	return c.Budgets.For(account, d.strictest(account, own.Normalized()))
}

// Declared says each of keys has been looked at by the provider
// reconciler since the start: until then an account may be reached by a
// provider whose limits it does not know yet.
func (c *ClientCache) Declared(keys []types.NamespacedName) bool {
	d := &c.declared
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, k := range keys {
		if _, ok := d.of[k]; !ok {
			return false
		}
	}
	return true
}

// forgetDeclaration drops a deleted provider's limits.
func (c *ClientCache) forgetDeclaration(key types.NamespacedName) {
	d := &c.declared
	d.mu.Lock()
	changed := d.set(key, declaration{})
	for _, a := range changed {
		c.update(a)
	}
	delete(d.of, key)
	tell := d.changed
	d.mu.Unlock()
	notify(tell, changed, key)
}

// update brings the account's budget, if it has one, to its providers'
// strictest limits; with no provider left it keeps the last ones.
func (c *ClientCache) update(account string) {
	if _, ok := c.Budgets.Get(account); ok && len(c.declared.byAccount[account]) > 0 {
		c.Budgets.For(account, c.declared.strictest(account))
	}
}

func notify(tell func(string, types.NamespacedName), accounts []string, except types.NamespacedName) {
	if tell == nil {
		return
	}
	for _, a := range accounts {
		tell(a, except)
	}
}

// set makes next key's declaration and returns the accounts it changes.
// A declaration older than the one kept (a stale read of the provider)
// changes nothing.
func (d *declarations) set(key types.NamespacedName, next declaration) []string {
	prev, had := d.of[key]
	if had && (prev == next || prev.uid == next.uid && prev.generation > next.generation) {
		return nil
	}
	if d.of == nil {
		d.of, d.byAccount = map[types.NamespacedName]declaration{}, map[string]map[types.NamespacedName]budget.Limits{}
	}
	d.of[key] = next
	var changed []string
	if prev.account != "" {
		delete(d.byAccount[prev.account], key)
		if len(d.byAccount[prev.account]) == 0 {
			delete(d.byAccount, prev.account)
		}
		changed = append(changed, prev.account)
	}
	if next.account != "" {
		if d.byAccount[next.account] == nil {
			d.byAccount[next.account] = map[types.NamespacedName]budget.Limits{}
		}
		d.byAccount[next.account][key] = next.limits
		if next.account != prev.account {
			changed = append(changed, next.account)
		}
	}
	return changed
}

// strictest is the strictest of the limits declared on account and more.
func (d *declarations) strictest(account string, more ...budget.Limits) budget.Limits {
	all := slices.AppendSeq(more, maps.Values(d.byAccount[account]))
	s := all[0]
	for _, l := range all[1:] {
		s = Strictest(s, l)
	}
	return s
}

// view is what key's account is held to, and by whom.
func (d *declarations) view(key types.NamespacedName) AccountLimits {
	own := d.of[key]
	if own.account == "" {
		return AccountLimits{}
	}
	v := AccountLimits{Own: own.limits, InForce: d.strictest(own.account)}
	for other, l := range d.byAccount[own.account] {
		if other != key {
			v.Others = append(v.Others, Declared{Provider: other, Limits: l})
		}
	}
	slices.SortFunc(v.Others, func(a, b Declared) int {
		return cmp.Or(cmp.Compare(a.Provider.Namespace, b.Provider.Namespace), cmp.Compare(a.Provider.Name, b.Provider.Name))
	})
	return v
}

// on lists the providers that declare limits on account.
func (d *declarations) on(account string) []types.NamespacedName {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Collect(maps.Keys(d.byAccount[account]))
}
