package sharding

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Truework's sandbox key: 10 calls a second, a burst of 10 (the
// simulator's limiter and the provider's declared limit). The client's
// bucket is half the burst at 97% of the rate (controllers/budget), so it
// releases at most 5 + 9.7 calls in any one second.
const (
	trueworkRate  = 10
	trueworkBurst = 10
	clientBurst   = (trueworkBurst + 1) / 2
	clientCeiling = clientBurst + trueworkRate*97/100 // 5 + 9 (9.7 rounded down) = 14
	// vendorCeiling is what the vendor's own bucket admits in a second.
	vendorCeiling   = trueworkBurst + trueworkRate
	saturatedOrders = 100
)

// canceledAtVendor counts the orders whose vendor order is canceled.
func canceledAtVendor(a *fixture.Account, os []*v1.VerificationOrder) int {
	n := 0
	for _, o := range os {
		if state, _ := a.Sim.OrderState(o.Spec.OrderID); state == a.Canceled {
			n++
		}
	}
	return n
}

// TestAProviderMovedUnderLoadKeepsItsVendorLimit moves a provider from the
// default instance to shard a while its account is saturated (100 cancels
// of never-observed orders, about two calls each, on a 10/s Truework key):
// the vendor answers no 429 and sees no more calls in any one second than
// its limit admits (burst 10 + 10/s), the two shards together send no more
// in any one second than one client's bucket releases (burst 5 + 9.7/s:
// 14), the vendor never sees the two shards' calls interleaved nor an
// order canceled twice, and goes without calls at the move for less than
// the account Lease's duration (50 s: what a takeover of a Lease not
// released costs; a released one is taken at once).
func TestAProviderMovedUnderLoadKeepsItsVendorLimit(t *testing.T) {
	c, r := &calls{}, &reconciles{}
	startShard(t, "!"+shard.Label, c, r)
	startShard(t, shard.Label+"=a", c, r)
	a := vendor(t, "")
	watched := orders(t, a, saturatedOrders, v1.DesiredCanceled, a.Cancelable)
	// Saturated: the client's burst is long spent, and the budget paces
	// every call.
	eventually(t, 2*time.Minute, "the default instance works the account at its rate", func() (bool, string) {
		n := shardsOf(c, a)[shard.DefaultName]
		return n >= 60, fmt.Sprintf("%d calls by the default instance", n)
	})

	p := &v1.VerificationProvider{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(a.Provider), p); err != nil {
		t.Fatal(err)
	}
	p.Labels = map[string]string{shard.Label: "a"}
	moved := time.Now()
	if err := k8s.Update(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	left := saturatedOrders - canceledAtVendor(a, watched)
	callsBefore := len(a.Sim.Timeline())
	if left < saturatedOrders/4 {
		t.Fatalf("only %d of %d orders were left to cancel at the move: the account was not busy throughout", left, saturatedOrders)
	}
	for _, o := range watched {
		eventually(t, 3*time.Minute, "every order converges", func() (bool, string) { return converged(a, o) })
	}

	// The shards' calls, as each made them: the default instance's, then
	// shard a's.
	all := c.of(host(a))
	sort.Slice(all, func(i, j int) bool { return all[i].start.Before(all[j].start) })
	var lastOld, firstNew, lastNew time.Time
	newCalls := 0
	for _, x := range all {
		switch x.shard {
		case shard.DefaultName:
			if !firstNew.IsZero() {
				t.Errorf("the default instance called %s at %s, after shard a's first call at %s", x.path, x.start.Format(time.StampMilli), firstNew.Format(time.StampMilli))
			}
			if x.end.After(lastOld) {
				lastOld = x.end
			}
		case "a":
			if firstNew.IsZero() {
				firstNew = x.start
			}
			lastNew = x.start
			newCalls++
		default:
			t.Errorf("%s called the account", x.shard)
		}
	}
	if firstNew.IsZero() {
		t.Fatal("shard a made no call: it took over nothing")
	}
	if firstNew.Before(lastOld) {
		t.Errorf("shard a's first call (%s) began before the default instance's last ended (%s)", firstNew.Format(time.StampMilli), lastOld.Format(time.StampMilli))
	}
	oneShardThenTheOther(t, all, watched)

	// The vendor's view.
	timeline := a.Sim.Timeline()
	throttled := 0
	for _, ev := range timeline {
		if ev.Status == http.StatusTooManyRequests {
			throttled++
		}
	}
	busiest, from := simkit.BusiestSecond(timeline)
	var around []simkit.Event // the calls from a second before the old shard's last to two after the new one's first
	for _, ev := range timeline {
		if !ev.At.Before(lastOld.Add(-time.Second)) && ev.At.Before(firstNew.Add(2*time.Second)) {
			around = append(around, ev)
		}
	}
	busiestAround, _ := simkit.BusiestSecond(around)
	gap, gapFrom := longestGap(timeline)
	handover := firstNew.Sub(lastOld)
	if throttled != 0 {
		t.Errorf("the vendor answered 429 %d times", throttled)
	}
	// As the shards sent them (the tap, past the budget): both shards
	// together keep to one client's bucket, the move adding no second
	// burst. At the vendor, arrivals bunch a little (a burst's
	// connections, the scheduler), so what it saw is held to its own
	// limit: the 429s above, and the calls its bucket admits in a second.
	sent := make([]simkit.Event, 0, len(all))
	for _, x := range all {
		sent = append(sent, simkit.Event{At: x.start})
	}
	busiestSent, sentFrom := simkit.BusiestSecond(sent)
	if busiestSent > clientCeiling {
		t.Errorf("the shards sent %d calls in the second from %s (%s after the move), more than one client's bucket releases (%d): %s",
			busiestSent, sentFrom.Format(time.StampMilli), sentFrom.Sub(moved).Round(time.Millisecond), clientCeiling, describe(all, sentFrom, moved))
	}
	if busiest > vendorCeiling {
		t.Errorf("the vendor saw %d calls in the second from %s (%s after the move), more than its limit admits (%d): %s",
			busiest, from.Format(time.StampMilli), from.Sub(moved).Round(time.Millisecond), vendorCeiling, describe(all, from, moved))
	}
	if gap > shard.DefaultLeaseDuration {
		t.Errorf("the account went %s without a call (from %s), longer than its Lease's duration %s", gap.Round(time.Millisecond), gapFrom.Format(time.StampMilli), shard.DefaultLeaseDuration)
	}
	cancels := mutations(t, a, watched)
	if cancels != saturatedOrders {
		t.Errorf("%d cancels at the vendor for %d orders", cancels, saturatedOrders)
	}
	rate := float64(newCalls-1) / lastNew.Sub(firstNew).Seconds()
	t.Logf("moved under load with %d of %d cancels left (%d calls made): the default instance's last call ended %s after the move, shard a's first began %s after it; "+
		"handover gap %s, longest gap without a call %s; busiest second as sent %d calls (ceiling %d), at the vendor %d from %s after the move (%d around the handover; the vendor admits %d: %d/s, burst %d); %d × 429; "+
		"shard a then ran %.2f calls/s; %d calls, %d cancels for %d orders",
		left, saturatedOrders, callsBefore, lastOld.Sub(moved).Round(time.Millisecond), firstNew.Sub(moved).Round(time.Millisecond),
		handover.Round(time.Millisecond), gap.Round(time.Millisecond), busiestSent, clientCeiling, busiest, from.Sub(moved).Round(time.Millisecond), busiestAround,
		vendorCeiling, trueworkRate, trueworkBurst, throttled,
		rate, len(timeline), cancels, saturatedOrders)
}

// longestGap is the longest time between two calls in a row, and when it
// began.
func longestGap(timeline []simkit.Event) (gap time.Duration, from time.Time) {
	at := make([]time.Time, len(timeline))
	for i, ev := range timeline {
		at[i] = ev.At
	}
	sort.Slice(at, func(i, j int) bool { return at[i].Before(at[j]) })
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d > gap {
			gap, from = d, at[i-1]
		}
	}
	return gap, from
}

// describe lists the calls made in the second from from, by shard, with
// their times from the move.
func describe(all []call, from, moved time.Time) string {
	var parts []string
	for _, x := range all {
		if !x.start.Before(from.Add(-50*time.Millisecond)) && x.start.Before(from.Add(time.Second)) {
			parts = append(parts, fmt.Sprintf("%s %s +%s", x.shard, x.path[strings.LastIndexByte(x.path, '/')+1:], x.start.Sub(moved).Round(time.Millisecond)))
		}
	}
	return strings.Join(parts, "; ")
}
