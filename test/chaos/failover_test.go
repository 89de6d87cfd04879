package chaos

import (
	"fmt"
	"net/url"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// failoverOrders is the size of each failover run: enough that the leader
// is still busy when it goes.
const failoverOrders = 100

// killGrace: a call the killed process wrote to its socket just before
// SIGKILL is read by the simulator just after. Its successor cannot call
// before the Lease runs out, over ten seconds later, so the grace does not
// blur the handover.
const killGrace = time.Second

var _ = Describe("Leader failover", func() {
	BeforeEach(func() {
		if !*flagFailover {
			Skip("run with -chaos.failover (make test-chaos does)")
		}
	})

	It("hands over to the standby within the lease duration when the leader is killed, and the vendors never see both", func(ctx SpecContext) {
		began := time.Now()
		r := newRun(ctx, "failover", suiteSeed)
		r.orders = pickOrders(rngFor(r.seed, "orders"), failoverOrders, r.addVendorAccounts(ctx, false, *flagDoubt))
		a := r.startManager("failover-a", kubeconfig)
		b := r.startManager("failover-b", kubeconfig)
		Eventually(func() bool { return a.leading() || b.leading() }).WithTimeout(2 * takeoverBound).Should(BeTrue())
		leader, standby := a, b
		if b.leading() {
			leader, standby = b, a
		}
		Expect(standby.leading()).To(BeFalse(), "both processes say they lead")

		k := newKiller(r, leader, 1, failoverOrders/10, failoverOrders/3, func() *manager { return standby })
		createOrders(ctx, r.ns, r.orders)
		unsettled := r.converge(ctx, convergeTimeout(failoverOrders, 1), func(open int) bool { return k.step(ctx, open) })
		standby.stop()

		Expect(r.kills).To(HaveLen(1))
		Expect(r.takeovers).To(HaveLen(1))
		killed, took := r.kills[0], r.takeovers[0]
		Expect(killed.unsettled).To(BeNumerically(">", 0), "the leader was killed after every order had settled")
		Expect(took.after).To(BeNumerically("<=", takeoverBound), "the standby took over %s after the kill", took.after)
		calls := r.ledger()
		Expect(callsOutside(calls, leader.name, time.Time{}, killed.at.Add(killGrace))).To(BeEmpty(), "calls by the killed leader after its death")
		Expect(callsOutside(calls, standby.name, took.acquired, time.Now())).To(BeEmpty(), "calls by the standby before it led")
		r.verify(ctx, began, unsettled, runFigures{})
	})

	It("cuts the leader off the API server while it waits on vendor calls: it stops, the standby takes over, and the vendors never see both", func(ctx SpecContext) {
		began := time.Now()
		r := newRun(ctx, "partition", suiteSeed)
		accountFor := r.addVendorAccounts(ctx, false, *flagDoubt)
		r.orders = pickOrders(rngFor(r.seed, "orders"), failoverOrders, accountFor)
		// Truework holds every answer 4s while the leader works, so that
		// calls (reverifications among them) are in flight at the cut.
		slowed := []*account{r.account("truework"), accountFor("truework", simkit.PlayReverify)}
		for _, a := range slowed {
			a.sim.SetFaults(simkit.Faults{SlowRate: 1, SlowMs: 4000})
		}

		proxy := startPartitionProxy(apiHostPort())
		a := r.startManager("partition-a", kubeconfigVia(proxy.addr(), r.logDir))
		awaitTakeover(ctx, a, a.started)
		b := r.startManager("partition-b", kubeconfig)
		createOrders(ctx, r.ns, r.orders)
		Eventually(func() int {
			inFlight, _ := r.wire.snapshot()
			return inFlight[a.name]
		}).Should(BeNumerically(">=", 2), "the leader never had two vendor calls in flight")

		cut := time.Now()
		proxy.partition()
		inFlight, _ := r.wire.snapshot()
		objs := r.list(ctx)
		open := 0
		for _, o := range r.orders {
			if !settled(o, objs[o.name], false) {
				open++
			}
		}
		r.kills = append(r.kills, kill{process: a.name, at: cut, unsettled: open})
		for _, acct := range slowed {
			acct.sim.SetFaults(acct.faults) // the standby meets the usual faults
		}

		// Losing the Lease ends the manager: controller-runtime stops it
		// when it cannot renew within the renew deadline.
		Eventually(a.exited).WithTimeout(2*takeoverBound).Should(BeTrue(), "the cut-off leader kept running")
		Expect(a.log.String()).To(ContainSubstring("leader election lost"))
		took := awaitTakeover(ctx, b, cut)
		r.takeovers = append(r.takeovers, took)
		unsettled := r.converge(ctx, convergeTimeout(failoverOrders, 1), nil)
		b.stop()

		Expect(took.after).To(BeNumerically("<=", takeoverBound), "the standby took over %s after the cut", took.after)
		calls := r.ledger()
		lastOld, firstNew := lastCall(calls, a.name, false), firstCall(calls, b.name, true)
		Expect(lastOld.IsZero() || firstNew.IsZero() || lastOld.Before(firstNew)).To(BeTrue(),
			"the cut-off leader called a vendor at %s, after the new leader's first mutating call at %s",
			lastOld.Format("15:04:05.000"), firstNew.Format("15:04:05.000"))
		Expect(callsOutside(calls, b.name, took.acquired, time.Now())).To(BeEmpty(), "calls by the standby before it led")
		r.verify(ctx, began, unsettled, runFigures{InFlightAtCut: inFlight[a.name]})
	})
})

// callsOutside lists the calls by process that arrived outside [from, to].
func callsOutside(calls ledger, process string, from, to time.Time) []string {
	var out []string
	for _, cs := range calls {
		for _, c := range cs {
			if c.process == process && (c.At.Before(from) || c.At.After(to)) {
				out = append(out, fmt.Sprintf("%s %s at %s", c.Method, c.Path, c.At.Format("15:04:05.000")))
			}
		}
	}
	return out
}

// lastCall is when process's last vendor call arrived (mutating only if
// asked); zero when it made none.
func lastCall(calls ledger, process string, mutating bool) time.Time {
	var last time.Time
	for _, cs := range calls {
		for _, c := range cs {
			if c.process == process && (!mutating || c.mutating()) && c.At.After(last) {
				last = c.At
			}
		}
	}
	return last
}

// firstCall is when process's first vendor call arrived (mutating only if
// asked); zero when it made none.
func firstCall(calls ledger, process string, mutating bool) time.Time {
	var first time.Time
	for _, cs := range calls {
		for _, c := range cs {
			if c.process == process && (!mutating || c.mutating()) && (first.IsZero() || c.At.Before(first)) {
				first = c.At
			}
		}
	}
	return first
}

// apiHostPort is where the API server listens.
func apiHostPort() string {
	GinkgoHelper()
	u, err := url.Parse(adminCfg.Host)
	Expect(err).NotTo(HaveOccurred())
	return u.Host
}

// kubeconfigVia writes a copy of the suite's kubeconfig that reaches the
// API server through addr.
func kubeconfigVia(addr, dir string) string {
	GinkgoHelper()
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	for _, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		Expect(err).NotTo(HaveOccurred())
		u.Host = addr
		c.Server = u.String()
	}
	path := filepath.Join(dir, "kubeconfig-via-proxy")
	Expect(clientcmd.WriteToFile(*cfg, path)).To(Succeed())
	return path
}
