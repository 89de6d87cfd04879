package chaos

import (
	"context"
	"fmt"
	"sort"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// The slow vendor play: while a run converges, one account turns slow: it
// applies every call and answers only after the client's 30s timeout, so
// every call it gets holds whatever waits on it for 30s and is lost.
// Meanwhile a burst of cancels arrives at it, and, once calls hang there,
// cancels at the other vendors (probes, at accounts of their own without
// faults, so that nothing but the slow account can delay them). The run's
// invariants must hold as in every run, and each probe's cancel must reach
// its vendor within probeBound of the probe's creation: the slow
// account's trouble stays with its own orders.
const (
	// slowVendor is the account that turns slow: AccountChek's 10 calls a
	// second and its orders without reverifications get its orders
	// through soon after the window, with no call in doubt for minutes.
	slowVendor = "accountchek"
	// slowVendorOrders is the run's own orders, over every vendor and play.
	slowVendorOrders = 40
	// slowWindowAfter is the manager's vendor call at which the window opens.
	slowWindowAfter = 20
	// slowBurst is the cancels that arrive at the slow account then.
	slowBurst = 16
	// slowHung is how many of its calls must hang before the probes are
	// made: as many as the manager has workers.
	slowHung = 8
	// probesPerVendor is the probes at each other vendor.
	probesPerVendor = 2
	// probeBound is the liveness bound: a cancel at an idle account
	// reaches its vendor in about a second (txcloud's, at one call a
	// second, in two or three); twenty is generous, and shorter than the
	// client's 30s timeout that a slow call holds a worker for.
	probeBound = 20 * time.Second
)

var _ = Describe("A vendor account that turns slow", func() {
	BeforeEach(func() {
		if !*flagSlowVendor {
			Skip("run with -chaos.slowvendor (make test-chaos does)")
		}
	})

	It("keeps every invariant, and other accounts' orders converge while it is slow", func(ctx SpecContext) {
		began := time.Now()
		r := newRun(ctx, "slowvendor", suiteSeed)
		r.orders = pickOrders(rngFor(r.seed, "orders"), slowVendorOrders, r.addVendorAccounts(ctx, *flagSlow, false))
		w := &slowWindow{r: r, slow: r.account(slowVendor)}
		for _, v := range simulators.All() {
			if v.Name != slowVendor {
				w.probeAccounts = append(w.probeAccounts, r.addAccount(ctx, v.Name+"-probe", v.Name, simkit.Faults{}))
			}
		}
		m := r.startManager("slowvendor", kubeconfig)
		awaitTakeover(ctx, m, m.started)
		opened := make(chan time.Time, 1)
		r.wire.at(m.name, slowWindowAfter, func() {
			w.slow.sim.SetFaults(simkit.Faults{SlowRate: 1, SlowMs: 35_000})
			opened <- time.Now()
		})
		w.opened = opened
		createOrders(ctx, r.ns, r.orders)
		unsettled := r.converge(ctx, convergeTimeout(len(r.orders)+slowBurst, 0), func(int) bool { return w.step(ctx) })
		m.stop()

		fig := w.figures(r.ledger())
		r.verify(ctx, began, unsettled, fig)
		Expect(w.late).To(BeEmpty(), "probes at other accounts whose cancel reached the vendor more than %s after they were made, while %s was slow", probeBound, slowVendor)
	})
})

// slowWindow runs the play from converge's busy callback, a step at each
// look: open, burst, probes once calls hang, close once the probes settled
// and the client gave up on the calls that hung.
type slowWindow struct {
	r             *run
	slow          *account
	probeAccounts []*account
	opened        <-chan time.Time

	phase int
	// openedAt, probedAt, closedAt: when the account turned slow, the
	// probes were made, and it was itself again.
	openedAt, probedAt, closedAt time.Time
	// hung is how many calls were in flight at the slow account when the
	// probes were made.
	hung   int
	probes []*order
	// ready is when each probe was first seen settled.
	ready map[*order]time.Time
	// late are the probes over probeBound, described.
	late []string
}

const (
	windowWaiting = iota
	windowOpen
	windowProbed
	windowClosed
)

// step moves the play on; it is busy until the window has closed.
func (w *slowWindow) step(ctx context.Context) bool {
	GinkgoHelper()
	switch w.phase {
	case windowWaiting:
		select {
		case w.openedAt = <-w.opened:
		default:
			return true
		}
		fmt.Fprintf(GinkgoWriter, "chaos %s: %s turned slow\n", w.r.name, w.slow.name)
		burst := make([]*order, 0, slowBurst)
		for i := range slowBurst {
			burst = append(burst, &order{name: fmt.Sprintf("slow-cancel-%d", i), account: w.slow,
				play: play{kind: simkit.PlayCancel, desired: canceled}, word: w.slow.entry.Cancelable})
		}
		w.add(ctx, burst)
		w.phase = windowOpen
	case windowOpen:
		if w.hung = w.r.wire.inFlightAt(w.slow.name); w.hung < slowHung {
			Expect(time.Since(w.openedAt)).To(BeNumerically("<", 2*time.Minute), "%s never had %d calls in flight", w.slow.name, slowHung)
			return true
		}
		for _, a := range w.probeAccounts {
			for i := range probesPerVendor {
				w.probes = append(w.probes, &order{name: fmt.Sprintf("probe-%s-%d", a.entry.Name, i), account: a,
					play: play{kind: simkit.PlayCancel, desired: canceled}, word: a.entry.Cancelable})
			}
		}
		w.probedAt = time.Now()
		w.add(ctx, w.probes)
		w.ready = map[*order]time.Time{}
		w.phase = windowProbed
	case windowProbed:
		objs := w.r.list(ctx)
		for _, o := range w.probes {
			if _, seen := w.ready[o]; !seen && settled(o, objs[o.name], false) {
				w.ready[o] = time.Now()
			}
		}
		gaveUp := 0
		for _, h := range w.r.wire.heldAnswers(w.slow.name) {
			if !h.delivered {
				gaveUp++
			}
		}
		// Slow for as long as it takes the client to give up on the calls
		// that hung, and the probes to settle (or to be late past doubt).
		if (len(w.ready) < len(w.probes) || gaveUp < slowHung) && time.Since(w.probedAt) < probeBound+time.Minute {
			return true
		}
		w.slow.sim.SetFaults(w.slow.faults)
		w.closedAt = time.Now()
		fmt.Fprintf(GinkgoWriter, "chaos %s: %s answers again after %s; %d calls given up\n", w.r.name, w.slow.name,
			w.closedAt.Sub(w.openedAt).Round(time.Millisecond), gaveUp)
		w.phase = windowClosed
	}
	return w.phase != windowClosed
}

// add seeds and creates orders, and makes them the run's.
func (w *slowWindow) add(ctx context.Context, orders []*order) {
	GinkgoHelper()
	createOrders(ctx, w.r.ns, orders)
	w.r.orders = append(w.r.orders, orders...)
}

// figures measures each probe from the vendors' records (its cancel
// applied, after its creation) and from the orders (Ready), records the
// late ones, and returns the run's figures for the play.
func (w *slowWindow) figures(calls ledger) runFigures {
	fig := runFigures{SlowAccount: w.slow.name, SlowSeconds: w.closedAt.Sub(w.openedAt).Seconds(), SlowInFlight: w.hung}
	for a, cs := range calls {
		for _, c := range cs {
			switch {
			case c.At.Before(w.openedAt) || !c.At.Before(w.closedAt):
			case a == w.slow:
				fig.SlowCalls++
			default:
				fig.OtherCalls++
			}
		}
	}
	for _, o := range w.probes {
		acted := time.Duration(-1)
		for _, c := range calls.of(o) {
			if c.mutating() && c.Applied {
				acted = c.At.Sub(w.probedAt)
				break
			}
		}
		ready, ok := w.ready[o]
		if ok {
			fig.ProbeReadySeconds = append(fig.ProbeReadySeconds, ready.Sub(w.probedAt).Round(100*time.Millisecond).Seconds())
		}
		switch {
		case acted < 0:
			w.late = append(w.late, fmt.Sprintf("%s: no cancel reached %s", o.name, o.account.name))
		case acted > probeBound:
			w.late = append(w.late, fmt.Sprintf("%s: its cancel reached %s %s after it was made", o.name, o.account.name, acted.Round(time.Millisecond)))
		}
		if acted >= 0 {
			fig.ProbeActionSeconds = append(fig.ProbeActionSeconds, acted.Round(100*time.Millisecond).Seconds())
		}
	}
	sort.Float64s(fig.ProbeActionSeconds)
	sort.Float64s(fig.ProbeReadySeconds)
	fig.ProbesLate = len(w.late)
	return fig
}
