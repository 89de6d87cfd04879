package webhook

import (
	"crypto/sha256"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ordersync/verification-operator/providers"
)

// ReplayWindow is how long a delivery is remembered, so the same delivery
// sent again is refused: longer than the vendors retry (Truework retries
// for 48 hours). A delivery that says it was sent longer ago than this is
// refused too, so a restart, which forgets, does not reopen the window.
const ReplayWindow = 72 * time.Hour

// The replay memory's bounds. Each provider has a memory of its own, so
// that one provider's deliveries (a tenant holds its own provider's token)
// never push another's out; past ReplaysPerProvider a provider's least
// recently seen deliveries are forgotten first, and past ReplayProviders
// the memory of the provider least recently delivered to. A delivery is
// remembered by the SHA-256 of its id (or body), never the id itself,
// so an entry has the same size whatever the vendor, or a stranger with
// a token, sends: 183 bytes measured, at most 200
// (TestTheReplayMemorysBytesAreBounded), which makes the worst case
// 128 × 1,024 × 200 B = 25 MiB.
//
// Forgetting costs little: a push is only a hint, so a replay of a
// forgotten delivery costs one more observation of the orders it names,
// never an action. 1,024 deliveries cover the bursts of duplicates and
// retries vendors send within minutes of each other.
const (
	ReplaysPerProvider = 1024
	ReplayProviders    = 128
)

// deliveryKey is what the replay memory keeps of a delivery.
type deliveryKey [sha256.Size]byte

// keyOf is the key of a delivery: the hash of the vendor's delivery id,
// or of the body when the vendor sends none (an identical body sent again
// is then refused). The prefix keeps an id and a body apart.
func keyOf(push providers.Push, body []byte) deliveryKey {
	if push.DeliveryID != "" {
		return sha256.Sum256([]byte("id:" + push.DeliveryID))
	}
	return sha256.Sum256(append([]byte("body:"), body...))
}

// seenAt is one provider's memory: when each delivery was first seen.
type seenAt = simplelru.LRU[deliveryKey, time.Time]

// Replays remembers the deliveries a receiver has seen. Each replica has its
// own: a replay that reaches another replica costs one more observation of
// the orders it names, never an action (a push is only a hint).
//
// It is an LRU of providers, each with an LRU of deliveries
// (hashicorp/golang-lru's, without its expirable variant: that one keeps a
// goroutine per cache for good, and reads the wall clock, not Now). An
// entry older than ReplayWindow counts as forgotten when it is looked up,
// and goes when its provider's LRU needs the room.
type Replays struct {
	mu          sync.Mutex
	providers   *simplelru.LRU[types.NamespacedName, *seenAt]
	perProvider int
}

// NewReplays returns an empty replay memory with the bounds above.
func NewReplays() *Replays { return newReplays(ReplayProviders, ReplaysPerProvider) }

func newReplays(providerCount, perProvider int) *Replays {
	return &Replays{providers: mustLRU[types.NamespacedName, *seenAt](providerCount), perProvider: perProvider}
}

// firstTime records provider's delivery key at now and reports whether it
// is new within ReplayWindow.
func (d *Replays) firstTime(provider types.NamespacedName, key deliveryKey, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	seen, ok := d.providers.Get(provider)
	if !ok {
		seen = mustLRU[deliveryKey, time.Time](d.perProvider)
		d.providers.Add(provider, seen)
	}
	if at, ok := seen.Get(key); ok && now.Sub(at) <= ReplayWindow {
		return false
	}
	seen.Add(key, now)
	return true
}

// forget drops provider's delivery key, for a delivery that could not be
// acted on: the vendor sends it again, and that time it must be acted on.
func (d *Replays) forget(provider types.NamespacedName, key deliveryKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seen, ok := d.providers.Peek(provider); ok {
		seen.Remove(key)
	}
}

// mustLRU is an LRU of size entries; size is a positive constant, the
// only thing simplelru.NewLRU fails on.
func mustLRU[K comparable, V any](size int) *simplelru.LRU[K, V] {
	lru, err := simplelru.NewLRU[K, V](size, nil)
	if err != nil {
		panic(err)
	}
	return lru
}
