// Package budget spends each vendor account's request budget without
// making anyone wait. An order that may not call the vendor now is given a
// reservation and told when it is due, so the worker serves another order
// meanwhile; one account's backlog never holds a worker, and so never delays
// another account's orders.
//
// A Budget also keeps routine polls within a share of the account's rate,
// so that a person's change always has headroom, and pauses the whole
// account when the vendor says it is rate limited.
//
// Every read of time, and every wait, goes through the Registry's clock, so
// that one fake clock drives a whole budget in tests.
package budget

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	"github.com/ordersync/verification-operator/providers"
)

// Limits are one account's budget.
type Limits struct {
	// RequestsPerSecond and Burst are the client-side token bucket.
	RequestsPerSecond float64
	Burst             int
	// PollShare is the part of RequestsPerSecond routine polls may use on
	// average, in (0, 1]; the poll interval stretches to fit it.
	PollShare float64
	// RequestsPerDay is the account's daily quota; zero means none.
	RequestsPerDay int
	// MaxInFlight caps the account's calls in flight at once (inflight.go).
	MaxInFlight int
}

// daily is the token bucket that keeps an account within RequestsPerDay:
// a burst of a twentieth of the quota, refilled so that burst and refill
// together stay within margin of the quota in any 24 hours. A restart
// starts a full bucket, so each one may spend up to a twentieth more;
// txcloud's own daily limit answers 429, which pauses the account.
func (l Limits) daily() (perSecond rate.Limit, burst int) {
	q := float64(l.RequestsPerDay)
	burst = max(1, l.RequestsPerDay/20)
	return rate.Limit(max(q*margin-float64(burst), q*0.01) / day.Seconds()), burst
}

const day = 24 * time.Hour

// margin keeps the client's bucket a little slower than the vendor's, and
// its burst half the vendor's, so that the vendor's own bucket always has
// slack: calls released on time can still reach the vendor bunched up
// (scheduling and network jitter), and must not meet an empty bucket.
const margin = 0.97

// clientBurst is the burst the client allows itself of the vendor's.
func clientBurst(vendorBurst int) int { return max(1, (vendorBurst+1)/2) }

// Budget is one vendor account's request budget, shared by every order that
// calls the account, whichever provider object names it.
type Budget struct {
	// clock is the registry's: the budget's one source of time.
	clock   clock.Clock
	mu      sync.Mutex
	limits  Limits
	limiter *rate.Limiter
	// daily keeps the account within its daily quota; nil without one.
	daily *rate.Limiter
	// sent is the calls that went, at the times they went: the same bucket
	// as limiter, so that calls released late never go out bunched.
	sent *rate.Limiter
	// pausedUntil: the vendor said 429 with a Retry-After.
	pausedUntil time.Time
	// held are calls reserved for orders, by when each is due.
	held map[types.NamespacedName]time.Time
	// polled are the orders that are polled routinely (not terminal).
	polled map[types.NamespacedName]struct{}
	// reported is when Polled last said the count is worth reporting;
	// changed is when the count last changed.
	reported, changed time.Time
	// inFlight is how many calls are in flight (Begin, End); waiting are
	// the orders that found none free, first come first.
	inFlight int
	waiting  []types.NamespacedName
}

func newBudget(l Limits, clk clock.Clock) *Budget {
	l = l.Normalized()
	b := &Budget{clock: clk, limits: l, limiter: rate.NewLimiter(rate.Limit(l.RequestsPerSecond*margin), clientBurst(l.Burst)), // starts full
		sent:   rate.NewLimiter(rate.Limit(l.RequestsPerSecond*margin), clientBurst(l.Burst)),
		polled: map[types.NamespacedName]struct{}{}}
	b.setDaily(l)
	return b
}

func (b *Budget) setDaily(l Limits) {
	switch perSecond, burst := l.daily(); {
	case l.RequestsPerDay <= 0:
		b.daily = nil
	case b.daily == nil:
		b.daily = rate.NewLimiter(perSecond, burst)
	default:
		b.daily.SetLimit(perSecond)
		b.daily.SetBurst(burst)
	}
}

// Normalized fills in the defaults of the fields left unset (or out of
// range), as every budget does: limits that leave a field unset and limits
// that set its default are the same limits.
func (l Limits) Normalized() Limits {
	l.Burst = max(l.Burst, 1)
	if l.MaxInFlight <= 0 {
		l.MaxInFlight = providers.DefaultMaxInFlight
	}
	if l.PollShare <= 0 || l.PollShare > 1 {
		l.PollShare = DefaultPollShare
	}
	return l
}

func (b *Budget) setLimits(l Limits) {
	b.limits = l
	b.limiter.SetLimit(rate.Limit(l.RequestsPerSecond * margin))
	b.limiter.SetBurst(clientBurst(l.Burst))
	b.sent.SetLimit(rate.Limit(l.RequestsPerSecond * margin))
	b.sent.SetBurst(clientBurst(l.Burst))
	b.setDaily(l)
}

// DefaultPollShare is the part of an account's rate routine polls may use.
const DefaultPollShare = 0.5

// Take spends one call for order now. It returns zero when the order may
// call now. Otherwise the call is reserved for the order and Take returns
// how long until it is due: the order should come back then, when Take
// returns zero at once. Reservations are served in the order they were
// made, so no order starves.
func (b *Budget) Take(order types.NamespacedName) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	if due, ok := b.held[order]; ok {
		if due.After(now) {
			return due.Sub(now)
		}
		if !now.Before(b.pausedUntil) {
			return b.send(order, now) // the reserved call is due
		}
		// The account was paused after the reservation was made: reserve
		// again, after the pause.
		b.unhold(order)
	}
	due := b.reserve(now).due
	b.hold(order, due)
	if !due.After(now) {
		return b.send(order, now)
	}
	return due.Sub(now)
}

// send lets order's due call go now, or says how long to wait so that the
// calls that go never bunch: orders whose calls came due while the workers
// were busy come back together, late, and would all go at once. The
// reservation stays held meanwhile, so nothing more is taken from the
// budget.
func (b *Budget) send(order types.NamespacedName, now time.Time) time.Duration {
	r := b.sent.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return wait
	}
	b.unhold(order)
	return 0
}

// hold keeps order's reservation, due then. b.mu is held.
func (b *Budget) hold(order types.NamespacedName, due time.Time) {
	if b.held == nil {
		b.held = map[types.NamespacedName]time.Time{}
	}
	b.held[order] = due
}

// unhold drops order's reservation. b.mu is held. An emptied map is let
// go: a map never shrinks, and the burst of a few thousand new orders
// would hold its peak size for good (1.5 MB over 100 accounts after
// 10,000 orders, the memory bench's heap profile).
func (b *Budget) unhold(order types.NamespacedName) {
	delete(b.held, order)
	if len(b.held) == 0 {
		b.held = nil
	}
}

// booking is one call reserved from the account's buckets: when it is due,
// and the reservations that give it back if it is not made.
type booking struct {
	due         time.Time
	rate, daily *rate.Reservation // daily is nil without a quota
}

// reserve spends the account's next call and returns when it is due: after
// any pause, within the rate and the daily quota. b.mu is held.
func (b *Budget) reserve(now time.Time) booking {
	from := now
	if from.Before(b.pausedUntil) {
		from = b.pausedUntil
	}
	bk := booking{rate: b.limiter.ReserveN(from, 1)}
	bk.due = from.Add(bk.rate.DelayFrom(from))
	if b.daily != nil {
		bk.daily = b.daily.ReserveN(from, 1)
		if quota := from.Add(bk.daily.DelayFrom(from)); quota.After(bk.due) {
			bk.due = quota
		}
	}
	return bk
}

// giveBack returns a booking whose call will not be made, so that the
// calls booked after it are not delayed by a call that never went. The
// buckets restore only what was not due yet, and only as far as later
// bookings allow.
func (b *Budget) giveBack(bk booking) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	bk.rate.CancelAt(now)
	if bk.daily != nil {
		bk.daily.CancelAt(now)
	}
}

// Pacer is called right before each vendor call of one operation. Every
// call is refused with ErrPaused while the account is paused (a call paid
// for before a 429 arrived, then delayed by a status write, must not go
// out in disregard of it). The first free calls were paid for by Take;
// each further one is paid for here, waiting until it is due: the one
// place a worker waits on the budget, for the calls of an operation that
// must run to its end in one reconcile (the read that settles a refused
// cancel, the pages of a search for a reverification in doubt), which
// Take's reservations would otherwise starve.
func (b *Budget) Pacer(free int) func(context.Context) error {
	var calls atomic.Int32
	return func(ctx context.Context) error {
		if int(calls.Add(1)) > free {
			if err := b.pay(ctx); err != nil {
				return err
			}
		}
		return b.refuseWhilePaused()
	}
}

// pay books one call and waits until it is due, then until it may go
// without bunching. If ctx ends while the booking is not due yet, the
// booking is given back: the call will not be made, and must not delay
// the calls booked after it.
func (b *Budget) pay(ctx context.Context) error {
	b.mu.Lock()
	now := b.clock.Now()
	bk := b.reserve(now)
	b.mu.Unlock()
	if err := b.sleep(ctx, bk.due.Sub(now)); err != nil {
		b.giveBack(bk)
		return err
	}
	return b.awaitSend(ctx)
}

// awaitSend waits until a paid call may go out, and counts it in sent when
// it goes, not when it was paid for: sent must see the calls at the times
// they go out.
func (b *Budget) awaitSend(ctx context.Context) error {
	for {
		wait := b.trySend()
		if wait <= 0 {
			return nil
		}
		if err := b.sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// trySend counts one call in sent now and returns zero, or returns how long
// until sent has room for it, counting nothing.
func (b *Budget) trySend() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	r := b.sent.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait > 0 {
		r.CancelAt(now)
	}
	return wait
}

// refuseWhilePaused is ErrPaused while the vendor's Retry-After holds the
// account.
func (b *Budget) refuseWhilePaused() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until := b.pausedUntil; b.clock.Now().Before(until) {
		return ErrPaused{Until: until}
	}
	return nil
}

// sleep waits d on the budget's clock, or until ctx ends. A wait of zero
// returns at once, even when ctx has ended: nothing was waited for.
func (b *Budget) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := b.clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C():
		return nil
	}
}

// ErrPaused is the refusal of a call while the vendor has asked the account
// to wait, until Until.
type ErrPaused struct{ Until time.Time }

// PausedUntil tells vendorhttp the call was not sent and when it may be.
func (e ErrPaused) PausedUntil() time.Time { return e.Until }

func (e ErrPaused) Error() string {
	return "the account is paused until " + e.Until.UTC().Format(time.RFC3339) + " at the vendor's request"
}

// Pause stops every call of the account until until: the vendor answered
// 429, and its Retry-After applies to the account, not only to one order.
func (b *Budget) Pause(until time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if until.After(b.pausedUntil) {
		b.pausedUntil = until
	}
}

// Forget drops what the budget keeps about an order that is gone. A call
// in flight kept for it goes to the next in line, named as Leave names it.
func (b *Budget) Forget(order types.NamespacedName) (next types.NamespacedName, ok bool) {
	b.mu.Lock()
	b.unhold(order)
	delete(b.polled, order)
	b.mu.Unlock()
	return b.Leave(order)
}

// Polled records whether order is polled routinely (it is not terminal).
// report is true when the count changed and was last reported more than
// ReportEvery ago: the provider's status is worth refreshing.
func (b *Budget) Polled(order types.NamespacedName, polled bool) (report bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	_, was := b.polled[order]
	if polled {
		b.polled[order] = struct{}{}
	} else {
		delete(b.polled, order)
	}
	if was == polled {
		return false
	}
	b.changed = now
	if now.Sub(b.reported) < ReportEvery {
		return false // the report before asked to look again (Settling)
	}
	b.reported = now
	return true
}

// ReportEvery spaces the refreshes of a provider's status while its
// account's polled orders change.
const ReportEvery = 5 * time.Second

// PollInterval is how often each polled order may be observed: the
// configured interval, stretched so that all polls together use at most
// PollShare of the account's rate.
func (b *Budget) PollInterval(configured time.Duration) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	return stretch(configured, len(b.polled), b.limits)
}

// Orders is how many orders are polled routinely.
func (b *Budget) Orders() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.polled)
}

// Settling says whether the count changed within ReportEvery, so a report
// made now may miss changes that Polled did not report; look again after
// ReportEvery.
func (b *Budget) Settling() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.clock.Since(b.changed) < ReportEvery
}

// Load is what an account's budget holds at a moment, for metrics.
type Load struct {
	// Queued is how many calls are reserved and waiting for a token.
	Queued int
	// Wait is how far ahead the budget is booked: how long a call asked
	// for now would wait, at least. Zero when a call could go now.
	Wait time.Duration
	// Paused says the vendor's Retry-After holds the whole account.
	Paused bool
}

// Load reports the budget now.
func (b *Budget) Load() Load {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.clock.Now()
	l := Load{Paused: now.Before(b.pausedUntil)}
	if l.Paused {
		l.Wait = b.pausedUntil.Sub(now)
	}
	for _, due := range b.held {
		if due.After(now) {
			l.Queued++
			l.Wait = max(l.Wait, due.Sub(now))
		}
	}
	return l
}

// QuotaBound says whether the daily quota, not the rate, is what limits
// the account's polls.
func (b *Budget) QuotaBound() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	perDay, _ := b.limits.daily()
	return b.limits.RequestsPerDay > 0 && float64(perDay) < b.limits.RequestsPerSecond*margin
}

func stretch(configured time.Duration, orders int, l Limits) time.Duration {
	pollRate := l.RequestsPerSecond * margin
	if l.RequestsPerDay > 0 {
		perDay, _ := l.daily()
		pollRate = min(pollRate, float64(perDay))
	}
	pollRate *= l.PollShare
	if pollRate <= 0 {
		return configured
	}
	needed := time.Duration(float64(orders) / pollRate * float64(time.Second))
	return max(configured, needed)
}

// Registry holds one Budget per vendor account.
type Registry struct {
	// Clock is what every budget of the registry reads the time from and
	// waits on; nil means the real clock. Set it before the first For.
	Clock clock.WithTicker

	mu      sync.Mutex
	budgets map[string]*Budget
}

// Time is the registry's clock, the real one unless Clock is set: for
// callers that wait on the same clock the budgets do.
func (r *Registry) Time() clock.WithTicker {
	if r.Clock == nil {
		return clock.RealClock{}
	}
	return r.Clock
}

// For returns the account's budget, with its limits brought up to date.
func (r *Registry) For(account string, l Limits) *Budget {
	l = l.Normalized()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.budgets == nil {
		r.budgets = map[string]*Budget{}
	}
	b := r.budgets[account]
	if b == nil {
		b = newBudget(l, r.Time())
		r.budgets[account] = b
		return b
	}
	b.mu.Lock()
	if b.limits != l {
		b.setLimits(l)
	}
	b.mu.Unlock()
	return b
}

// Get returns the account's budget if there is one.
func (r *Registry) Get(account string) (*Budget, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.budgets[account]
	return b, ok
}

// ForgetOrder drops what every budget keeps about an order that is gone,
// and returns the orders to wake: each first in line for a call in flight
// that was kept for the order.
func (r *Registry) ForgetOrder(order types.NamespacedName) (wake []types.NamespacedName) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.budgets {
		if next, ok := b.Forget(order); ok {
			wake = append(wake, next)
		}
	}
	return wake
}
