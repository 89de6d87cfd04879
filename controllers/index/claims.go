package index

import (
	"context"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// ClaimKeys are the vendor objects o claims to manage: the vendor order of
// spec.orderID and status.orderID (a reverification's new request), and
// the request a spec.reverification is to reverify, which two orders must
// not both buy a reverification of. Ids are the vendor's, so the account
// (compared by the order reconciler) tells two vendors' orders apart.
func ClaimKeys(o *v1.VerificationOrder) []string {
	keys := make([]string, 0, 3)
	if id := o.Spec.OrderID; id != "" {
		keys = append(keys, "order/"+id)
	}
	if id := o.Status.OrderID; id != "" && id != o.Spec.OrderID {
		keys = append(keys, "order/"+id)
	}
	if r := o.Spec.Reverification; r != nil && r.VerificationRequestID != "" {
		keys = append(keys, "reverify/"+r.VerificationRequestID)
	}
	return keys
}

// claims: key is one of ClaimKeys(o), told without building them.
func claims(o *v1.VerificationOrder, key string) bool {
	kind, id, _ := strings.Cut(key, "/")
	switch {
	case id == "":
		return false
	case kind == "order":
		return o.Spec.OrderID == id || o.Status.OrderID == id
	case kind == "reverify":
		return o.Spec.Reverification != nil && o.Spec.Reverification.VerificationRequestID == id
	}
	return false
}

// Claims lists the orders, in every namespace, that claim key.
type Claims = Lookup

// claimIndex is the claims, bucketed.
var claimIndex = bucketed{name: OrderClaim, keysOf: ClaimKeys, has: claims}

// ListClaims answers through reader's OrderClaim field index (FieldIndexClaims).
func ListClaims(reader client.Reader) Claims { return claimIndex.listed(reader) }

// FieldIndexClaims registers OrderClaim as a field index of idx, the index
// ListClaims asks.
func FieldIndexClaims(ctx context.Context, idx client.FieldIndexer) error {
	return claimIndex.fieldIndex(ctx, idx)
}

// SetupClaims indexes the orders in informers by the buckets of their
// ClaimKeys, on the informer itself, and answers from that index. Where
// there is no such informer (OrdersInformer), the claims are a field
// index of idx, answered through reader.
func SetupClaims(ctx context.Context, informers cache.Informers, idx client.FieldIndexer, reader client.Reader) (Claims, error) {
	return claimIndex.setup(ctx, informers, idx, reader)
}
