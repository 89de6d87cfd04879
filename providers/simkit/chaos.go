package simkit

import "github.com/ordersync/verification-operator/providers"

// Chaos is a vendor's part in the chaos runs (test/chaos,
// docs/reliability.md): how many of a run's orders it gets and the plays
// they are drawn from. The suite iterates the simulators, so a vendor
// joins the runs by declaring this in its Entry.
type Chaos struct {
	// Share is the vendor's part of a run's orders, relative to the other
	// vendors' shares (they are percents today, adding up to 100). A slow
	// vendor gets less: txcloud allows 1 request/s, the others 5 to 10.
	Share int
	// Plays are every way the vendor's orders are set up; each play is
	// drawn at least once a run, the rest by weight. The order matters: a
	// run's seed picks plays by their place in this list.
	Plays []Play
}

// Play is one way a chaos order is set up: what it asks of the operator,
// the vendor words its vendor order is seeded in (one picked at random),
// the desired state, and how often it is picked.
type Play struct {
	Kind  PlayKind
	Words []string
	// Desired is the VerificationOrder's spec.state: active, canceled or
	// closed.
	Desired providers.State
	Weight  int
}

// PlayKind is what a chaos order asks of the operator, and so how it must
// end; test/chaos checks each end against the simulator.
type PlayKind string

// The kinds of play.
const (
	// PlayCancel and PlayClose want the vendor order canceled or closed.
	PlayCancel PlayKind = "cancel"
	PlayClose  PlayKind = "close"
	// PlayReverify reverifies a completed request once (the simulator
	// records reverifications).
	PlayReverify PlayKind = "reverify"
	// PlayActive only watches; PlayAlreadyThere wants the state the vendor
	// order is already in. Neither may cause a mutating call.
	PlayActive       PlayKind = "active"
	PlayAlreadyThere PlayKind = "already-there"
	// PlayObserveOnly wants a change under managementPolicy ObserveOnly,
	// PlayPaused under the paused annotation: no mutating call, and for
	// paused no call at all.
	PlayObserveOnly PlayKind = "observe-only"
	PlayPaused      PlayKind = "paused"
	// PlayDeleteCancel and PlayDeleteOrphan are deleted while the run goes,
	// with deletionPolicy Cancel and Orphan.
	PlayDeleteCancel PlayKind = "delete-cancel"
	PlayDeleteOrphan PlayKind = "delete-orphan"
	// The requests no vendor state can satisfy: each must end Stalled with
	// its reason (AlreadyTerminal, UnsupportedState, IllegalTransition),
	// and that reason must be true at the vendor.
	PlayAlreadyTerminal PlayKind = "already-terminal"
	PlayUnsupported     PlayKind = "unsupported"
	PlayIllegal         PlayKind = "illegal-transition"
)
