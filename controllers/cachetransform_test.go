package controllers

import (
	"encoding/json"
	"fmt"
	"runtime"
	"strconv"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestTrimForCache(t *testing.T) {
	o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{
		Name:          "o",
		Annotations:   map[string]string{lastApplied: `{"big":"manifest"}`, v1.PausedAnnotation: "true"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	got, err := TrimForCache(o)
	if err != nil {
		t.Fatal(err)
	}
	trimmed := got.(*v1.VerificationOrder)
	if trimmed.ManagedFields != nil {
		t.Error("managed fields kept")
	}
	if diff := cmp.Diff(map[string]string{v1.PausedAnnotation: "true"}, trimmed.Annotations); diff != "" {
		t.Errorf("annotations (-want +got):\n%s", diff)
	}
}

// decodedOrder is order i of a namespace as the cache decodes it: its own
// copy of every string.
func decodedOrder(t testing.TB, i int) *v1.VerificationOrder {
	now := metav1.Now()
	o := &v1.VerificationOrder{
		TypeMeta: metav1.TypeMeta{APIVersion: v1.GroupVersion.String(), Kind: "VerificationOrder"},
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("order-%d", i), Namespace: "loans", UID: types.UID(fmt.Sprintf("3f1c9a2e-1b2c-4d5e-8f90-%012d", i)),
			ResourceVersion: strconv.Itoa(100000 + i), Generation: 1, Finalizers: []string{v1.CancelFinalizer}},
		Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "accountchek"}, OrderID: fmt.Sprintf("ord-%08d", i), State: v1.DesiredActive,
			DeletionPolicy: v1.DeletionCancel, ManagementPolicy: v1.ManagementManage},
		Status: v1.VerificationOrderStatus{VendorState: "canceled", State: "canceled", ObservedGeneration: 1, LastObservedTime: &now},
	}
	o.Status.OrderID = o.Spec.OrderID
	message := "accountchek finished the order (canceled); state active only watches it, so there is nothing to do."
	for _, c := range []string{v1.ConditionReady, v1.ConditionSynced} {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: c, Status: metav1.ConditionTrue,
			Reason: string(v1.ReasonWatching), Message: message, ObservedGeneration: 1})
	}
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	decoded := &v1.VerificationOrder{}
	if err := json.Unmarshal(raw, decoded); err != nil {
		t.Fatal(err)
	}
	return decoded
}

func TestCachedOrdersShareRepeatedStrings(t *testing.T) {
	trim := func(o *v1.VerificationOrder) *v1.VerificationOrder {
		got, err := TrimForCache(o)
		if err != nil {
			t.Fatal(err)
		}
		return got.(*v1.VerificationOrder)
	}
	a, b := trim(decodedOrder(t, 1)), trim(decodedOrder(t, 2))
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	shared := map[string][2]string{
		"apiVersion": {a.APIVersion, b.APIVersion}, "namespace": {a.Namespace, b.Namespace},
		"finalizer": {a.Finalizers[0], b.Finalizers[0]}, "providerRef": {a.Spec.ProviderRef.Name, b.Spec.ProviderRef.Name},
		"spec.state": {string(a.Spec.State), string(b.Spec.State)}, "status.vendorState": {a.Status.VendorState, b.Status.VendorState},
	}
	for i := range a.Status.Conditions {
		ca, cb := a.Status.Conditions[i], b.Status.Conditions[i]
		shared[ca.Type+" reason"] = [2]string{ca.Reason, cb.Reason}
		shared[ca.Type+" message"] = [2]string{ca.Message, cb.Message}
	}
	for field, s := range shared {
		if s[0] != s[1] || !same(s[0], s[1]) {
			t.Errorf("%s: %q and %q are not one shared copy", field, s[0], s[1])
		}
	}
	if !same(a.Status.OrderID, a.Spec.OrderID) {
		t.Error("status.orderID does not share spec.orderID's copy")
	}
	if a.Name == b.Name || a.Spec.OrderID == b.Spec.OrderID {
		t.Error("each order's own strings were mixed up")
	}
}

// BenchmarkCachedOrderHeap reports the heap an order held in the cache
// takes, shared strings and all:
// go test ./controllers -run '^$' -bench CachedOrderHeap -benchtime 10000x
func BenchmarkCachedOrderHeap(b *testing.B) {
	for _, transform := range []string{"decoded", "trimmed"} {
		b.Run(transform, func(b *testing.B) {
			orders := make([]*v1.VerificationOrder, b.N)
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			for i := range orders {
				orders[i] = decodedOrder(b, i)
				if transform == "trimmed" {
					_, _ = TrimForCache(orders[i])
				}
			}
			runtime.GC()
			runtime.ReadMemStats(&after)
			b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/float64(b.N), "heap-bytes/order")
			runtime.KeepAlive(orders)
		})
	}
}
