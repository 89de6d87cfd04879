// Package index holds the cache's indexes and the lookups through them:
// the field indexes that map a changed provider or Secret to what uses it,
// and the orders' claims and vendor ids, bucketed on the orders informer
// (buckets.go).
package index

import (
	"context"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
)

const (
	// OrderProvider indexes orders by their provider: ProviderRef(kind, name).
	OrderProvider = ".spec.providerRef"
	// ProviderSecret indexes providers by their Secret's "namespace/name".
	ProviderSecret = ".spec.credentialsSecretRef"
	// OrderClaim indexes orders by the vendor objects they claim: ClaimKeys
	// (SetupClaims).
	OrderClaim = ".claims"
)

// Setup registers the field indexes the reconcilers rely on, for the
// provider kinds served (SetupClaims and SetupVendorIDs index on the
// orders informer itself).
func Setup(ctx context.Context, idx client.FieldIndexer, kinds []v1.ProviderKind, operatorNamespace string) error {
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, OrderProvider, func(obj client.Object) []string {
		ref := obj.(*v1.VerificationOrder).Spec.ProviderRef
		return []string{ProviderRef(ref.Kind, ref.Name)}
	}); err != nil {
		return err
	}
	secretOf := func(obj client.Object) []string {
		return []string{connection.SecretKey(obj.(v1.Provider), operatorNamespace).String()}
	}
	for _, kind := range kinds {
		if err := idx.IndexField(ctx, connection.EmptyProvider(kind), ProviderSecret, secretOf); err != nil {
			return err
		}
	}
	return nil
}

// ProviderRef is the OrderProvider value of orders using the provider of
// kind and name.
func ProviderRef(kind v1.ProviderKind, name string) string {
	if kind == "" {
		kind = v1.KindVerificationProvider
	}
	return string(kind) + "/" + name
}

// OrdersUsing lists the orders in namespace (every namespace if empty)
// that use the provider of kind and name.
func OrdersUsing(ctx context.Context, reader client.Reader, namespace string, kind v1.ProviderKind, name string) ([]v1.VerificationOrder, error) {
	var list v1.VerificationOrderList
	err := reader.List(ctx, &list, client.InNamespace(namespace), client.MatchingFields{OrderProvider: ProviderRef(kind, name)})
	return list.Items, err
}

// ProvidersUsingSecret returns the keys of the providers of kind whose
// credentials are in Secret secret.
func ProvidersUsingSecret(ctx context.Context, reader client.Reader, kind v1.ProviderKind, secret types.NamespacedName) []types.NamespacedName {
	opts := []client.ListOption{client.MatchingFields{ProviderSecret: secret.String()}}
	if kind != v1.KindClusterVerificationProvider {
		opts = append(opts, client.InNamespace(secret.Namespace))
	}
	keys, err := providerKeys(ctx, reader, kind, opts...)
	if err != nil {
		return nil
	}
	return keys
}

// Lister lists the providers of a kind in reader, for the connection
// layer, which cannot import this package.
func Lister(reader client.Reader) connection.ProviderLister {
	return func(ctx context.Context, kind v1.ProviderKind) ([]types.NamespacedName, error) {
		return Providers(ctx, reader, kind)
	}
}

// Providers returns the keys of every provider of kind.
func Providers(ctx context.Context, reader client.Reader, kind v1.ProviderKind) ([]types.NamespacedName, error) {
	// Only keys are kept: the cache's objects need not be copied.
	return providerKeys(ctx, reader, kind, client.UnsafeDisableDeepCopy)
}

func providerKeys(ctx context.Context, reader client.Reader, kind v1.ProviderKind, opts ...client.ListOption) ([]types.NamespacedName, error) {
	var list client.ObjectList = &v1.VerificationProviderList{}
	if kind == v1.KindClusterVerificationProvider {
		list = &v1.ClusterVerificationProviderList{}
	}
	if err := reader.List(ctx, list, opts...); err != nil {
		return nil, err
	}
	var keys []types.NamespacedName
	err := meta.EachListItem(list, func(obj runtime.Object) error {
		keys = append(keys, client.ObjectKeyFromObject(obj.(client.Object)))
		return nil
	})
	return keys, err
}
