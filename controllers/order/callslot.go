package order

import (
	"context"
	"time"

	"k8s.io/apimachinery/pkg/types"

	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
)

// callSlot is an order's claim on one of its account's calls in flight
// (budget.Begin): taken right before its reconcile's first vendor call, not
// before, so that an order that needs no call never waits for one; given
// back when the reconcile's vendor work ends.
type callSlot struct {
	budget *budget.Budget
	key    types.NamespacedName
	wake   func(types.NamespacedName)
	// asked: take was called; held: it got the call.
	asked, held bool
}

func (r *Reconciler) callSlot(conn *connection.Connection, key types.NamespacedName) *callSlot {
	return &callSlot{budget: conn.Budget, key: key, wake: r.flights.enqueue}
}

// take is true when the order may call the vendor; false, it is in line,
// and is woken when a call ends.
func (s *callSlot) take() bool {
	if !s.held {
		s.asked, s.held = true, s.budget.Begin(s.key)
	}
	return s.held
}

// release gives the call back and wakes the order next in line, if any.
// An order that did not ask this time leaves the line it may have joined
// before, passing a call kept for it on.
func (s *callSlot) release() {
	var next types.NamespacedName
	var ok bool
	switch {
	case s.held:
		next, ok = s.budget.End()
	case !s.asked:
		next, ok = s.budget.Leave(s.key)
	}
	if ok {
		s.wake(next)
	}
}

// waitsForCall is the outcome of an order in line for a call in flight: it
// is woken when one ends, and looks again after a vendor timeout at the
// latest, should the wake be lost.
var waitsForCall = outcome{phase: phaseQueued, retryAfter: connection.VendorTimeout, holdsDeletion: true}

// limitsKnown: every provider has declared its limits since the start, so
// the account's budget is held to the strictest of them. Until then (the
// first seconds after a start), an order of a provider that declares looser
// limits than another of its account would spend at its own; it waits.
func (r *Reconciler) limitsKnown(ctx context.Context) bool {
	return r.settled.Now(ctx, r.Connector.Clients, index.Lister(r.Client), r.BudgetReports.Kinds())
}

// waitsForLimits is the outcome of an order whose first call waits for the
// providers to declare their limits after a start.
var waitsForLimits = outcome{phase: phaseQueued, retryAfter: time.Second, holdsDeletion: true}
