package metrics

import (
	"context"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// namespacesCache is a cache confined to several namespaces, as
// --watch-namespaces makes it: its informer of orders is no client-go
// informer, and lists come from the namespaces' informers (here a fake
// client).
type namespacesCache struct {
	cache.Cache
	reader client.Reader
}

func (c namespacesCache) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return plainInformer{}, nil
}

func (c namespacesCache) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return c.reader.List(ctx, list, opts...)
}

type plainInformer struct{ cache.Informer }

func TestFleetCountsOrdersOfACacheOverSeveralNamespaces(t *testing.T) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	kube := fake.NewClientBuilder().WithScheme(scheme).WithObjects(
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "one"}},
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "two"}},
	).Build()
	orders, err := fleetCollector{cache: namespacesCache{reader: kube}}.orders(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) != 2 || orders[0].Name == orders[1].Name {
		t.Fatalf("orders: %d, want one and two", len(orders))
	}
}
