package chaos

import (
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// The operator bugs the chaos runs found, each reproduced on its own, in
// seconds and without chance, and fixed. Each spec states what the
// operator must do. They run with -chaos.strict (make test-chaos);
// docs/reliability.md describes each, and the unit or envtest spec that
// guards the fix in `make test`.
var _ = Describe("Operator bugs the chaos runs found", func() {
	BeforeEach(func() {
		if !*flagStrict {
			Skip("run with -chaos.strict (make test-chaos does); make test guards each fix with a faster test")
		}
	})

	// The plan observes a request to reverify afresh on every reconcile
	// (recentObservation never stands in for it), and the observation uses
	// the call that the previous reconcile reserved for the reverify.
	// The reverify then needs a second call at once, which a budget with
	// reservations outstanding never has: the order reserves again, and
	// the next reconcile spends that reservation on another observation.
	// Fixed: the last reading of the request stands in within the poll
	// interval (controllers/reverify.go sourceReadings).
	It("reverifies on an account whose budget allows one call at a time", func(ctx SpecContext) {
		r := newRun(ctx, "reverify-budget", suiteSeed)
		a := r.addAccount(ctx, "truework", "truework", simkit.Faults{}, func(s *v1.VerificationProviderSpec) {
			s.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1}
		})
		o := &order{name: "reverify", account: a, play: play{kind: simkit.PlayReverify, desired: active}, word: "completed"}
		r.orders = []*order{o}
		m := r.startManager("reverify-budget", kubeconfig)
		awaitTakeover(ctx, m, m.started)
		createOrders(ctx, r.ns, r.orders)
		unsettled := r.converge(ctx, time.Minute, nil)
		m.stop()

		var reads, reverifies int
		for _, c := range r.ledger().of(o) {
			if c.reverify() {
				reverifies++
			} else {
				reads++
			}
		}
		Expect(unsettled).To(BeEmpty(), "in a minute at 1 call/s the vendor saw %d reads of the request and %d reverify calls", reads, reverifies)
		Expect(checkOrder(o, r.list(ctx)[o.name], r.ledger().of(o)).problems).To(BeEmpty())
	})

	// txcloud has no canceled status: a canceled verification reads
	// expired, and only status.lastAppliedAction tells the controller the
	// expiry was its own cancel. When the cancel's answer is lost (here:
	// it comes after the client's 30s timeout) lastAppliedAction is never
	// written. A cancel made on a recent observation, without reading the
	// order again (as when the budget had no second call right after the
	// read), leaves lastObservedTime as it was; the retry then comes more
	// than a poll interval after it, observes instead of repeating the
	// cancel, reads expired, and calls it the vendor's doing. Fixed: the
	// cancel intent is written first (status.cancelRequestedTime).
	It("reads a txcloud verification its own cancel expired as canceled when the cancel's answer was lost", func(ctx SpecContext) {
		r := newRun(ctx, "txcloud-lost-cancel", suiteSeed)
		a := r.addAccount(ctx, "txcloud", "txcloud", simkit.Faults{}, func(s *v1.VerificationProviderSpec) {
			s.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1} // the cancel waits for a call of its own
		})
		o := &order{name: "cancel", account: a, play: play{kind: simkit.PlayCancel, desired: canceled}, word: "pending"}
		r.orders = []*order{o}
		m := r.startManager("txcloud-lost-cancel", kubeconfig)
		awaitTakeover(ctx, m, m.started)
		// The process's first call observes; its second, the cancel, is
		// applied and answered only after the client gave up; then the
		// vendor answers normally again.
		r.wire.at(m.name, 2, func() { a.sim.SetFaults(simkit.Faults{SlowRate: 1, SlowMs: 35_000}) })
		r.wire.at(m.name, 3, func() { a.sim.SetFaults(simkit.Faults{}) })
		createOrders(ctx, r.ns, r.orders)
		unsettled := r.converge(ctx, 2*time.Minute, nil)
		m.stop()

		Expect(unsettled).To(BeEmpty())
		Expect(checkOrder(o, r.list(ctx)[o.name], r.ledger().of(o)).problems).To(BeEmpty())
	})

	// A repeated cancel refused because the first one landed (its answer
	// was lost) is settled by reading the order (providers.Settle). When
	// that read fails, Settle returns the refusal and drops the read's
	// error, here a 429 with Retry-After. The controller then reads the
	// order again at once, in disregard of the 429, when its budget has a
	// call to spare; and when it has none, it reports the canceled order
	// Stalled, IllegalTransition, until its next poll. Fixed: Settle
	// returns the read's error when the read could not be made.
	It("honors the Retry-After of a failed read confirming a repeated cancel", func(ctx SpecContext) {
		r, a, o := settleReadFails(ctx, "settle-read-429")
		Expect(checkOrder(o, r.list(ctx)[o.name], r.ledger().of(o)).problems).To(BeEmpty())
		ra := checkRetryAfter(a, r.ledger()[a])
		Expect(append(ra.violations, ra.knownViolations...)).To(BeEmpty())
	})

	It("reports a canceled order as canceled when the read confirming a repeated cancel fails", func(ctx SpecContext) {
		r, _, o := settleReadFails(ctx, "settle-read-stalls", func(s *v1.VerificationProviderSpec) {
			s.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1} // no call to spare after the read
		})
		Expect(checkOrder(o, r.list(ctx)[o.name], r.ledger().of(o)).problems).To(BeEmpty())
	})

	// A vendor's Retry-After for an order lives only in the order's
	// requeue. Any change to the order (here its deletion, with
	// deletionPolicy Cancel) is reconciled at once, and calls the vendor
	// sooner than it asked. Fixed: a Retry-After on any answer pauses the
	// whole account, as a 429's always did.
	It("waits out a vendor's Retry-After on an order that is deleted meanwhile", func(ctx SpecContext) {
		r := newRun(ctx, "retry-after-deleted", suiteSeed)
		a := r.addAccount(ctx, "truework", "truework", simkit.Faults{})
		o := &order{name: "delete", account: a, play: play{kind: simkit.PlayDeleteCancel, desired: active}, word: "pending-approval"}
		r.orders = []*order{o}
		m := r.startManager("retry-after-deleted", kubeconfig)
		awaitTakeover(ctx, m, m.started)
		// The first read is answered 503 with Retry-After 5s; then the
		// vendor is well.
		r.wire.at(m.name, 1, func() {
			a.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusServiceUnavailable}, RetryAfterSeconds: 5})
		})
		r.wire.at(m.name, 2, func() { a.sim.SetFaults(simkit.Faults{}) })
		createOrders(ctx, r.ns, r.orders)
		Eventually(func() int { _, n := r.wire.snapshot(); return n }).Should(Equal(1))
		Eventually(func() []simkit.Event { return a.timeline() }).Should(HaveLen(1)) // the 503 is on record
		vo := &v1.VerificationOrder{}
		Expect(k8s.Get(ctx, client.ObjectKey{Namespace: r.ns, Name: o.name}, vo)).To(Succeed())
		Expect(vo.Finalizers).To(ContainElement(v1.CancelFinalizer))
		o.deletedAt = time.Now()
		Expect(k8s.Delete(ctx, vo)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx, client.ObjectKeyFromObject(vo), &v1.VerificationOrder{}))
		}).WithTimeout(time.Minute).Should(BeTrue())
		m.stop()

		ra := checkRetryAfter(a, r.ledger()[a])
		Expect(append(ra.violations, ra.knownViolations...)).To(BeEmpty())
	})

	// Go's http.Transport sends a GET again by itself, once, when the
	// connection it reused is cut before an answer. The budget paid for
	// one call; the vendor sees two. Fixed: vendorhttp makes every
	// request unreplayable.
	It("pays from the budget for every call the vendor sees", func(ctx SpecContext) {
		r := newRun(ctx, "transport-resend", suiteSeed)
		a := r.addAccount(ctx, "txcloud", "txcloud", simkit.Faults{}, func(s *v1.VerificationProviderSpec) {
			s.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1} // one call a second, no more
		})
		for i := range 2 {
			r.orders = append(r.orders, &order{name: fmt.Sprintf("active-%d", i), account: a, play: play{kind: simkit.PlayActive, desired: active}, word: "pending"})
		}
		m := r.startManager("transport-resend", kubeconfig)
		awaitTakeover(ctx, m, m.started)
		// 1: the first order's read opens a connection, kept for reuse;
		// 2: the second order's read, a second later on that connection,
		// is cut before an answer; 3: the transport's resend.
		r.wire.at(m.name, 2, func() { a.sim.SetFaults(simkit.Faults{ResetRate: 1}) })
		r.wire.at(m.name, 3, func() { a.sim.SetFaults(simkit.Faults{}) })
		createOrders(ctx, r.ns, r.orders)
		unsettled := r.converge(ctx, time.Minute, nil)
		m.stop()

		Expect(unsettled).To(BeEmpty())
		calls := r.ledger()[a]
		b := checkBudget(a, calls)
		Expect(b.refusedAll).To(BeZero(), "calls over the declared 1/s (unpaid: %v): %s", b.unpaid, describeCalls(calls))
	})
})

// settleReadFails plays an AccountChek cancel whose answer is lost, whose
// repeat is refused (422: already canceled), and whose confirming read is
// answered 429 with Retry-After; it returns once the order settled and
// the manager stopped.
func settleReadFails(ctx SpecContext, name string, tune ...func(*v1.VerificationProviderSpec)) (*run, *account, *order) {
	GinkgoHelper()
	r := newRun(ctx, name, suiteSeed)
	a := r.addAccount(ctx, "accountchek", "accountchek", simkit.Faults{}, tune...)
	o := &order{name: "cancel", account: a, play: play{kind: simkit.PlayCancel, desired: canceled}, word: "opened"}
	r.orders = []*order{o}
	m := r.startManager(name, kubeconfig)
	awaitTakeover(ctx, m, m.started)
	// 1: the read; 2: the cancel, applied and its answer lost; 3: the
	// repeat, refused; 4: Settle's read, 429; then the vendor is well.
	r.wire.at(m.name, 2, func() { a.sim.SetFaults(simkit.Faults{DropAfterCommit: 1}) })
	r.wire.at(m.name, 3, func() { a.sim.SetFaults(simkit.Faults{}) })
	r.wire.at(m.name, 4, func() {
		a.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusTooManyRequests}, RetryAfterSeconds: retryAfter})
	})
	r.wire.at(m.name, 5, func() { a.sim.SetFaults(simkit.Faults{}) })
	createOrders(ctx, r.ns, r.orders)
	Expect(r.converge(ctx, time.Minute, nil)).To(BeEmpty())
	m.stop()
	return r, a, o
}
