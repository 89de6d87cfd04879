// Package index holds the field indexes that map a changed provider or
// Secret to what uses it, and the lookups through them.
package index

import (
	"context"

	"k8s.io/apimachinery/pkg/types"
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
)

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
	match := client.MatchingFields{ProviderSecret: secret.String()}
	var keys []types.NamespacedName
	if kind == v1.KindClusterVerificationProvider {
		var list v1.ClusterVerificationProviderList
		if err := reader.List(ctx, &list, match); err != nil {
			return nil
		}
		for _, p := range list.Items {
			keys = append(keys, client.ObjectKeyFromObject(&p))
		}
		return keys
	}
	var list v1.VerificationProviderList
	if err := reader.List(ctx, &list, client.InNamespace(secret.Namespace), match); err != nil {
		return nil
	}
	for _, p := range list.Items {
		keys = append(keys, client.ObjectKeyFromObject(&p))
	}
	return keys
}
