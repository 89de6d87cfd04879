package webhook

import (
	"sync"
	"time"
)

// ReplayWindow is how long a delivery is remembered, so the same delivery
// sent again is refused: longer than the vendors retry (Truework retries
// for 48 hours). A delivery that says it was sent longer ago than this is
// refused too, so a restart, which forgets, does not reopen the window.
const ReplayWindow = 72 * time.Hour

// maxRemembered bounds the replay memory; past it the oldest are
// forgotten first (each entry is a few dozen bytes).
const maxRemembered = 200_000

// Replays remembers the deliveries a receiver has seen. Each replica has its
// own: a replay that reaches another replica costs one more observation of
// the orders it names, never an action (a push is only a hint).
type Replays struct {
	mu    sync.Mutex
	seen  map[string]time.Time
	order []string // seen keys, oldest first
}

// NewReplays returns an empty replay memory.
func NewReplays() *Replays { return &Replays{seen: map[string]time.Time{}} }

// firstTime records key at now and reports whether it is new within
// ReplayWindow.
func (d *Replays) firstTime(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.forgetLocked(now)
	if _, ok := d.seen[key]; ok {
		return false
	}
	d.seen[key] = now
	d.order = append(d.order, key)
	return true
}

// forgetLocked drops deliveries older than the window, and the oldest past
// maxRemembered.
func (d *Replays) forgetLocked(now time.Time) {
	drop := 0
	for drop < len(d.order) && (len(d.order)-drop > maxRemembered || now.Sub(d.seen[d.order[drop]]) > ReplayWindow) {
		delete(d.seen, d.order[drop])
		drop++
	}
	d.order = d.order[drop:]
}
