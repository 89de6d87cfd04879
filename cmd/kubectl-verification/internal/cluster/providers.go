package cluster

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/orderplan"
	"github.com/ordersync/verification-operator/providers"
)

// KindVerificationProvider is the kind of provider an order names when it
// does not say.
const KindVerificationProvider = string(v1.KindVerificationProvider)

// ProviderKey says which provider an order uses.
type ProviderKey struct {
	Kind      string
	Namespace string // empty for a cluster-scoped kind
	Name      string
}

// String names the provider for a person, e.g.
// `VerificationProvider "truework" in namespace "lending"`.
func (k ProviderKey) String() string {
	if k.Namespace == "" {
		return fmt.Sprintf("%s %q", k.Kind, k.Name)
	}
	return fmt.Sprintf("%s %q in namespace %q", k.Kind, k.Name, k.Namespace)
}

// ProviderOf is the one place that reads an order's spec.providerRef: a
// VerificationProvider in the order's namespace, or a cluster-scoped
// ClusterVerificationProvider.
func ProviderOf(o *v1.VerificationOrder) ProviderKey {
	ref := o.Spec.ProviderRef
	if ref.Cluster() {
		return ProviderKey{Kind: string(v1.KindClusterVerificationProvider), Name: ref.Name}
	}
	return ProviderKey{Kind: KindVerificationProvider, Namespace: o.Namespace, Name: ref.Name}
}

// Resolver finds orders' providers, reading each one once.
type Resolver struct {
	c        client.Reader
	registry providers.Registry
	seen     map[ProviderKey]orderplan.Provider
}

// NewResolver reads providers with c and their vendors' rules from registry.
func NewResolver(c client.Reader, registry providers.Registry) *Resolver {
	return &Resolver{c: c, registry: registry, seen: map[ProviderKey]orderplan.Provider{}}
}

// Provider is order o's provider, as the plan needs it. A provider that
// does not exist is described as such; only an API failure is an error.
func (r *Resolver) Provider(ctx context.Context, o *v1.VerificationOrder) (orderplan.Provider, error) {
	key := ProviderOf(o)
	if p, ok := r.seen[key]; ok {
		return p, nil
	}
	p, err := r.lookup(ctx, key)
	if err != nil {
		return orderplan.Provider{}, err
	}
	r.seen[key] = p
	return p, nil
}

func (r *Resolver) lookup(ctx context.Context, key ProviderKey) (orderplan.Provider, error) {
	var p v1.Provider
	switch v1.ProviderKind(key.Kind) {
	case v1.KindVerificationProvider:
		p = &v1.VerificationProvider{}
	case v1.KindClusterVerificationProvider:
		p = &v1.ClusterVerificationProvider{}
	default:
		return orderplan.Provider{Unusable: key.String() + ": this plugin does not know that kind; update it."}, nil
	}
	err := r.c.Get(ctx, types.NamespacedName{Namespace: key.Namespace, Name: key.Name}, p)
	switch {
	case apierrors.IsNotFound(err):
		return orderplan.MissingProvider(key.String()), nil
	case err != nil:
		return orderplan.Provider{}, fmt.Errorf("reading %s: %w", key, err)
	}
	return orderplan.ProviderFrom(p, r.registry), nil
}
