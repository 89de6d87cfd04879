package index

import (
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/webhook"
)

// vendorOrders are orders with vendor ids in every place VendorIDs reads,
// one of them finished at the vendor, and other with an id whose bucket
// is A's.
func vendorOrders(other string) []client.Object {
	finished := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "finished"},
		Spec: v1.VerificationOrderSpec{OrderID: "A"}, Status: v1.VerificationOrderStatus{OrderID: "A", State: "canceled"}}
	return []client.Object{
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "by-spec"}, Spec: v1.VerificationOrderSpec{OrderID: "A"}},
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "b", Name: "by-request"},
			Spec: v1.VerificationOrderSpec{OrderID: "R"}, Status: v1.VerificationOrderStatus{OrderID: "R2", Requests: []v1.RequestStatus{{ID: "A"}}}},
		&v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "same-bucket"}, Spec: v1.VerificationOrderSpec{OrderID: other}},
		finished,
	}
}

func namesOf(orders []v1.VerificationOrder) []string {
	names := make([]string, 0, len(orders))
	for _, o := range orders {
		names = append(names, o.Namespace+"/"+o.Name)
	}
	slices.Sort(names)
	return names
}

// The receiver's lookup finds the orders that manage an id in every
// namespace, by any of their ids, and no order whose id only shares the
// bucket, nor one finished at the vendor.
func TestSetupVendorIDsFindsTheOrdersThatManageAnID(t *testing.T) {
	other := "B0"
	for i := 1; bucketOf(other) != bucketOf("A"); i++ {
		other = "B" + strconv.Itoa(i)
	}
	inf := toolscache.NewSharedIndexInformer(&toolscache.ListWatch{}, &v1.VerificationOrder{}, 0, toolscache.Indexers{})
	ordersOf, err := SetupVendorIDs(t.Context(), oneInformer{inf: inf}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range vendorOrders(other) {
		if err := inf.GetIndexer().Add(o); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string][]string{"A": {"a/by-spec", "b/by-request"}, other: {"a/same-bucket"}, "R2": {"b/by-request"}, "Z": {}} {
		got, err := ordersOf(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(namesOf(got), want) {
			t.Errorf("orders managing %s: %v, want %v", id, namesOf(got), want)
		}
	}
}

func TestSetupVendorIDsOverSeveralNamespacesIsAFieldIndex(t *testing.T) {
	indexer, reader, fill := fieldIndexed(t)
	ordersOf, err := SetupVendorIDs(t.Context(), namespacesInformer{}, indexer, reader)
	if err != nil {
		t.Fatal(err)
	}
	fill(vendorOrders("B")...)
	got, err := ordersOf(t.Context(), "A")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"a/by-spec", "b/by-request"}; !slices.Equal(namesOf(got), want) {
		t.Fatalf("orders managing A: %v, want %v", namesOf(got), want)
	}
}

// BenchmarkIndexHeap is the heap an index of the orders' vendor ids keeps
// per active order, as a controller-runtime field index keeps it and
// bucketed: go test ./controllers/index -run '^$' -bench IndexHeap
func BenchmarkIndexHeap(b *testing.B) {
	fieldIndex := func(obj any) ([]string, error) { // as controller-runtime's IndexField builds one
		o := obj.(*v1.VerificationOrder)
		ids := webhook.VendorIDs(o)
		values := make([]string, 0, 2*len(ids))
		for _, id := range ids {
			values = append(values, "__all_namespaces/"+id, o.Namespace+"/"+id)
		}
		return values, nil
	}
	for _, bench := range []struct {
		name     string
		indexers toolscache.Indexers
	}{
		{"none", toolscache.Indexers{}},
		{"field index", toolscache.Indexers{webhook.OrderVendorIDIndex: fieldIndex}},
		{"bucketed", toolscache.Indexers{webhook.OrderVendorIDIndex: vendorIDIndex.bucketsOf}},
	} {
		b.Run(bench.name, func(b *testing.B) {
			const n = 20000
			orders := make([]*v1.VerificationOrder, n)
			for i := range orders {
				id := fmt.Sprintf("AAAAAAAA%048d", i) // a Truework id's length
				orders[i] = &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns-" + strconv.Itoa(i%50), Name: "order-" + strconv.Itoa(i)},
					Spec: v1.VerificationOrderSpec{OrderID: id}, Status: v1.VerificationOrderStatus{OrderID: id, State: "active"}}
			}
			var perOrder float64
			for b.Loop() {
				before := liveHeap()
				indexer := toolscache.NewIndexer(toolscache.MetaNamespaceKeyFunc, bench.indexers)
				for _, o := range orders {
					if err := indexer.Add(o); err != nil {
						b.Fatal(err)
					}
				}
				perOrder = float64(liveHeap()-before) / n
				runtime.KeepAlive(indexer)
			}
			b.ReportMetric(perOrder, "B/order")
		})
	}
}

func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
