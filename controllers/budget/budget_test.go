package budget

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/ordersync/verification-operator/providers"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// newRegistry is a registry whose budgets all run on one fake clock,
// stopped at t0: time moves only when a test steps it.
func newRegistry() (*Registry, *clocktesting.FakeClock) {
	fc := clocktesting.NewFakeClock(t0)
	return &Registry{Clock: fc}, fc
}

// at sets the fake clock to t0+d.
func at(fc *clocktesting.FakeClock, d time.Duration) { fc.SetTime(t0.Add(d)) }

func order(i int) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("o-%d", i)}
}

// tenPerSecond is Truework's published limit.
var tenPerSecond = Limits{RequestsPerSecond: 10, Burst: 10}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// near fails unless got is want to within a millisecond (the buckets' float
// arithmetic rounds).
func near(t *testing.T, what string, got, want time.Duration) {
	t.Helper()
	if got < want-time.Millisecond || got > want+time.Millisecond {
		t.Errorf("%s: %s, want %s", what, got, want)
	}
}

func TestRegistryClock(t *testing.T) {
	if got := (&Registry{}).Time(); got != (clock.RealClock{}) {
		t.Errorf("a registry without a clock uses %T, want the real clock", got)
	}
	r, fc := newRegistry()
	if !r.Time().Now().Equal(t0) {
		t.Errorf("Now is %s, want the fake clock's %s", r.Time().Now(), t0)
	}
	fc.Step(time.Hour)
	if !r.Time().Now().Equal(t0.Add(time.Hour)) {
		t.Errorf("Now is %s after a step of 1h, want %s", r.Time().Now(), t0.Add(time.Hour))
	}
	if b := r.For("truework|key", tenPerSecond); b.clock != clock.Clock(fc) {
		t.Error("a budget must keep its registry's clock")
	}
}

func TestTakeNeverWaitsAndReservesInOrder(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key-a", tenPerSecond)
	// Half the vendor's burst goes at once (the vendor keeps the rest as
	// slack for jitter).
	for i := range 5 {
		if d := b.Take(order(i)); d != 0 {
			t.Fatalf("call %d within the burst must go now, got a wait of %s", i, d)
		}
	}
	// Then each order is told when its call is due, one interval apart,
	// in the order they asked.
	var last time.Duration
	for i := 5; i < 15; i++ {
		d := b.Take(order(i))
		if d <= last {
			t.Fatalf("order %d due after %s, not after the previous one's %s", i, d, last)
		}
		last = d
	}
	near(t, "the 10th reservation is due after", last, seconds(10/(10*margin)))
	// Coming back early changes nothing; coming back when due calls at once.
	at(fc, 100*time.Millisecond)
	if early := b.Take(order(14)); early <= 0 {
		t.Errorf("an order that comes back early must wait for its reservation")
	}
	at(fc, 2*time.Second)
	if d := b.Take(order(14)); d != 0 {
		t.Errorf("a due reservation must call at once, got %s", d)
	}
}

func TestANewBudgetStartsWithItsBurst(t *testing.T) {
	r, _ := newRegistry()
	b := r.For("txcloud|key", Limits{RequestsPerSecond: 1, Burst: 6})
	for i := range 3 {
		if d := b.Take(order(i)); d != 0 {
			t.Fatalf("call %d of a fresh burst of 3 (half of 6) waits %s", i, d)
		}
	}
	if d := b.Take(order(3)); d == 0 {
		t.Fatal("the 4th call must wait")
	}
}

func TestAccountsAreIndependent(t *testing.T) {
	r, _ := newRegistry()
	busy := r.For("truework|key-a", tenPerSecond)
	for i := range 600 {
		busy.Take(order(i)) // a backlog of 600 at one account
	}
	idle := r.For("accountchek|key-b", tenPerSecond)
	for i := range 5 {
		if d := idle.Take(order(1000 + i)); d != 0 {
			t.Fatalf("another account's backlog delayed order %d by %s", i, d)
		}
	}
	if same := r.For("truework|key-a", tenPerSecond); same != busy {
		t.Error("two providers of one account must share one budget")
	}
}

func TestPauseAppliesToTheWholeAccount(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("txcloud|key", tenPerSecond)
	if d := b.Take(order(1)); d != 0 { // within the burst: goes now
		t.Fatal("first call must go")
	}
	for i := range 4 {
		b.Take(order(100 + i)) // empty the burst
	}
	due := b.Take(order(2)) // reserved before the pause
	b.Pause(t0.Add(30 * time.Second))
	at(fc, due)
	if d := b.Take(order(2)); d < 30*time.Second-due {
		t.Errorf("a reservation due during the pause must move after it, waits %s", d)
	}
	at(fc, time.Second)
	if d := b.Take(order(3)); d < 29*time.Second {
		t.Errorf("a new call during the pause must wait for it to end, waits %s", d)
	}
	b.Pause(t0.Add(10 * time.Second)) // a shorter pause does not shorten it
	at(fc, 20*time.Second)
	if d := b.Take(order(4)); d < 10*time.Second {
		t.Errorf("the longer pause must hold, waits %s", d)
	}
}

func TestPollIntervalStretchesToTheShare(t *testing.T) {
	r, _ := newRegistry()
	b := r.For("truework|key", tenPerSecond) // polls may use 5 rps (x margin)
	for i := range 100 {
		b.Polled(order(i), true)
	}
	if got := b.PollInterval(5 * time.Minute); got != 5*time.Minute {
		t.Errorf("100 orders every 5m fit the share: got %s", got)
	}
	for i := range 10000 {
		b.Polled(order(i), true)
	}
	got := b.PollInterval(5 * time.Minute)
	want := seconds(10000 / (10 * margin * DefaultPollShare))
	if got != want {
		t.Errorf("10,000 orders: poll interval %s, want %s (polls within half the budget)", got, want)
	}
	b.Polled(order(0), false)
	b.Forget(order(1))
	if n := b.Orders(); n != 9998 {
		t.Errorf("orders %d, want 9998", n)
	}
	custom := r.For("truv|key", Limits{RequestsPerSecond: 10, Burst: 10, PollShare: 1})
	for i := range 10000 {
		custom.Polled(order(i), true)
	}
	if got := custom.PollInterval(time.Minute); got >= want {
		t.Errorf("a larger poll share must stretch less: %s", got)
	}
}

func TestPolledReportsChangesNowAndThen(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truv|key", tenPerSecond)
	if !b.Polled(order(1), true) {
		t.Error("the first polled order is worth reporting")
	}
	at(fc, time.Second)
	if b.Polled(order(2), true) {
		t.Error("a change within ReportEvery of the last report is not")
	}
	if !b.Settling() {
		t.Error("right after an unreported change the count is settling")
	}
	at(fc, time.Second+ReportEvery)
	if b.Settling() {
		t.Error("ReportEvery after the last change it has settled")
	}
	at(fc, time.Minute)
	if b.Polled(order(2), true) {
		t.Error("no change is not worth reporting")
	}
	if !b.Polled(order(3), true) {
		t.Error("a change after ReportEvery is")
	}
}

func TestLoadReportsQueueWaitAndPause(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key-l", tenPerSecond)
	if got := b.Load(); got != (Load{}) {
		t.Fatalf("an idle budget reports %+v, want nothing", got)
	}
	for i := range 8 { // 5 go now, 3 are reserved
		b.Take(order(i))
	}
	got := b.Load()
	if got.Queued != 3 || got.Paused {
		t.Errorf("after 8 takes of a burst of 5: %+v, want 3 queued, not paused", got)
	}
	near(t, "booked ahead by", got.Wait, seconds(3/(10*margin)))
	b.Pause(t0.Add(time.Minute))
	if got := b.Load(); !got.Paused || got.Wait != time.Minute {
		t.Errorf("paused for a minute: %+v, want paused with a wait of 1m", got)
	}
	at(fc, 2*time.Minute)
	if got := b.Load(); got != (Load{}) {
		t.Errorf("once every reservation is due and the pause over: %+v, want nothing", got)
	}
}

// txcloudFree is txcloud's Free plan: 60 calls a minute, 1,000 a day.
var txcloudFree = Limits{RequestsPerSecond: 1, Burst: 10, RequestsPerDay: 1000}

func TestDailyQuotaHoldsOverAnyDay(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("txcloud|key", txcloudFree)
	// One order calls as soon as the budget lets it, for two days.
	var calls []time.Time
	for fc.Now().Before(t0.Add(2 * day)) {
		if d := b.Take(order(1)); d > 0 {
			fc.Step(d)
			continue
		}
		calls = append(calls, fc.Now())
	}
	most := 0
	for i, start := range calls {
		n := 0
		for _, c := range calls[i:] {
			if c.Sub(start) >= day {
				break
			}
			n++
		}
		most = max(most, n)
	}
	// Within the quota in any 24 hours, yet not far below it.
	if most > txcloudFree.RequestsPerDay || most < txcloudFree.RequestsPerDay*95/100 {
		t.Errorf("at most %d calls in any 24 hours, want between 950 and 1000", most)
	}
	// The rate still holds within the day: the burst goes at once, then
	// about one call a second.
	if gap := calls[60].Sub(calls[0]); gap < 50*time.Second {
		t.Errorf("61 calls within %s: the per-second rate was not kept", gap)
	}
}

func TestPollsStretchToFitTheDailyQuota(t *testing.T) {
	r, _ := newRegistry()
	quota := r.For("txcloud|key", txcloudFree)
	rateOnly := r.For("txcloud|other", Limits{RequestsPerSecond: 1, Burst: 10})
	for i := range 100 {
		quota.Polled(order(i), true)
		rateOnly.Polled(order(i), true)
	}
	if got := rateOnly.PollInterval(5 * time.Minute); got != 5*time.Minute || rateOnly.QuotaBound() {
		t.Errorf("without a quota, 100 orders at 1/s poll every %s (quota bound %v), want 5m", got, rateOnly.QuotaBound())
	}
	// Half of the day's quota (the poll share) over 100 orders: each is
	// polled about every 5 hours, so the polls of a day stay within it.
	got := quota.PollInterval(5 * time.Minute)
	if perDay := 100 * day.Seconds() / got.Seconds(); perDay > 500 || perDay < 450 || !quota.QuotaBound() {
		t.Errorf("100 orders polled every %s make %.0f polls a day (quota bound %v), want 450 to 500 of the 1,000", got, perDay, quota.QuotaBound())
	}
}

func TestLateReservationsDoNotBunch(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key", tenPerSecond) // a client burst of 5
	for i := range 15 {
		b.Take(order(i)) // 5 go, 10 are reserved a slot each
	}
	// The 10 come back together long after their slots (busy workers):
	// no more go at once than the burst allows.
	at(fc, 5*time.Second)
	went := 0
	for i := 5; i < 15; i++ {
		if b.Take(order(i)) == 0 {
			went++
		}
	}
	if went > 5 {
		t.Errorf("%d late reservations went at once, more than the burst of 5", went)
	}
	// One on time still goes at once.
	b.Take(order(100))
	due := b.Take(order(101))
	fc.Step(due)
	if d := b.Take(order(101)); d != 0 {
		t.Errorf("a reservation taken on time waits %s more", d)
	}
}

// oneGoesAtOnce is a budget whose client burst is 2 and whose calls are
// then due one interval apart.
var oneGoesAtOnce = Limits{RequestsPerSecond: 1, Burst: 4}

// interval is the time between two calls of oneGoesAtOnce.
var interval = seconds(1 / margin)

func TestPacerPaysAfterTheFreeCalls(t *testing.T) {
	r, _ := newRegistry()
	b := r.For("truework|key", oneGoesAtOnce)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	pace := b.Pacer(1)
	// The first call is free (Take paid for it); the next two spend the
	// burst at once; the fourth would have to wait, and ctx has ended.
	for i := range 3 {
		if err := pace(canceled); err != nil {
			t.Fatalf("call %d: %v, want it paid at once", i, err)
		}
	}
	if err := pace(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("a call beyond the burst went without waiting: %v", err)
	}
	if d := b.Take(order(1)); d <= 0 {
		t.Error("the pacer's calls were not taken from the budget Take spends")
	}
}

func TestPacerRefusesWhilePaused(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key", tenPerSecond)
	b.Pause(t0.Add(time.Hour))
	var paused ErrPaused
	if err := b.Pacer(1)(context.Background()); !errors.As(err, &paused) || !paused.Until.Equal(t0.Add(time.Hour)) {
		t.Fatalf("a call paid for before the pause went during it: %v", err)
	}
	at(fc, time.Hour)
	if err := b.Pacer(1)(context.Background()); err != nil {
		t.Fatalf("once the pause is over the call goes: %v", err)
	}
}

// pacing is one call of a pacer, running in its own goroutine.
type pacing struct{ done chan error }

func startPacing(ctx context.Context, pace func(context.Context) error) pacing {
	p := pacing{done: make(chan error, 1)}
	go func() { p.done <- pace(ctx) }()
	return p
}

// waiting says whether the call is still waiting; it never waits itself.
func (p pacing) waiting() bool {
	select {
	case err := <-p.done:
		p.done <- err // keep it for result
		return false
	default:
		return true
	}
}

// result waits for the call to end: the clock has been stepped past what
// it waits for, so it ends without any more time passing.
func (p pacing) result() error { return <-p.done }

// blocked returns once the call is blocked on fc, waiting for it: stepping
// fc before then would leave the call's timer unfired. It returns too when
// the call ended without waiting, which the caller then sees as a failure
// rather than a hang.
func (p pacing) blocked(fc *clocktesting.FakeClock) {
	for !fc.HasWaiters() && p.waiting() {
		runtime.Gosched()
	}
}

func TestPacerWaitsOnTheClockUntilTheCallIsDue(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key", oneGoesAtOnce)
	pace := b.Pacer(0)
	for i := range 2 { // the client burst
		if err := pace(context.Background()); err != nil {
			t.Fatalf("call %d of the burst: %v", i, err)
		}
	}
	call := startPacing(context.Background(), pace)
	call.blocked(fc)
	fc.Step(interval - time.Millisecond)
	if !call.waiting() || !fc.HasWaiters() {
		t.Fatal("the third call went before it was due")
	}
	fc.Step(2 * time.Millisecond)
	if err := call.result(); err != nil {
		t.Fatalf("the call that came due: %v", err)
	}
	if fc.HasWaiters() {
		t.Error("the pacer left a timer behind")
	}
}

func TestPacerWaitsOutThePause(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key", tenPerSecond)
	b.Pause(t0.Add(time.Minute))
	call := startPacing(context.Background(), b.Pacer(0))
	call.blocked(fc)
	fc.Step(time.Minute - time.Millisecond)
	if !call.waiting() {
		t.Fatal("a call paid for during the pause went before it ended")
	}
	fc.Step(time.Millisecond)
	if err := call.result(); err != nil {
		t.Fatalf("the call due when the pause ended: %v", err)
	}
}

func TestPacerCountsItsCallWhenItGoes(t *testing.T) {
	r, fc := newRegistry()
	b := r.For("truework|key", tenPerSecond) // a client burst of 5
	for i := range 10 {
		b.Take(order(i)) // 5 go, 5 are reserved
	}
	// The 5 reserved come back late, together, and go: the bucket of
	// calls sent is empty though the rate's has refilled.
	at(fc, time.Second)
	for i := 5; i < 10; i++ {
		if d := b.Take(order(i)); d != 0 {
			t.Fatalf("late reservation %d waits %s, want it to go", i, d)
		}
	}
	call := startPacing(context.Background(), b.Pacer(0))
	call.blocked(fc)
	if !call.waiting() {
		t.Fatal("a paid call went out bunched with the late ones")
	}
	fc.Step(seconds(1 / (10 * margin)))
	if err := call.result(); err != nil {
		t.Fatalf("the paid call, once sent has room: %v", err)
	}
}

func TestPacerGivesBackItsBookingWhenCtxEnds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limits Limits
		// interval is the time between two booked calls.
		interval time.Duration
	}{
		{"rate", oneGoesAtOnce, interval},
		// A daily bucket of 2 (a twentieth of 40), refilled at 40 x margin
		// less the burst a day: the quota, not the rate, spaces the calls.
		{"daily quota", Limits{RequestsPerSecond: 10, Burst: 10, RequestsPerDay: 40}, seconds(day.Seconds() / (40*margin - 2))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, fc := newRegistry()
			b := r.For("truework|key", tc.limits)
			pace := b.Pacer(0)
			for i := range 2 { // the burst
				if err := pace(context.Background()); err != nil {
					t.Fatalf("call %d of the burst: %v", i, err)
				}
			}
			ctx, cancel := context.WithCancel(context.Background())
			call := startPacing(ctx, pace)
			call.blocked(fc)
			cancel()
			if err := call.result(); !errors.Is(err, context.Canceled) {
				t.Fatalf("a call whose ctx ended while it waited: %v, want context.Canceled", err)
			}
			// Its booking was given back: the next call is due one
			// interval from now, not two.
			near(t, "the next call is due after", b.Take(order(1)), tc.interval)
		})
	}
}

// TestInFlightCapsCallsAndWakesInOrder: calls beyond MaxInFlight wait, and
// each call that ends names the order that waited longest, which alone may
// take the freed call; a newcomer queues behind it. An order that leaves
// the line while first passes a free call on.
func TestInFlightCapsCallsAndWakesInOrder(t *testing.T) {
	var reg Registry
	b := reg.For("acct", Limits{RequestsPerSecond: 10, Burst: 10, MaxInFlight: 2})
	a, c, d, e, newcomer := named("a"), named("c"), named("d"), named("e"), named("newcomer")
	if !b.Begin(a) || !b.Begin(c) {
		t.Fatal("the first two calls must go")
	}
	if b.Begin(d) || b.Begin(e) || b.Begin(d) {
		t.Fatal("a third call in flight went")
	}
	if calls, waiting := b.InFlight(); calls != 2 || waiting != 2 {
		t.Fatalf("InFlight = %d, %d; want 2 calls, 2 waiting (d once, e)", calls, waiting)
	}
	if next, ok := b.End(); !ok || next != d {
		t.Fatalf("End named %v, %v; want d, the first in line", next, ok)
	}
	if b.Begin(newcomer) || b.Begin(e) {
		t.Fatal("the freed call went to someone other than the first in line")
	}
	if !b.Begin(d) {
		t.Fatal("the first in line could not take the freed call")
	}
	// Line: e, newcomer. a ends; e comes back needing no call.
	if next, ok := b.End(); !ok || next != e {
		t.Fatalf("End named %v, %v; want e", next, ok)
	}
	if next, ok := b.Leave(e); !ok || next != newcomer {
		t.Fatalf("Leave(e) named %v, %v; want the newcomer, next in line", next, ok)
	}
	if !b.Begin(newcomer) {
		t.Fatal("the newcomer could not take the call e left")
	}
	if next, ok := b.Leave(named("never queued")); ok {
		t.Fatalf("Leave of an order not in line named %v", next)
	}
}

// TestInFlightDefaultsToTheVendorsCap: a budget made without MaxInFlight
// allows providers.DefaultMaxInFlight calls in flight.
func TestInFlightDefaultsToTheVendorsCap(t *testing.T) {
	var reg Registry
	b := reg.For("acct", Limits{RequestsPerSecond: 10, Burst: 10})
	for i := range providers.DefaultMaxInFlight {
		if !b.Begin(order(i)) {
			t.Fatalf("call %d of %d did not go", i+1, providers.DefaultMaxInFlight)
		}
	}
	if b.Begin(named("one more")) {
		t.Fatal("a call beyond the default cap went")
	}
}

func named(name string) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: name}
}
