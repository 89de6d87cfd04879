package connection

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// BudgetReports tells the provider reconcilers which providers should
// refresh the budget figures in their status (status.orders,
// effectivePollInterval). An account may be named by several providers, of
// either kind, in several namespaces: each shows the account's figures.
type BudgetReports struct {
	clients *ClientCache
	// One channel per provider kind: each kind has its own reconciler.
	kinds map[v1.ProviderKind]chan event.GenericEvent
}

// NewBudgetReports tells the reconcilers of kinds about clients' accounts:
// their budget figures, and the limits their providers declare (so that
// each provider says whether its account is held to its own).
func NewBudgetReports(clients *ClientCache, kinds []v1.ProviderKind) *BudgetReports {
	r := &BudgetReports{clients: clients, kinds: map[v1.ProviderKind]chan event.GenericEvent{}}
	for _, k := range kinds {
		r.kinds[k] = make(chan event.GenericEvent, 64)
	}
	clients.declared.mu.Lock()
	clients.declared.changed = r.Changed
	clients.declared.mu.Unlock()
	return r
}

// Changed asks for a refresh of every provider on account but except. It
// never blocks: a provider's periodic refresh catches up on a dropped one.
// A nil BudgetReports (a reconciler built without providers) tells no one.
func (r *BudgetReports) Changed(account string, except types.NamespacedName) {
	if r == nil {
		return
	}
	for _, key := range r.clients.Sharing(account) {
		if key == except {
			continue
		}
		kind := KeyKind(key)
		p := EmptyProvider(kind)
		p.SetNamespace(key.Namespace)
		p.SetName(key.Name)
		select {
		case r.kinds[kind] <- event.GenericEvent{Object: p}:
		default:
		}
	}
}

// Kinds are the provider kinds served. A nil BudgetReports serves none.
func (r *BudgetReports) Kinds() []v1.ProviderKind {
	if r == nil {
		return nil
	}
	return slices.Sorted(maps.Keys(r.kinds))
}

// Of is the channel the reconciler of kind reads.
func (r *BudgetReports) Of(kind v1.ProviderKind) <-chan event.GenericEvent { return r.kinds[kind] }
