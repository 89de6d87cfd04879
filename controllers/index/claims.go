package index

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"

	toolscache "k8s.io/client-go/tools/cache"
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
type Claims func(ctx context.Context, key string) ([]v1.VerificationOrder, error)

// ListClaims answers through reader's OrderClaim field index (FieldIndexClaims).
func ListClaims(reader client.Reader) Claims {
	return func(ctx context.Context, key string) ([]v1.VerificationOrder, error) {
		var list v1.VerificationOrderList
		err := reader.List(ctx, &list, client.MatchingFields{OrderClaim: key})
		return list.Items, err
	}
}

// FieldIndexClaims registers OrderClaim as a field index of idx, the index
// ListClaims asks.
func FieldIndexClaims(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &v1.VerificationOrder{}, OrderClaim, func(obj client.Object) []string {
		return ClaimKeys(obj.(*v1.VerificationOrder))
	})
}

// claimBuckets is how many buckets SetupClaims spreads claims over.
//
// Every order's claims are values of its own, and an index keeps a set
// per value: a field index two (per namespace and cluster-wide), about
// 600 bytes per order held, a third of its heap (the memory bench's heap
// profile). Claims are only ever looked up cluster-wide, and an order
// costs one entry in its bucket's set instead, the lookup reading the
// few orders in one bucket: 100 at 100,000 orders held.
const claimBuckets = 1024

// claimBucket is the bucket of a claim key. It runs for every claim of
// every informer event, so it allocates nothing: the index lives in this
// process only, so a seed of its own (maphash) serves, and the bucket
// names are made once.
func claimBucket(key string) string {
	return bucketNames[maphash.String(bucketSeed, key)%claimBuckets]
}

var (
	bucketSeed  = maphash.MakeSeed()
	bucketNames = func() (names [claimBuckets]string) {
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		return names
	}()
)

// SetupClaims indexes the orders in informers by the buckets of their
// ClaimKeys, on the informer itself, and answers from that index. Where
// there is no such informer (OrdersInformer), the claims are a field
// index of idx, answered through reader.
func SetupClaims(ctx context.Context, informers cache.Informers, idx client.FieldIndexer, reader client.Reader) (Claims, error) {
	shared, ok, err := OrdersInformer(ctx, informers)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		if err := FieldIndexClaims(ctx, idx); err != nil {
			return nil, err
		}
		return ListClaims(reader), nil
	}
	if err := shared.AddIndexers(toolscache.Indexers{OrderClaim: claimBucketsOf}); err != nil {
		return nil, err
	}
	return bucketClaims(shared.GetIndexer()), nil
}

// bucketClaims answers from indexer's claim buckets.
func bucketClaims(indexer toolscache.Indexer) Claims {
	return func(_ context.Context, key string) ([]v1.VerificationOrder, error) {
		held, err := indexer.ByIndex(OrderClaim, claimBucket(key))
		if err != nil {
			return nil, err
		}
		var orders []v1.VerificationOrder
		for _, obj := range held {
			if o, ok := obj.(*v1.VerificationOrder); ok && claims(o, key) {
				orders = append(orders, *o.DeepCopy()) // the cache's own: never handed out
			}
		}
		return orders, nil
	}
}

// OrdersInformer is the client-go informer of the orders in informers, to
// read and index without copies. ok is false for a cache confined to
// several namespaces (--watch-namespaces): an informer per namespace is
// behind the one it has, and only its lists see them all.
func OrdersInformer(ctx context.Context, informers cache.Informers) (_ toolscache.SharedIndexInformer, ok bool, _ error) {
	inf, err := informers.GetInformer(ctx, &v1.VerificationOrder{})
	if err != nil {
		return nil, false, err
	}
	shared, ok := inf.(toolscache.SharedIndexInformer)
	return shared, ok, nil
}

func claimBucketsOf(obj any) ([]string, error) {
	o, ok := obj.(*v1.VerificationOrder)
	if !ok {
		return nil, nil
	}
	keys := ClaimKeys(o)
	buckets := make([]string, 0, len(keys))
	for _, key := range keys {
		if b := claimBucket(key); !slices.Contains(buckets, b) {
			buckets = append(buckets, b)
		}
	}
	return buckets, nil
}
