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

// The replay memory's bounds. Each provider has a memory of its own, of
// at most ReplaysPerProvider deliveries (its least recently seen are
// forgotten first), so that one provider's deliveries (a tenant holds its
// own provider's token) never push another's out. All of them together
// keep at most ReplayEntries; when they are full, room is made fairly: a
// provider holding its share (ReplayEntries over the providers with a
// memory) or more makes room from its own memory, and one below its share
// from the memory that holds the most. So no flood, whether at one
// provider or at many at once, makes a provider forget while it holds
// less than its share, and a platform with hundreds of providers
// receiving keeps each one's recent deliveries. Past ReplayProviders
// providers, the memory of the one least recently delivered to goes.
//
// A delivery is remembered by the SHA-256 of its id (or body), never the
// id itself, so an entry has the same size whatever the vendor, or a
// stranger with a token, sends: 180 bytes measured, at most 200, and a
// provider's memory about 700 bytes besides, at most 800
// (TestTheReplayMemorysBytesAreBounded): at most 128 Ki × 200 B + 4,096 ×
// 800 B, 28 MiB, whatever is sent.
//
// Forgetting costs little: a push is only a hint, so a replay of a
// forgotten delivery costs one more observation of the orders it names,
// never an action. 1,024 deliveries cover the bursts of duplicates and
// retries vendors send within minutes of each other.
const (
	ReplaysPerProvider = 1024
	ReplayEntries      = 128 * ReplaysPerProvider
	ReplayProviders    = 4096
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
// goroutine per cache for good, and reads the wall clock, not Now), with
// the bounds above. An entry older than ReplayWindow counts as forgotten
// when it is looked up, and goes when room is made.
type Replays struct {
	mu        sync.Mutex
	providers *simplelru.LRU[types.NamespacedName, *seenAt]
	// held is how many deliveries all the providers' memories hold.
	held int
	// The bounds: ReplaysPerProvider and ReplayEntries, or a test's.
	perProvider, entries int
}

// NewReplays returns an empty replay memory with the bounds above.
func NewReplays() *Replays {
	return newReplays(ReplayProviders, ReplaysPerProvider, ReplayEntries)
}

func newReplays(providerCount, perProvider, entries int) *Replays {
	d := &Replays{perProvider: perProvider, entries: entries}
	memories, err := simplelru.NewLRU(providerCount, func(_ types.NamespacedName, seen *seenAt) { d.held -= seen.Len() })
	if err != nil {
		panic(err) // only a size below 1, and it is a positive constant
	}
	d.providers = memories
	return d
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
	at, known := seen.Get(key)
	if known && now.Sub(at) <= ReplayWindow {
		return false
	}
	if !known && seen.Len() < d.perProvider { // one more entry in all
		d.makeRoom(seen)
		d.held++
	}
	seen.Add(key, now) // an expired entry is renewed in place; a full memory forgets its own oldest
	return true
}

// makeRoom forgets one delivery when the memories are full, to make room
// for one more in seen: from seen itself when it holds its share or more,
// else from the memory that holds the most.
func (d *Replays) makeRoom(seen *seenAt) {
	if d.held < d.entries {
		return
	}
	from, fromKey := seen, types.NamespacedName{}
	if share := max(1, d.entries/d.providers.Len()); seen.Len() < share {
		for _, k := range d.providers.Keys() {
			if other, _ := d.providers.Peek(k); other.Len() > from.Len() {
				from, fromKey = other, k
			}
		}
	}
	from.RemoveOldest()
	d.held--
	if from.Len() == 0 && from != seen {
		d.providers.Remove(fromKey) // held is unchanged: it held nothing
	}
}

// forget drops provider's delivery key, for a delivery that could not be
// acted on: the vendor sends it again, and that time it must be acted on.
func (d *Replays) forget(provider types.NamespacedName, key deliveryKey) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if seen, ok := d.providers.Peek(provider); ok && seen.Remove(key) {
		d.held--
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
