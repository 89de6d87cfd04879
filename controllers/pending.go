package controllers

import (
	"cmp"
	"context"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// pendingDelay is how long after the controller's first look a new order
// may stay without conditions. kstatus (Flux, cli-utils) reads an object
// without conditions as Current, so a new order must not stay without them
// while its vendor calls are slow or it waits for its account's budget.
// Most new orders have their result well within it, and for them the
// result is the first and only status write: a Pending write before it
// would be one write in two.
const pendingDelay = time.Second

// pendingWrite is a new order's Ready=False/Reconciling=True write, due
// pendingDelay after the controller's first look at it, unless a status
// write comes first and says it instead (settle).
type pendingWrite struct {
	timer *time.Timer
	done  chan struct{}
	// from is the resourceVersion the write starts from; landed, the one it
	// made (empty when it failed).
	from, landed string
}

// pendingWrites are the Pending writes not yet settled, by order. A write
// may land between reconciles, or race the one reconcile of its order that
// runs at a time; settle ends the race.
type pendingWrites struct {
	// delay is pendingDelay, but in tests.
	delay time.Duration
	mu    sync.Mutex
	m     map[types.NamespacedName]*pendingWrite
}

// arm starts o's Pending write, unless one is under way.
func (s *pendingWrites) arm(o *v1.VerificationOrder, write func(*v1.VerificationOrder) error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := objectKey(o)
	if _, ok := s.m[key]; ok {
		return
	}
	if s.m == nil {
		s.m = map[types.NamespacedName]*pendingWrite{}
	}
	p := &pendingWrite{done: make(chan struct{}), from: o.ResourceVersion}
	pending := o.DeepCopy()
	p.timer = time.AfterFunc(cmp.Or(s.delay, pendingDelay), func() {
		defer close(p.done)
		markPending(pending)
		if write(pending) == nil {
			p.landed = pending.ResourceVersion
		}
	})
	s.m[key] = p
}

// settle ends o's Pending write: it stops the write if it has not started,
// or waits for it to end. When it landed on the version o holds, o takes on
// the resourceVersion it made, so that o's next write follows it.
func (s *pendingWrites) settle(o *v1.VerificationOrder) {
	s.mu.Lock()
	p, ok := s.m[objectKey(o)]
	s.drop(objectKey(o))
	s.mu.Unlock()
	if !ok || p.timer.Stop() {
		return
	}
	<-p.done
	if p.landed != "" && o.ResourceVersion == p.from {
		o.ResourceVersion = p.landed
	}
}

// forget drops the Pending write of an order that is gone.
func (s *pendingWrites) forget(key types.NamespacedName) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.m[key]; ok {
		p.timer.Stop()
		s.drop(key)
	}
}

// drop deletes key; an empty map is let go, since a map never shrinks and
// a burst of new orders would otherwise hold its size for good.
func (s *pendingWrites) drop(key types.NamespacedName) {
	delete(s.m, key)
	if len(s.m) == 0 {
		s.m = nil
	}
}

// markReconcilingSoon arranges the Pending write of an order that has no
// conditions yet (see pendingDelay). Every status write of an order goes
// through updateStatus, which settles it first.
func (r *VerificationOrderReconciler) markReconcilingSoon(o *v1.VerificationOrder) {
	if !needsPending(o) {
		return
	}
	r.pending.arm(o, func(pending *v1.VerificationOrder) error {
		ctx, cancel := context.WithTimeout(context.Background(), vendorTimeout)
		defer cancel()
		return r.Status().Update(ctx, pending)
	})
}

// updateStatus is every status write of an order: it settles the order's
// Pending write first, and says Pending itself when o has no conditions yet
// (an intent written before the first vendor action), since a write
// replaces the whole status.
func (r *VerificationOrderReconciler) updateStatus(ctx context.Context, o *v1.VerificationOrder) error {
	r.pending.settle(o)
	if needsPending(o) {
		markPending(o)
	}
	return r.Status().Update(ctx, o)
}

// needsPending: o has no conditions, and is not paused (a paused order
// says so in its own conditions when it is reconciled).
func needsPending(o *v1.VerificationOrder) bool {
	return len(o.Status.Conditions) == 0 && !isPaused(o)
}

func markPending(o *v1.VerificationOrder) {
	setConditions(o, outcome{phase: phaseProgressing, reason: v1.ReasonPending,
		message: "The controller is looking at the order at the vendor."}, o.Generation)
}
