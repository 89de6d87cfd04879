package budget

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func order(i int) types.NamespacedName {
	return types.NamespacedName{Namespace: "ns", Name: fmt.Sprintf("o-%d", i)}
}

// tenPerSecond is Truework's published limit.
var tenPerSecond = Limits{RequestsPerSecond: 10, Burst: 10}

func TestTakeNeverWaitsAndReservesInOrder(t *testing.T) {
	var r Registry
	b := r.For("truework|key-a", tenPerSecond)
	// Half the vendor's burst goes at once (the vendor keeps the rest as
	// slack for jitter).
	for i := range 5 {
		if d := b.Take(order(i), t0); d != 0 {
			t.Fatalf("call %d within the burst must go now, got a wait of %s", i, d)
		}
	}
	// Then each order is told when its call is due, one interval apart,
	// in the order they asked.
	var last time.Duration
	for i := 5; i < 15; i++ {
		d := b.Take(order(i), t0)
		if d <= last {
			t.Fatalf("order %d due after %s, not after the previous one's %s", i, d, last)
		}
		last = d
	}
	if want := seconds(10 / (10 * margin)); last < want-time.Millisecond || last > want+time.Millisecond {
		t.Errorf("the 10th reservation is due after %s, want %s", last, want)
	}
	// Coming back early changes nothing; coming back when due calls at once.
	early := b.Take(order(14), t0.Add(100*time.Millisecond))
	if early <= 0 {
		t.Errorf("an order that comes back early must wait for its reservation")
	}
	if d := b.Take(order(14), t0.Add(2*time.Second)); d != 0 {
		t.Errorf("a due reservation must call at once, got %s", d)
	}
}

func TestANewBudgetStartsWithItsBurst(t *testing.T) {
	var r Registry
	b := r.For("txcloud|key", Limits{RequestsPerSecond: 1, Burst: 6})
	for i := range 3 {
		if d := b.Take(order(i), t0); d != 0 {
			t.Fatalf("call %d of a fresh burst of 3 (half of 6) waits %s", i, d)
		}
	}
	if d := b.Take(order(3), t0); d == 0 {
		t.Fatal("the 4th call must wait")
	}
}

func TestAccountsAreIndependent(t *testing.T) {
	var r Registry
	busy := r.For("truework|key-a", tenPerSecond)
	for i := range 600 {
		busy.Take(order(i), t0) // a backlog of 600 at one account
	}
	idle := r.For("accountchek|key-b", tenPerSecond)
	for i := range 5 {
		if d := idle.Take(order(1000+i), t0); d != 0 {
			t.Fatalf("another account's backlog delayed order %d by %s", i, d)
		}
	}
	if same := r.For("truework|key-a", tenPerSecond); same != busy {
		t.Error("two providers of one account must share one budget")
	}
}

func TestPauseAppliesToTheWholeAccount(t *testing.T) {
	var r Registry
	b := r.For("txcloud|key", tenPerSecond)
	reserved := b.Take(order(1), t0) // within the burst: goes now
	if reserved != 0 {
		t.Fatal("first call must go")
	}
	for i := range 4 {
		b.Take(order(100+i), t0) // empty the burst
	}
	due := b.Take(order(2), t0) // reserved before the pause
	b.Pause(t0.Add(30 * time.Second))
	if d := b.Take(order(3), t0.Add(time.Second)); d < 29*time.Second {
		t.Errorf("a new call during the pause must wait for it to end, waits %s", d)
	}
	if d := b.Take(order(2), t0.Add(due)); d < 29*time.Second-due {
		t.Errorf("a reservation due during the pause must move after it, waits %s", d)
	}
	b.Pause(t0.Add(10 * time.Second)) // a shorter pause does not shorten it
	if d := b.Take(order(4), t0.Add(20*time.Second)); d < 10*time.Second {
		t.Errorf("the longer pause must hold, waits %s", d)
	}
}

func TestPollIntervalStretchesToTheShare(t *testing.T) {
	var r Registry
	b := r.For("truework|key", tenPerSecond) // polls may use 5 rps (x margin)
	for i := range 100 {
		b.Polled(order(i), true, t0)
	}
	if got := b.PollInterval(5 * time.Minute); got != 5*time.Minute {
		t.Errorf("100 orders every 5m fit the share: got %s", got)
	}
	for i := range 10000 {
		b.Polled(order(i), true, t0)
	}
	got := b.PollInterval(5 * time.Minute)
	want := seconds(10000 / (10 * margin * DefaultPollShare))
	if got != want {
		t.Errorf("10,000 orders: poll interval %s, want %s (polls within half the budget)", got, want)
	}
	b.Polled(order(0), false, t0)
	b.Forget(order(1))
	if n := b.Orders(); n != 9998 {
		t.Errorf("orders %d, want 9998", n)
	}
	custom := r.For("truv|key", Limits{RequestsPerSecond: 10, Burst: 10, PollShare: 1})
	for i := range 10000 {
		custom.Polled(order(i), true, t0)
	}
	if got := custom.PollInterval(time.Minute); got >= want {
		t.Errorf("a larger poll share must stretch less: %s", got)
	}
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func TestPolledReportsChangesNowAndThen(t *testing.T) {
	var r Registry
	b := r.For("truv|key", tenPerSecond)
	if !b.Polled(order(1), true, t0) {
		t.Error("the first polled order is worth reporting")
	}
	if b.Polled(order(2), true, t0.Add(time.Second)) {
		t.Error("a change within ReportEvery of the last report is not")
	}
	if b.Polled(order(2), true, t0.Add(time.Minute)) {
		t.Error("no change is not worth reporting")
	}
	if !b.Settling(t0.Add(time.Second)) {
		t.Error("right after an unreported change the count is settling")
	}
	if b.Settling(t0.Add(time.Minute)) {
		t.Error("a minute later it has settled")
	}
	if !b.Polled(order(3), true, t0.Add(time.Minute)) {
		t.Error("a change after ReportEvery is")
	}
}

func TestLoadReportsQueueWaitAndPause(t *testing.T) {
	var r Registry
	b := r.For("truework|key-l", tenPerSecond)
	if got := b.Load(t0); got != (Load{}) {
		t.Fatalf("an idle budget reports %+v, want nothing", got)
	}
	for i := range 8 { // 5 go now, 3 are reserved
		b.Take(order(i), t0)
	}
	got := b.Load(t0)
	if got.Queued != 3 || got.Paused {
		t.Errorf("after 8 takes of a burst of 5: %+v, want 3 queued, not paused", got)
	}
	if want := seconds(3 / (10 * margin)); got.Wait < want-time.Millisecond || got.Wait > want+time.Millisecond {
		t.Errorf("booked ahead by %s, want the last reservation's %s", got.Wait, want)
	}
	b.Pause(t0.Add(time.Minute))
	if got := b.Load(t0); !got.Paused || got.Wait != time.Minute {
		t.Errorf("paused for a minute: %+v, want paused with a wait of 1m", got)
	}
	if got := b.Load(t0.Add(2 * time.Minute)); got != (Load{}) {
		t.Errorf("once every reservation is due and the pause over: %+v, want nothing", got)
	}
}

// txcloudFree is txcloud's Free plan: 60 calls a minute, 1,000 a day.
var txcloudFree = Limits{RequestsPerSecond: 1, Burst: 10, RequestsPerDay: 1000}

func TestDailyQuotaHoldsOverAnyDay(t *testing.T) {
	var r Registry
	b := r.For("txcloud|key", txcloudFree)
	// One order calls as soon as the budget lets it, for two days.
	var calls []time.Time
	for now := t0; now.Before(t0.Add(2 * day)); {
		if d := b.Take(order(1), now); d > 0 {
			now = now.Add(d)
			continue
		}
		calls = append(calls, now)
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
	var r Registry
	quota := r.For("txcloud|key", txcloudFree)
	rateOnly := r.For("txcloud|other", Limits{RequestsPerSecond: 1, Burst: 10})
	for i := range 100 {
		quota.Polled(order(i), true, t0)
		rateOnly.Polled(order(i), true, t0)
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

func TestPacerPaysAfterTheFreeCalls(t *testing.T) {
	var r Registry
	b := r.For("truework|key", Limits{RequestsPerSecond: 1, Burst: 4}) // a client burst of 2
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
	if err := pace(canceled); err == nil {
		t.Fatal("a call beyond the burst went without waiting")
	}
	if d := b.Take(order(1), time.Now()); d <= 0 {
		t.Error("the pacer's calls were not taken from the budget Take spends")
	}
}

func TestPacerRefusesWhilePaused(t *testing.T) {
	var r Registry
	b := r.For("truework|key", tenPerSecond)
	b.Pause(time.Now().Add(time.Hour))
	var paused ErrPaused
	if err := b.Pacer(1)(context.Background()); !errors.As(err, &paused) {
		t.Fatalf("a call paid for before the pause went during it: %v", err)
	}
}

func TestLateReservationsDoNotBunch(t *testing.T) {
	var r Registry
	b := r.For("truework|key", tenPerSecond) // a client burst of 5
	for i := range 15 {
		b.Take(order(i), t0) // 5 go, 10 are reserved a slot each
	}
	// The 10 come back together long after their slots (busy workers):
	// no more go at once than the burst allows.
	went := 0
	for i := 5; i < 15; i++ {
		if b.Take(order(i), t0.Add(5*time.Second)) == 0 {
			went++
		}
	}
	if went > 5 {
		t.Errorf("%d late reservations went at once, more than the burst of 5", went)
	}
	// One on time still goes at once.
	b.Take(order(100), t0.Add(5*time.Second))
	due := b.Take(order(101), t0.Add(5*time.Second))
	if d := b.Take(order(101), t0.Add(5*time.Second+due)); d != 0 {
		t.Errorf("a reservation taken on time waits %s more", d)
	}
}
