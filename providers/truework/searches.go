package truework

import (
	"sync"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// A search for a lost reverification reads up to maxFindPages pages, each
// paid for from the account's budget, under a reconcile's deadline of two
// minutes: on a busy account, one reconcile cannot read them all, and a
// search that started over each time would never end. So a search that
// stops short is kept in its client (which the controller keeps per
// provider, across reconciles), by request and intent, and the next call
// goes on from the page it stopped at, with what it had found.
//
// The memory is bounded: a search not taken up again within keepSearchFor
// is dropped, and at most maxKeptSearches are kept (the longest unused
// goes first). A dropped search starts over, which costs pages, never
// correctness.

const (
	// keepSearchFor is how long a stopped search is kept unused: long past
	// any Retry-After the controller honors (15 minutes) and its backoff
	// (5 minutes), short enough that an abandoned one goes.
	keepSearchFor = time.Hour
	// maxKeptSearches: reverifications in doubt at once on one account are
	// few (each is a lost answer); each kept search holds a few hundred ids.
	maxKeptSearches = 32
)

// searchKey names a search: the request reverified and the intent's time,
// so that a new intent is a new search.
type searchKey struct {
	requestID string
	since     time.Time // in UTC, without a monotonic reading: comparable with ==
}

func keyOf(requestID string, since time.Time) searchKey {
	return searchKey{requestID: requestID, since: since.UTC()}
}

// searches are the searches kept between calls. Safe for concurrent use.
type searches struct {
	mu   sync.Mutex
	kept map[searchKey]*search
}

// take hands out the search kept for key, unless it expired. It leaves the
// memory while a call runs with it, so two calls never share one: a
// second call for the same key (which the controller does not make: it
// reconciles one order at a time) starts afresh, and the later to stop is
// kept.
func (m *searches) take(key searchKey, now time.Time) *search {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.kept[key]
	delete(m.kept, key)
	if s == nil || expired(s, now) {
		return nil
	}
	return s
}

// keep keeps s for key, making room by dropping the expired searches and,
// when still full, the one unused longest.
func (m *searches) keep(key searchKey, s *search, now time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.kept == nil {
		m.kept = map[searchKey]*search{}
	}
	for k, old := range m.kept {
		if expired(old, now) {
			delete(m.kept, k)
		}
	}
	if _, ok := m.kept[key]; !ok && len(m.kept) >= maxKeptSearches {
		delete(m.kept, m.unusedLongest())
	}
	s.used = now
	m.kept[key] = s
}

// unusedLongest is the key of the kept search used longest ago.
func (m *searches) unusedLongest() searchKey {
	var oldest searchKey
	var at time.Time
	for k, s := range m.kept {
		if at.IsZero() || s.used.Before(at) {
			oldest, at = k, s.used
		}
	}
	return oldest
}

func expired(s *search, now time.Time) bool { return now.Sub(s.used) >= keepSearchFor }

// resumable: the search stopped for a reason that passes (a page failed or
// was cut short, a Retry-After, the caller's deadline), so the next call
// goes on with it. Any other end (found, not found, a person must decide,
// the credentials refused) is final for this search.
func resumable(err error) bool {
	k := providers.KindOf(err)
	return err != nil && (k == providers.KindTransient || k == providers.KindRateLimited)
}
