// Package index holds the field indexes that map a changed provider or
// Secret to what uses it, and the lookups through them.
package index

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/internal/webhook"
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

// ClaimKeys are the vendor objects o claims to manage: the vendor order of
// spec.orderID and status.orderID (a reverification's new request), and
// the request a spec.reverification is to reverify, which two orders must
// not both buy a reverification of. Ids are the vendor's, so the account
// (compared by the order reconciler) tells two vendors' orders apart.
func ClaimKeys(o *v1.VerificationOrder) []string {
	var keys []string
	for _, id := range []string{o.Spec.OrderID, o.Status.OrderID} {
		if id != "" && !slices.Contains(keys, "order/"+id) {
			keys = append(keys, "order/"+id)
		}
	}
	if r := o.Spec.Reverification; r != nil && r.VerificationRequestID != "" {
		keys = append(keys, "reverify/"+r.VerificationRequestID)
	}
	return keys
}

// Claims lists the orders, in every namespace, that claim key.
type Claims func(ctx context.Context, key string) ([]v1.VerificationOrder, error)

// ListClaims answers through reader's OrderClaim field index, as a fake
// client registers it (client.WithIndex).
func ListClaims(reader client.Reader) Claims {
	return func(ctx context.Context, key string) ([]v1.VerificationOrder, error) {
		var list v1.VerificationOrderList
		err := reader.List(ctx, &list, client.MatchingFields{OrderClaim: key})
		return list.Items, err
	}
}

// SetupClaims indexes the orders in informers by ClaimKeys, and answers
// from that index. It is the informer's own index, not a field index: a
// field index keeps each value twice (per namespace, and cluster-wide),
// and every order's claims are values of its own, so that was two sets
// and two keys per order held, about 600 bytes (the memory bench's heap
// profile). Claims are only ever looked up cluster-wide.
func SetupClaims(ctx context.Context, informers cache.Informers) (Claims, error) {
	inf, err := informers.GetInformer(ctx, &v1.VerificationOrder{})
	if err != nil {
		return nil, err
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	if !ok {
		return nil, fmt.Errorf("the cache's informer of orders is a %T, not a client-go SharedIndexInformer", inf)
	}
	if err := inf.AddIndexers(toolscache.Indexers{OrderClaim: claimKeysOf}); err != nil {
		return nil, err
	}
	indexer := shared.GetIndexer()
	return func(_ context.Context, key string) ([]v1.VerificationOrder, error) {
		held, err := indexer.ByIndex(OrderClaim, key)
		if err != nil {
			return nil, err
		}
		orders := make([]v1.VerificationOrder, 0, len(held))
		for _, obj := range held {
			if o, ok := obj.(*v1.VerificationOrder); ok {
				orders = append(orders, *o.DeepCopy()) // the cache's own: never handed out
			}
		}
		return orders, nil
	}, nil
}

func claimKeysOf(obj any) ([]string, error) {
	if o, ok := obj.(*v1.VerificationOrder); ok {
		return ClaimKeys(o), nil
	}
	return nil, nil
}

// Setup registers the indexes the reconcilers and the webhook receiver
// rely on, for the provider kinds served.
func Setup(ctx context.Context, idx client.FieldIndexer, kinds []v1.ProviderKind, operatorNamespace string) error {
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, OrderProvider, func(obj client.Object) []string {
		ref := obj.(*v1.VerificationOrder).Spec.ProviderRef
		return []string{ProviderRef(ref.Kind, ref.Name)}
	}); err != nil {
		return err
	}
	if err := idx.IndexField(ctx, &v1.VerificationOrder{}, webhook.OrderVendorIDIndex, func(obj client.Object) []string {
		return webhook.VendorIDs(obj.(*v1.VerificationOrder))
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
