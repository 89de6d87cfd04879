package index

import (
	"context"
	"hash/maphash"
	"slices"
	"strconv"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Lookup lists the orders, in every namespace, indexed under key.
type Lookup func(ctx context.Context, key string) ([]v1.VerificationOrder, error)

// bucketed indexes orders by keys that are nearly every order's own (the
// vendor objects it claims, the vendor ids a webhook delivery names).
//
// An index keeps a set per value, so such keys cost a set per order: a
// controller-runtime field index two (per namespace and cluster-wide),
// 600 to 750 bytes per order held (BenchmarkIndexHeap), as much as a
// third of an order's heap. Bucketed, on the orders informer itself, each
// key is hashed into one of buckets buckets and an order costs one entry
// in its bucket's set; a lookup reads the few orders of one bucket (about
// 100 at 100,000 orders held) and keeps those that have the key.
type bucketed struct {
	// name is the informer's index, or the field index where there is no
	// informer to index (OrdersInformer).
	name   string
	keysOf func(*v1.VerificationOrder) []string
	// has: key is one of keysOf(o), told without building them.
	has func(o *v1.VerificationOrder, key string) bool
}

const buckets = 1024

// setup indexes the orders in informers by the buckets of their keys and
// answers from that index; where there is no client-go informer, it
// registers a field index of idx and answers through reader.
func (b bucketed) setup(ctx context.Context, informers cache.Informers, idx client.FieldIndexer, reader client.Reader) (Lookup, error) {
	shared, ok, err := OrdersInformer(ctx, informers)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		if err := b.fieldIndex(ctx, idx); err != nil {
			return nil, err
		}
		return b.listed(reader), nil
	}
	if err := shared.AddIndexers(toolscache.Indexers{b.name: b.bucketsOf}); err != nil {
		return nil, err
	}
	return b.lookup(shared.GetIndexer()), nil
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

// fieldIndex registers b's keys as a field index of idx, the index listed
// asks.
func (b bucketed) fieldIndex(ctx context.Context, idx client.FieldIndexer) error {
	return idx.IndexField(ctx, &v1.VerificationOrder{}, b.name, func(obj client.Object) []string {
		return b.keysOf(obj.(*v1.VerificationOrder))
	})
}

// listed answers through reader's field index (fieldIndex).
func (b bucketed) listed(reader client.Reader) Lookup {
	return func(ctx context.Context, key string) ([]v1.VerificationOrder, error) {
		var list v1.VerificationOrderList
		err := reader.List(ctx, &list, client.MatchingFields{b.name: key})
		return list.Items, err
	}
}

// lookup answers from indexer's buckets.
func (b bucketed) lookup(indexer toolscache.Indexer) Lookup {
	return func(_ context.Context, key string) ([]v1.VerificationOrder, error) {
		held, err := indexer.ByIndex(b.name, bucketOf(key))
		if err != nil {
			return nil, err
		}
		var orders []v1.VerificationOrder
		for _, obj := range held {
			if o, ok := obj.(*v1.VerificationOrder); ok && b.has(o, key) {
				orders = append(orders, *o.DeepCopy()) // the cache's own: never handed out
			}
		}
		return orders, nil
	}
}

func (b bucketed) bucketsOf(obj any) ([]string, error) {
	o, ok := obj.(*v1.VerificationOrder)
	if !ok {
		return nil, nil
	}
	keys := b.keysOf(o)
	names := make([]string, 0, len(keys))
	for _, key := range keys {
		if name := bucketOf(key); !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names, nil
}

// bucketOf is the bucket of a key. It runs for every key of every
// informer event, so it allocates nothing: the index lives in this process
// only, so a seed of its own (maphash) serves, and the bucket names are
// made once.
func bucketOf(key string) string {
	return bucketNames[maphash.String(bucketSeed, key)%buckets]
}

var (
	bucketSeed  = maphash.MakeSeed()
	bucketNames = func() (names [buckets]string) {
		for i := range names {
			names[i] = strconv.Itoa(i)
		}
		return names
	}()
)
