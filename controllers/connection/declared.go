package connection

import (
	"context"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// DeclaredSinceStart says every provider of kinds in the cache has been
// looked at by the provider reconciler since the start (Declared): until
// then an account may be reached by a provider whose stricter limits its
// budget does not know yet, as at a restart.
func (c *ClientCache) DeclaredSinceStart(ctx context.Context, providers ProviderLister, kinds []v1.ProviderKind) (bool, error) {
	for _, kind := range kinds {
		keys, err := providers(ctx, kind)
		if err != nil || !c.Declared(keys) {
			return false, err
		}
	}
	return true, nil
}

// ProviderLister lists the keys of every provider of a kind in the cache
// (index.Providers, which this package cannot import).
type ProviderLister func(context.Context, v1.ProviderKind) ([]types.NamespacedName, error)

// Settled latches DeclaredSinceStart: once every provider has declared its
// limits, a provider created later connects with its own limits, which
// can only tighten its account's budget (Budget), so nothing is left to
// wait for.
type Settled struct{ done atomic.Bool }

// Now says whether every provider has declared its limits since the start.
func (s *Settled) Now(ctx context.Context, c *ClientCache, providers ProviderLister, kinds []v1.ProviderKind) bool {
	if s.done.Load() {
		return true
	}
	ok, err := c.DeclaredSinceStart(ctx, providers, kinds)
	if ok && err == nil {
		s.done.Store(true)
	}
	return ok && err == nil
}
