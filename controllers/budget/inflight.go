package budget

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"
)

// Calls in flight are capped per account, apart from the rate: a vendor
// that answers slowly (or not at all, until the client's timeout) keeps its
// calls open while the rate keeps sending new ones, and a vendor such as
// txcloud refuses the call beyond its plan's concurrency. An order that
// finds every call of its account in flight waits, without a worker, until
// one ends and End names it; orders are named in the order they came.

// Begin takes one of the account's calls in flight for order, for the
// rest of its reconcile's vendor calls (an operation's calls go one after
// another, so one is enough). false: none is free; order is queued, and
// End names it when one is.
func (b *Budget) Begin(order types.NamespacedName) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.inFlight < b.limits.MaxInFlight && (len(b.waiting) == 0 || b.waiting[0] == order) {
		b.inFlight++
		b.dequeue(order)
		return true
	}
	if !slices.Contains(b.waiting, order) {
		b.waiting = append(b.waiting, order)
	}
	return false
}

// End gives back a call in flight. next is the order that waits longest,
// to be woken: it takes the call when it comes back (Begin keeps it for
// the first in line). ok is false when no order waits.
func (b *Budget) End() (next types.NamespacedName, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.inFlight = max(b.inFlight-1, 0)
	return b.first()
}

// Leave takes order out of the line: it came back and needed no call after
// all (its order turned terminal meanwhile, say). A call kept free for it
// goes to the next in line, named as End names it.
func (b *Budget) Leave(order types.NamespacedName) (next types.NamespacedName, ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.waiting) == 0 || b.waiting[0] != order {
		b.dequeue(order)
		return types.NamespacedName{}, false
	}
	b.dequeue(order)
	if b.inFlight >= b.limits.MaxInFlight {
		return types.NamespacedName{}, false // End names the next when a call ends
	}
	return b.first()
}

// first is the order first in line. b.mu is held.
func (b *Budget) first() (types.NamespacedName, bool) {
	if len(b.waiting) == 0 {
		return types.NamespacedName{}, false
	}
	return b.waiting[0], true
}

// InFlight is how many calls of the account are in flight, and how many
// orders wait for one.
func (b *Budget) InFlight() (calls, waiting int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.inFlight, len(b.waiting)
}

// dequeue drops order from the line. b.mu is held.
func (b *Budget) dequeue(order types.NamespacedName) {
	if i := slices.Index(b.waiting, order); i >= 0 {
		b.waiting = slices.Delete(b.waiting, i, i+1)
	}
}
