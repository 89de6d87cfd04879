package truework

import (
	"fmt"
	"testing"
	"time"
)

// TestKeptSearchesAreBounded: at most maxKeptSearches are kept, the one
// unused longest going first; a search expires keepSearchFor after its
// last use; a search taken is out of the memory until kept again.
func TestKeptSearchesAreBounded(t *testing.T) {
	var m searches
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := func(i int) searchKey { return searchKey{requestID: fmt.Sprint("req-", i)} }
	for i := range maxKeptSearches + 1 {
		m.keep(key(i), &search{}, t0.Add(time.Duration(i)*time.Second))
	}
	now := t0.Add(time.Minute)
	if s := m.take(key(0), now); s != nil {
		t.Errorf("the search unused longest is still kept beyond %d", maxKeptSearches)
	}
	s := m.take(key(1), now)
	if s == nil {
		t.Fatal("a kept search is gone")
	}
	if again := m.take(key(1), now); again != nil {
		t.Error("a search taken is still handed out")
	}
	m.keep(key(1), s, now)
	if s := m.take(key(2), t0.Add(2*time.Second+keepSearchFor)); s != nil {
		t.Error("a search unused for keepSearchFor is still handed out")
	}
	if s := m.take(key(1), now.Add(keepSearchFor-time.Second)); s == nil {
		t.Error("a search used again expired from its first use")
	}
}

// TestSearchKeyIsTheInstant: the controller's intent time comes back from
// the API server in another location and without a monotonic reading; it
// still names the same search.
func TestSearchKeyIsTheInstant(t *testing.T) {
	now := time.Now() // with a monotonic reading
	for _, same := range []time.Time{now.Round(0), now.In(time.FixedZone("UTC+2", 2*60*60)), now.UTC()} {
		if keyOf("req", now) != keyOf("req", same) {
			t.Errorf("%v and %v name different searches", now, same)
		}
	}
	if keyOf("req", now) == keyOf("req", now.Add(time.Nanosecond)) || keyOf("req", now) == keyOf("other", now) {
		t.Error("different intents or requests name the same search")
	}
}
