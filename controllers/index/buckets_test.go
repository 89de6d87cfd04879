package index

import (
	"testing"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Each bucketed index tells whether an order has a key (has) without
// building its keys (keysOf): the two must agree, or a lookup would miss
// an order the index holds, or keep one it does not.
func TestABucketedIndexsHasAgreesWithItsKeys(t *testing.T) {
	orders := []*v1.VerificationOrder{
		{Spec: v1.VerificationOrderSpec{OrderID: "A"}},
		{Spec: v1.VerificationOrderSpec{OrderID: "A"}, Status: v1.VerificationOrderStatus{OrderID: "A2", Requests: []v1.RequestStatus{{ID: "A3"}}}},
		{Spec: v1.VerificationOrderSpec{Reverification: &v1.Reverification{VerificationRequestID: "S"}}, Status: v1.VerificationOrderStatus{OrderID: "R"}},
		{Spec: v1.VerificationOrderSpec{OrderID: "F"}, Status: v1.VerificationOrderStatus{OrderID: "F", State: "canceled"}},
		{Spec: v1.VerificationOrderSpec{OrderID: "F"}, Status: v1.VerificationOrderStatus{OrderID: "F", State: "canceled", PlannedAction: "Cancel"}},
		{},
	}
	candidates := []string{"", "A", "A2", "A3", "S", "R", "F", "order/A", "order/A2", "order/R", "order/F", "reverify/S", "reverify/A", "order/", "Z"}
	for name, index := range map[string]bucketed{"claims": claimIndex, "vendor ids": vendorIDIndex} {
		for i, o := range orders {
			keys := index.keysOf(o)
			for _, key := range candidates {
				want := false
				for _, k := range keys {
					want = want || k == key
				}
				if got := index.has(o, key); got != want {
					t.Errorf("%s: order %d, key %q: has says %v, its keys %q say %v", name, i, key, got, keys, want)
				}
			}
		}
	}
}
