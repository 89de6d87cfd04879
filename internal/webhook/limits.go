package webhook

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"k8s.io/apimachinery/pkg/types"
)

// The caps on deliveries handled at once. Each holds up to MaxBody of body
// (and a copy or two while it is parsed), so MaxInFlight bounds the
// receiver's working memory at a few tens of MiB however many connections
// come; MaxInFlightPerProvider keeps one provider's flood from taking every
// slot. A delivery over either cap is answered 503 with Retry-After at
// once, never queued: a queue would hold the memory and connections the cap
// is there to bound, and the vendors retry.
const (
	MaxInFlight            = 32
	MaxInFlightPerProvider = 8
	// RetryAfter is what a delivery refused for now is told to wait.
	RetryAfter = 5 * time.Second
)

// inFlight counts the deliveries being handled, in all and per provider: a
// counting semaphore that refuses rather than waits. The zero value uses
// MaxInFlight and MaxInFlightPerProvider.
type inFlight struct {
	mu          sync.Mutex
	total       int
	perProvider map[types.NamespacedName]int
	// max and maxPerProvider override the constants when positive.
	max, maxPerProvider int
}

// acquire takes a slot for a delivery to provider and reports whether
// there was one; release gives it back.
func (f *inFlight) acquire(provider types.NamespacedName) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.total >= positiveOr(f.max, MaxInFlight) || f.perProvider[provider] >= positiveOr(f.maxPerProvider, MaxInFlightPerProvider) {
		return false
	}
	if f.perProvider == nil {
		f.perProvider = map[types.NamespacedName]int{}
	}
	f.total++
	f.perProvider[provider]++
	return true
}

func (f *inFlight) release(provider types.NamespacedName) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.total--
	// A provider with nothing in flight takes no room: the map holds at
	// most MaxInFlight providers.
	if f.perProvider[provider]--; f.perProvider[provider] == 0 {
		delete(f.perProvider, provider)
	}
}

func positiveOr(n, otherwise int) int {
	if n > 0 {
		return n
	}
	return otherwise
}

// recordKey is one kind of record in one provider's status.webhook.
type recordKey struct {
	provider types.NamespacedName
	refusal  bool
}

// spacedRecords is how many last records are remembered: a delivery's and
// a refusal's for as many providers as the replay memory keeps; forgetting
// one costs at most one more status write.
const spacedRecords = 2 * ReplayProviders

// recordSpacer spaces the receiver's writes of status.webhook: at most one
// delivery record and one refusal record per provider every StatusEvery,
// whatever floods the receiver. The cached status cannot do it alone: a
// flood's requests all read it before the first write comes back through
// the informer.
type recordSpacer struct {
	mu   sync.Mutex
	last *simplelru.LRU[recordKey, time.Time]
}

// due reports whether a record of key is due at now, and if so counts it
// as written: concurrent deliveries get one yes between them.
func (s *recordSpacer) due(key recordKey, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.last == nil {
		s.last = mustLRU[recordKey, time.Time](spacedRecords)
	}
	if at, ok := s.last.Get(key); ok && now.Sub(at) < StatusEvery {
		return false
	}
	s.last.Add(key, now)
	return true
}
