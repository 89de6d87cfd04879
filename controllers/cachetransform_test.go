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
	utiljson "k8s.io/apimachinery/pkg/util/json"

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

func TestTrimForCacheSharesLabelAndAnnotationKeys(t *testing.T) {
	decoded := func(i int) *v1.VerificationOrder {
		o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{
			Labels:      map[string]string{"app.kubernetes.io/instance": "lending", "loan": strconv.Itoa(i)},
			Annotations: map[string]string{"argocd.argoproj.io/tracking-id": "lending:v/VerificationOrder:loans/o-" + strconv.Itoa(i)},
		}}
		out := decode(t, o)
		if _, err := TrimForCache(out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	a, b := decoded(1), decoded(2)
	keyOf := func(m map[string]string, key string) string {
		for k := range m {
			if k == key {
				return k
			}
		}
		t.Fatalf("%s missing from %v", key, m)
		return ""
	}
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	for _, k := range []string{"app.kubernetes.io/instance", "loan"} {
		if !same(keyOf(a.Labels, k), keyOf(b.Labels, k)) {
			t.Errorf("label key %s is not one shared copy", k)
		}
	}
	if k := "argocd.argoproj.io/tracking-id"; !same(keyOf(a.Annotations, k), keyOf(b.Annotations, k)) {
		t.Errorf("annotation key %s is not one shared copy", k)
	}
	if !same(a.Labels["app.kubernetes.io/instance"], b.Labels["app.kubernetes.io/instance"]) {
		t.Error("a label value both have is not one shared copy")
	}
	if a.Labels["loan"] != "1" || b.Labels["loan"] != "2" || a.Annotations["argocd.argoproj.io/tracking-id"] == b.Annotations["argocd.argoproj.io/tracking-id"] {
		t.Errorf("values mixed up: %v %v %v %v", a.Labels, b.Labels, a.Annotations, b.Annotations)
	}
}

func TestCachedOrdersListsAreTheirOwnLength(t *testing.T) {
	// A stalled order has three conditions; the API machinery's decoder
	// (the cache's) grows a list 1, 2, 4, ...
	o := decodedOrder(t, 1)
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: v1.ConditionStalled, Status: metav1.ConditionTrue, Reason: string(v1.ReasonAlreadyTerminal)})
	o = decode(t, o)
	if cap(o.Status.Conditions) == len(o.Status.Conditions) {
		t.Fatalf("the decoder gave %d conditions an array of %d: nothing to clip", len(o.Status.Conditions), cap(o.Status.Conditions))
	}
	want := o.DeepCopy()
	if _, err := TrimForCache(o); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, o); diff != "" {
		t.Errorf("the order changed (-want +got):\n%s", diff)
	}
	for name, lc := range map[string][2]int{"conditions": {len(o.Status.Conditions), cap(o.Status.Conditions)},
		"finalizers": {len(o.Finalizers), cap(o.Finalizers)}} {
		if lc[0] != lc[1] {
			t.Errorf("%s: %d in an array of %d", name, lc[0], lc[1])
		}
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
	return decode(t, o)
}

// decode is o as the cache decodes it (the API machinery's decoder): its
// own copy of every string.
func decode(t testing.TB, o *v1.VerificationOrder) *v1.VerificationOrder {
	raw, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	decoded := &v1.VerificationOrder{}
	if err := utiljson.Unmarshal(raw, decoded); err != nil {
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
