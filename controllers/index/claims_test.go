package index

import (
	"context"
	"slices"
	"strconv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

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
	claims, err := SetupClaims(t.Context(), oneInformer{inf: inf}, nil, nil)
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
	names := make([]string, 0, len(got))
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

// Orders whose claims share a bucket are told apart by their claims.
func TestSetupClaimsTellsApartOrdersInOneBucket(t *testing.T) {
	inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &v1.VerificationOrder{}, 0, toolscache.Indexers{})
	claimsOf, err := SetupClaims(t.Context(), oneInformer{inf: inf}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	other := "B0"
	for i := 1; bucketOf("order/"+other) != bucketOf("order/A"); i++ {
		other = "B" + strconv.Itoa(i)
	}
	reverifying := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "reverifying"},
		Spec:   v1.VerificationOrderSpec{OrderID: "R", Reverification: &v1.Reverification{VerificationRequestID: "A"}},
		Status: v1.VerificationOrderStatus{OrderID: "R2"}}
	for _, o := range []*v1.VerificationOrder{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "a"}, Spec: v1.VerificationOrderSpec{OrderID: "A"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "b"}, Spec: v1.VerificationOrderSpec{OrderID: other}},
		reverifying,
	} {
		if err := inf.GetIndexer().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	for key, want := range map[string]string{"order/A": "a", "order/" + other: "b", "reverify/A": "reverifying", "order/R2": "reverifying"} {
		got, err := claimsOf(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Name != want {
			t.Errorf("orders claiming %s: %d (%v), want only %s", key, len(got), got, want)
		}
	}
}

// namespacesInformer is the informer a cache confined to several
// namespaces has: no client-go informer.
type namespacesInformer struct{ cache.Informers }

func (namespacesInformer) GetInformer(context.Context, client.Object, ...cache.InformerGetOption) (cache.Informer, error) {
	return plainInformer{}, nil
}

// plainInformer is a cache.Informer and nothing more.
type plainInformer struct{ cache.Informer }

func TestSetupClaimsOverSeveralNamespacesIsAFieldIndex(t *testing.T) {
	indexer, reader, fill := fieldIndexed(t)
	claimsOf, err := SetupClaims(t.Context(), namespacesInformer{}, indexer, reader)
	if err != nil {
		t.Fatal(err)
	}
	fill(
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "first"}, Spec: v1.VerificationOrderSpec{OrderID: "X"}},
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "second"}, Spec: v1.VerificationOrderSpec{OrderID: "X"}},
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "other"}, Spec: v1.VerificationOrderSpec{OrderID: "Y"}},
	)
	got, err := claimsOf(t.Context(), "order/X")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("orders claiming order/X: %d, want 2", len(got))
	}
}

// fieldIndexed is what a Setup of a cache of several namespaces is given:
// a field indexer, and a reader that lists through those field indexes
// the objects fill is given, after the Setup.
func fieldIndexed(t *testing.T) (fakeIndexer, client.Reader, func(objs ...client.Object)) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	builder := fake.NewClientBuilder().WithScheme(scheme)
	var kube client.Client
	return fakeIndexer{builder}, readerFunc(func() client.Reader { return kube }),
		func(objs ...client.Object) { kube = builder.WithObjects(objs...).Build() }
}

// readerFunc reads through the client get returns when asked: the fake
// client is built after its indexes are registered.
type readerFunc func() client.Reader

func (f readerFunc) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	return f().Get(ctx, key, obj, opts...)
}

func (f readerFunc) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	return f().List(ctx, list, opts...)
}

// BenchmarkClaimBucketsOf is what the claims index costs an order on each
// informer event: go test ./controllers/index -run '^$' -bench ClaimBucketsOf -benchmem
func BenchmarkClaimBucketsOf(b *testing.B) {
	o := &v1.VerificationOrder{
		Spec:   v1.VerificationOrderSpec{OrderID: "AAAAAAAAh93nUsHx8VZ6EM6yjkzemNR4ewJot1TjDI6iHVhiAZBBIajb"},
		Status: v1.VerificationOrderStatus{OrderID: "AAAAAAAACftS5ZUHWLtMpA7Xy1bdyeUVvMH9Ohe1ye808d_IZj4Ug-Hd"},
	}
	for b.Loop() {
		if _, err := claimIndex.bucketsOf(o); err != nil {
			b.Fatal(err)
		}
	}
}
