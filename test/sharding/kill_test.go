package sharding

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/internal/fixture"
)

// converged says whether o is Ready and its vendor order canceled.
func converged(a *fixture.Account, o *v1.VerificationOrder) (bool, string) {
	if ok, why := ready(o); !ok {
		return false, why
	}
	if state, _ := a.Sim.OrderState(o.Spec.OrderID); state != a.Canceled {
		return false, fmt.Sprintf("%s: vendor state %q, want %q", o.Name, state, a.Canceled)
	}
	return true, ""
}

// mutations checks that no vendor order saw more than one mutating call,
// and returns how many were made in all.
func mutations(t *testing.T, a *fixture.Account, os []*v1.VerificationOrder) int {
	t.Helper()
	total := 0
	for _, o := range os {
		n := a.Sim.CountCalls(o.Spec.OrderID, a.MutatingMethod)
		total += n
		if n > 1 {
			t.Errorf("%s: %d %s calls on vendor order %s, want one: %v", o.Name, n, a.MutatingMethod, o.Spec.OrderID, a.Sim.Calls(o.Spec.OrderID))
		}
	}
	return total
}

// TestAKilledShardLeaderIsReplacedWithinItsLeases runs shard a as two
// manager processes, a leader and a standby, kills the leader with SIGKILL
// while one of its cancels is at the vendor, and checks that the standby
// leads within the leader Lease's duration, takes the vendor account once
// the account's Lease has stood unchanged for its duration (a dead holder
// releases nothing), that every order converges, and that the vendor
// never saw the two processes' calls interleaved nor any order canceled
// twice. The timings are the binary's own (cmd/manager sets no shorter
// ones): 15 s for the leader Lease, 50 s for the account's.
func TestAKilledShardLeaderIsReplacedWithinItsLeases(t *testing.T) {
	c, r := &calls{}, &reconciles{}
	startShard(t, "!"+shard.Label, c, r) // routes the new orders to shard a
	w := &wire{}
	a := vendor(t, "a", fixture.Behind(w.tap))

	selector := shard.Label + "=a"
	kc := kubeconfig(t)
	leader := startProcess(t, kc, "a-1", selector)
	eventually(t, 2*time.Minute, "a-1 leads shard a", func() (bool, string) {
		return leader.leading() || leader.exited(), leader.tail(5)
	})
	if leader.exited() {
		t.Fatalf("a-1 exited:\n%s", leader.tail(20))
	}
	standby := startProcess(t, kc, "a-2", selector)
	eventually(t, 2*time.Minute, "a-2 stands by", func() (bool, string) {
		return standby.candidate() || standby.exited(), standby.tail(5)
	})
	if standby.exited() || standby.leading() {
		t.Fatalf("a-2 is not a standby:\n%s", standby.tail(20))
	}

	// The leader is killed while its killAt-th cancel is at the vendor:
	// the cancel is applied, and the leader never learns its answer.
	const n, killAt = 40, 10
	var (
		mu     sync.Mutex
		killed time.Time
		cancel int
	)
	w.onCall(func(process string, r *http.Request) {
		if process != leader.name || r.Method != a.MutatingMethod {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if cancel++; cancel == killAt {
			_ = leader.cmd.Process.Signal(syscall.SIGKILL)
			killed = time.Now()
		}
	})
	watched := orders(t, a, n, v1.DesiredCanceled, a.Cancelable)
	select {
	case <-leader.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("a-1 was not killed: %d cancels at the vendor, want %d", w.count(leader.name), killAt)
	}
	mu.Lock()
	killedAt := killed
	mu.Unlock()
	if killedAt.IsZero() {
		t.Fatalf("a-1 exited on its own:\n%s", leader.tail(20))
	}
	unsettled := 0
	for _, o := range watched {
		if ok, _ := converged(a, o); !ok {
			unsettled++
		}
	}

	// The standby leads once the leader Lease has expired.
	eventually(t, 2*leaderTakeoverBound, "a-2 leads shard a", func() (bool, string) {
		return standby.leading() || standby.exited(), standby.tail(5)
	})
	if standby.exited() {
		t.Fatalf("a-2 exited:\n%s", standby.tail(20))
	}
	led := leaderAcquired(t, selector).Sub(killedAt)
	if led > leaderTakeoverBound {
		t.Errorf("a-2 led %s after a-1 was killed, want within %s (the leader Lease's %s, two jittered retry periods of %s, 2 s margin)",
			led.Round(time.Millisecond), leaderTakeoverBound, leaderLeaseDuration, leaderRetryPeriod)
	}

	for _, o := range watched {
		eventually(t, 3*time.Minute, "every order converges", func() (bool, string) { return converged(a, o) })
	}

	// The vendor's view: a-1's calls, then a-2's, never interleaved; a-2
	// took the account only once its Lease had stood unchanged for
	// shard.DefaultLeaseDuration, and within that of leading (plus the
	// next look at the Lease, at most 2 s, the settle of half a burst,
	// 0.5 s, and a 5 s margin).
	lastOld, firstNew := handover(t, w, leader.name, standby.name)
	if firstNew.IsZero() {
		t.Fatal("a-2 made no vendor call")
	}
	if firstNew.Before(lastOld) {
		t.Errorf("a-2's first call (%s) began before a-1's last ended (%s)", firstNew.Format(time.StampMilli), lastOld.Format(time.StampMilli))
	}
	accountBound := led + shard.DefaultLeaseDuration + 7500*time.Millisecond
	took := firstNew.Sub(killedAt)
	if took < shard.DefaultLeaseDuration {
		t.Errorf("a-2 called the account %s after a-1 was killed, before its Lease (%s) could have expired", took.Round(time.Millisecond), shard.DefaultLeaseDuration)
	}
	if took > accountBound {
		t.Errorf("a-2's first call came %s after the kill, want within %s (leading, %s, plus the account Lease's %s and 7.5 s)",
			took.Round(time.Millisecond), accountBound.Round(time.Millisecond), led.Round(time.Millisecond), shard.DefaultLeaseDuration)
	}
	cancels := mutations(t, a, watched)
	if cancels != n {
		t.Errorf("%d cancels at the vendor for %d orders", cancels, n)
	}
	throttled := throttledBy(a)
	if throttled > 0 {
		t.Errorf("the vendor answered 429 %d times", throttled)
	}
	if got := shardsOf(c, a); len(got) != 0 {
		t.Errorf("in-process instances called shard a's account: %v", got)
	}
	t.Logf("SIGKILL of shard a's leader with %d of %d orders unsettled, while its cancel %d was at the vendor: a-2 led %s after the kill (bound %s), "+
		"made its first vendor call %s after the kill (%s after leading; a-1's last call ended %s after the kill); %d cancels for %d orders, %d × 429, %d calls by a-1, %d by a-2",
		unsettled, n, killAt, led.Round(time.Millisecond), leaderTakeoverBound, took.Round(time.Millisecond), (took - led).Round(time.Millisecond),
		lastOld.Sub(killedAt).Round(time.Microsecond), cancels, n, throttled, w.count(leader.name), w.count(standby.name))
}

// leaderAcquired is when the leader Lease of the shard of selector was
// last acquired.
func leaderAcquired(t *testing.T, selector string) time.Time {
	t.Helper()
	sh, err := shard.Parse(selector)
	if err != nil {
		t.Fatal(err)
	}
	leases, err := coordinationclient.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := leases.Leases(leaseNamespace).Get(context.Background(), sh.LeaderElectionID("verification-operator.ordersync.dev"), metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if lease.Spec.AcquireTime == nil {
		t.Fatal("the shard's leader Lease has no acquireTime")
	}
	return lease.Spec.AcquireTime.Time
}

// handover reads the vendor's view of the calls of old, then of next: when
// old's last call ended and next's first began. A call of old after next's
// first, or of any other process, is an error.
func handover(t *testing.T, w *wire, old, next string) (lastOld, firstNew time.Time) {
	t.Helper()
	for _, x := range w.all() {
		switch x.process {
		case old:
			if !firstNew.IsZero() {
				t.Errorf("%s called %s %s at %s, after %s's first call at %s", old, x.method, x.path, x.start.Format(time.StampMilli), next, firstNew.Format(time.StampMilli))
			}
			if x.end.After(lastOld) {
				lastOld = x.end
			}
		case next:
			if firstNew.IsZero() {
				firstNew = x.start
			}
		default:
			t.Errorf("%q called shard a's account (%s %s)", x.process, x.method, x.path)
		}
	}
	return lastOld, firstNew
}

// throttledBy counts the 429s a's vendor answered.
func throttledBy(a *fixture.Account) int {
	n := 0
	for _, ev := range a.Sim.Timeline() {
		if ev.Status == http.StatusTooManyRequests {
			n++
		}
	}
	return n
}
