package index

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// oneInformer is the cache's informers as SetupClaims uses them: the
// orders' informer, never started; the test fills its store.
type oneInformer struct {
	cache.Informers
	inf toolscache.SharedIndexInformer
}

func (o oneInformer) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return o.inf, nil
}

func TestSetupClaimsFindsClaimantsInEveryNamespace(t *testing.T) {
	inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &v1.VerificationOrder{}, 0, toolscache.Indexers{})
	claims, err := SetupClaims(t.Context(), oneInformer{inf: inf})
	if err != nil {
		t.Fatal(err)
	}
	order := func(ns, name, id string) *v1.VerificationOrder {
		return &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: v1.VerificationOrderSpec{OrderID: id}}
	}
	for _, o := range []*v1.VerificationOrder{order("a", "first", "X"), order("b", "second", "X"), order("a", "other", "Y")} {
		if err := inf.GetIndexer().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	got, err := claims(t.Context(), "order/X")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range got {
		names = append(names, o.Namespace+"/"+o.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"a/first", "b/second"}) {
		t.Fatalf("orders claiming order/X: %v, want a/first and b/second", names)
	}
	// What is handed out is a copy: the cache's objects are never changed.
	got[0].Spec.OrderID = "changed"
	if again, _ := claims(t.Context(), "order/X"); len(again) != 2 || again[0].Spec.OrderID != "X" || again[1].Spec.OrderID != "X" {
		t.Fatalf("changing an answer changed the cache: %+v", again)
	}
	if none, _ := claims(t.Context(), "order/Z"); len(none) != 0 {
		t.Fatalf("orders claiming order/Z: %d, want none", len(none))
	}
}
