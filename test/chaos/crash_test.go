package chaos

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Crashes: orders over every vendor and operation, faults, and SIGKILLs while they converge", func() {
	It("ends every order as it must, exactly once, within budget and Retry-After, without leaking personal data", func(ctx SpecContext) {
		began := time.Now()
		r := newRun(ctx, "crash", suiteSeed)
		r.orders = pickOrders(rngFor(r.seed, "orders"), *flagOrders, r.addVendorAccounts(ctx, *flagSlow, *flagDoubt))

		first := r.startManager("crash-1", kubeconfig)
		awaitTakeover(ctx, first, first.started)
		// Each process is killed at a vendor call drawn from [lo, hi]:
		// converging takes about 2.5 calls an order, so every kill strikes
		// while many orders are still on their way.
		lo, hi := max(5, len(r.orders)/10), max(10, len(r.orders)/3)
		k := newKiller(r, first, *flagKills, lo, hi, func() *manager {
			return r.startManager(fmt.Sprintf("crash-%d", len(r.managers)+1), kubeconfig)
		})
		createOrders(ctx, r.ns, r.orders)

		unsettled := r.converge(ctx, convergeTimeout(len(r.orders), *flagKills), func(open int) bool { return k.step(ctx, open) })
		k.current.stop()

		Expect(r.kills).To(HaveLen(*flagKills))
		for _, kl := range r.kills {
			Expect(kl.unsettled).To(BeNumerically(">", 0), "kill of %s struck after every order had settled", kl.process)
		}
		for _, t := range r.takeovers {
			Expect(t.after).To(BeNumerically("<=", takeoverBound), "%s took over %s after the kill", t.process, t.after)
		}
		r.verify(ctx, began, unsettled, runFigures{})
	})
})

// convergeTimeout bounds a run's convergence: generous, as the machine is
// shared, plus each kill's wait for the Lease, plus the operator's 2.5
// minutes of doubt when a reverification's call may have landed.
func convergeTimeout(orders, kills int) time.Duration {
	d := 3*time.Minute + time.Duration(orders)*time.Second + time.Duration(kills)*2*takeoverBound
	if *flagDoubt || *flagSlow {
		d += 5 * time.Minute
	}
	return d
}
