package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
)

// killer kills the run's manager with SIGKILL at random moments while the
// orders converge, and has a successor take over each time: a process it
// starts (a crash and restart), or a standby already running (failover). A moment is a
// vendor call: the process is killed while its n-th call (n drawn from
// [lo, hi]) is at the vendor, so the kill lands in the middle of its work:
// between an intent and its call, between a call and the write of its
// result, or amid a batch of reservations.
type killer struct {
	r      *run
	rng    *rand.Rand
	lo, hi int
	// successor returns the process that is to take over after a kill.
	successor func() *manager
	// unsettled is the number of orders not settled at the last look,
	// recorded with each kill.
	unsettled atomic.Int64

	mu      sync.Mutex
	left    int
	current *manager
	// struck is a kill the trigger made and step has not handled yet.
	struck *kill
	// starting is the process started after a kill, until it leads.
	starting *manager
	since    time.Time
}

func newKiller(r *run, first *manager, kills, lo, hi int, successor func() *manager) *killer {
	k := &killer{r: r, rng: rngFor(r.seed, "kills"), lo: lo, hi: hi, successor: successor, left: kills, current: first}
	k.unsettled.Store(int64(len(r.orders))) // until the first look, none has settled
	k.arm()
	return k
}

// arm sets the trigger on the current process.
func (k *killer) arm() {
	if k.left == 0 {
		return
	}
	m := k.current
	n := k.lo + k.rng.IntN(k.hi-k.lo+1)
	fmt.Fprintf(GinkgoWriter, "chaos %s: %s will be killed at its vendor call %d\n", k.r.name, m.name, n)
	k.r.wire.at(m.name, n, func() {
		at := time.Now()
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		k.mu.Lock()
		defer k.mu.Unlock()
		k.left--
		k.struck = &kill{process: m.name, at: at, unsettled: int(k.unsettled.Load())}
	})
}

// step is converge's busy callback: it brings in the successor after a kill,
// records the takeover, arms the next kill, and holds convergence until
// every kill is made and the last process leads.
func (k *killer) step(ctx context.Context, unsettled int) bool {
	GinkgoHelper()
	k.unsettled.Store(int64(unsettled))
	k.mu.Lock()
	struck := k.struck
	k.struck = nil
	k.mu.Unlock()
	if struck != nil {
		<-k.current.done
		k.r.kills = append(k.r.kills, *struck)
		fmt.Fprintf(GinkgoWriter, "chaos %s: killed %s with %d orders unsettled\n", k.r.name, struck.process, struck.unsettled)
		k.current = k.successor()
		k.starting, k.since = k.current, struck.at
	}
	if k.starting != nil {
		if k.starting.exited() {
			Fail(fmt.Sprintf("%s exited before leading:\n%s", k.starting.name, k.starting.lastLines(20)))
		}
		if !k.starting.leading() {
			return true
		}
		t := readTakeover(ctx, k.starting, k.since)
		k.r.takeovers = append(k.r.takeovers, t)
		fmt.Fprintf(GinkgoWriter, "chaos %s: %s took over %s after the kill\n", k.r.name, t.process, t.after.Round(time.Millisecond))
		k.starting = nil
		k.mu.Lock()
		k.arm()
		k.mu.Unlock()
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.left > 0 || k.struck != nil
}
