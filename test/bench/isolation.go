package main

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// Isolation: one account's trouble must not reach another's orders.
//
// slowvendor: a txcloud account whose vendor answers every call after 25s
// (the simulator's slow fault, under the client's 30s timeout), with 16
// orders that want a call there; once 8 of those calls hang (as many as
// the manager has workers), 3 cancels at an idle AccountChek account. They
// are timed against the same 3 cancels made earlier in the same run,
// before the txcloud account turned slow (after a first cancel there, not
// timed, so that both find the account's client made).
//
// sharedaccount: two providers in two namespaces over one Truework
// account (the same API key; the Secrets differ only in their webhook
// secrets), one declaring the vendor's 10 requests/s, the other 1000. Both
// have orders enough to keep the account busy throughout. The vendor's own
// count says how many calls it refused (429) and the most it saw in any one
// second.
const (
	slowOrders = 16
	slowAnswer = 25 * time.Second
	// slowHung is how many calls must hang at the slow vendor before the
	// cancels: the manager's 8 workers, each held by one, before the
	// isolation change.
	slowHung = 8
	// probes are the cancels timed at the idle account, each time.
	probes       = 3
	sharedOrders = 150 // per provider
	// sharedDeclared is what the second provider declares: the most the
	// CRD allows, a hundred times the vendor's 10/s.
	sharedDeclared = 1000
	// trueworkCeiling is the most calls a client keeping to Truework's 10
	// requests/s (burst 10) sends in one second: its bucket's burst, 5,
	// plus 9.7 calls (controllers/budget: 97% of the rate, half the burst).
	trueworkCeiling = 14
)

func (b *bench) slowVendorScenario() error {
	st, err := b.newStage(sSlowVendor)
	if err != nil {
		return err
	}
	defer st.close()
	calls := &inFlight{}
	slow, err := st.account("txcloud", 0, 5*time.Minute, fixture.Behind(calls.wrap))
	if err != nil {
		return err
	}
	idle, err := st.account("accountchek", 0, 5*time.Minute)
	if err != nil {
		return err
	}
	// A first cancel warms the account (the manager's client for it, its
	// connections), as the later ones find it.
	if _, err := b.timeCancels(idle, 0, 1); err != nil {
		return fmt.Errorf("the first cancel: %w", err)
	}
	time.Sleep(time.Second) // the account's budget refills, as it has by the later cancels
	ideal, err := b.timeCancels(idle, 1, probes)
	if err != nil {
		return fmt.Errorf("the cancels with no slow vendor: %w", err)
	}
	slow.Sim.SetFaults(simkit.Faults{SlowRate: 1, SlowMs: int(slowAnswer / time.Millisecond)})
	defer slow.Sim.SetFaults(simkit.Faults{}) // the calls held keep their 25s; later ones are answered at once
	if _, err := b.orders(slow, slowOrders, "pending", canceled); err != nil {
		return err
	}
	if err := calls.await(slowHung, 2*time.Minute); err != nil {
		return fmt.Errorf("txcloud: %w", err)
	}
	hung := calls.resetPeak()
	took, err := b.timeCancels(idle, 1+probes, probes)
	if err != nil {
		return fmt.Errorf("the cancels beside the slow vendor: %w", err)
	}
	peak := calls.resetPeak()
	b.add(result{Scenario: sSlowVendor, Measure: fmt.Sprintf("%d AccountChek cancels, no slow vendor (ideal)", probes), Value: ideal.Seconds(), Unit: "s",
		Target: "median"})
	b.add(result{Scenario: sSlowVendor, Measure: fmt.Sprintf("the same beside %d txcloud orders answered after %s", slowOrders, slowAnswer), Value: took.Seconds(), Unit: "s",
		Target: fmt.Sprintf("median <= 1.5 x %.2fs (and < 2s)", ideal.Seconds()), Ratio: took.Seconds() / ideal.Seconds()})
	b.add(result{Scenario: sSlowVendor, Measure: "txcloud calls in flight at the cancels", Value: float64(hung), Unit: unitCalls,
		Target: fmt.Sprintf("most while they ran: %d", max(hung, peak))})
	return nil
}

// timeCancels creates n cancels at a's vendor orders (named a.name-first…)
// at once, waits until each is Ready and canceled, and returns the median
// time from their creation.
func (b *bench) timeCancels(a *account, first, n int) (time.Duration, error) {
	names := map[string]bool{}
	for i := range n {
		names[fmt.Sprintf("%s/%s-%d", a.ns, a.name, first+i)] = true
	}
	start := time.Now()
	if _, err := b.ordersFrom(a, first, n, "opened", canceled); err != nil {
		return 0, err
	}
	seen, err := b.watch.wait(func(o *v1.VerificationOrder) bool {
		return names[o.Namespace+"/"+o.Name] && canceledNamed(o.Namespace, o.Name)(o)
	}, n, 5*time.Minute)
	if err != nil {
		return 0, err
	}
	took := make([]time.Duration, 0, n)
	for _, t := range seen {
		took = append(took, t.Sub(start))
	}
	slices.Sort(took)
	return took[len(took)/2], nil
}

// inFlight counts a simulator's vendor calls from their arrival to their
// answer (the txcloud simulator keeps its own count per key, for its plans'
// concurrency, but does not tell it), and the most at once since the last
// look.
type inFlight struct {
	mu        sync.Mutex
	now, peak int
	changed   chan struct{} // closed and replaced at each change
}

func (f *inFlight) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/_sandbox/") {
			next.ServeHTTP(w, r)
			return
		}
		f.add(1)
		defer f.add(-1)
		next.ServeHTTP(w, r)
	})
}

func (f *inFlight) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now += n
	f.peak = max(f.peak, f.now)
	if f.changed != nil {
		close(f.changed)
		f.changed = nil
	}
}

// await waits until n calls are in flight at once.
func (f *inFlight) await(n int, timeout time.Duration) error {
	deadline := time.After(timeout)
	for {
		f.mu.Lock()
		now := f.now
		if f.changed == nil {
			f.changed = make(chan struct{})
		}
		changed := f.changed
		f.mu.Unlock()
		if now >= n {
			return nil
		}
		select {
		case <-changed:
		case <-deadline:
			return fmt.Errorf("%d calls in flight after %s, not %d", now, timeout, n)
		}
	}
}

// resetPeak returns the most calls in flight at once since the last call,
// and starts counting again from those in flight now.
func (f *inFlight) resetPeak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	peak := f.peak
	f.peak = f.now
	return peak
}

func (b *bench) sharedAccountScenario() error {
	st, err := b.newStageWithoutManager(sShared)
	if err != nil {
		return err
	}
	defer st.close()
	other, err := b.namespace(sShared)
	if err != nil {
		return err
	}
	defer b.cleanup(other)
	// The account as the vendor publishes it (no spec.rateLimit: 10/s) ...
	first, err := st.account("truework", 0, 5*time.Minute, fixture.ReceivingWebhooks())
	if err != nil {
		return err
	}
	// ... and the same account from another namespace: the same API key,
	// another webhook secret, and a rate the vendor does not allow.
	second := &account{Account: first.Account, ns: other, name: first.name}
	secret, provider := first.Secret.DeepCopy(), first.Provider.DeepCopy()
	secret.ObjectMeta = metav1.ObjectMeta{Namespace: other, Name: secret.Name}
	provider.ObjectMeta = metav1.ObjectMeta{Namespace: other, Name: provider.Name}
	secret.Data[fixture.WebhookSecretKey] = []byte(first.WebhookSecret + "-" + other) // as the API server returned it: in Data
	provider.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: sharedDeclared}
	if err := b.k8s.Create(ctx(), secret); err != nil {
		return err
	}
	if err := b.k8s.Create(ctx(), provider); err != nil {
		return err
	}
	for _, a := range []*account{first, second} {
		if _, err := b.orders(a, sharedOrders, "pending-approval", canceled); err != nil {
			return err
		}
	}
	start := time.Now()
	if err := st.startManager(); err != nil {
		return err
	}
	both := func(o *v1.VerificationOrder) bool {
		return (o.Namespace == st.ns || o.Namespace == other) && readyFor(o, v1.ReasonConverged)
	}
	ready, err := b.watch.wait(both, 2*sharedOrders, 10*time.Minute)
	if err != nil {
		return err
	}
	timeline := first.Sim.Timeline()
	throttled := 0
	for _, ev := range timeline {
		if ev.Status == http.StatusTooManyRequests && !ev.Injected {
			throttled++
		}
	}
	busiest, from := simkit.BusiestSecond(timeline)
	took := latest(ready).Sub(start)
	b.add(result{Scenario: sShared, Measure: fmt.Sprintf("%d cancels, 2 providers of one 10/s account", 2*sharedOrders), Value: took.Seconds(), Unit: "s",
		Target: fmt.Sprintf("from the manager's start; %d vendor calls", len(timeline))})
	b.add(throttledRow(sShared, throttled))
	b.add(result{Scenario: sShared, Measure: "most vendor calls in any 1 s", Value: float64(busiest), Unit: unitCalls,
		Target: fmt.Sprintf("<= %d (10/s: burst 5 + 9.7); at %.1fs", trueworkCeiling, from.Sub(start).Seconds()), Ratio: float64(busiest) / trueworkCeiling})
	return nil
}
