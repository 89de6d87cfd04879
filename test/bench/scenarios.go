package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var (
	multiOrders   = flag.Int("multi-orders", 2000, "orders of the multi-provider scenario")
	multiAccounts = flag.Int("multi-accounts", 50, "Truework accounts of the multi-provider scenario")
	steadyFor     = flag.Duration("steady", 60*time.Second, "how long the steady-state scenario watches")
	memoryLevels  = flag.String("memory", "1000,2000,5000,10000", "order counts at which the manager's memory is read")
	managerFlags  = flag.String("manager-flags", "", "extra flags for the manager, e.g. --workers=16")
)

// truework's published limit, less the client's 3% margin: what a single
// account can do at best.
const accountRate = 10 * 0.97

type scenario struct {
	name, about string
	run         func(*bench) error
}

// The scenarios' names, also their rows' first column.
const (
	sCeiling    = "ceiling"
	sMulti      = "multi"
	sHeadOfLine = "headofline"
	sPerson     = "person"
	sSingle     = "single"
	sCalls      = "calls"
	sSteady     = "steady"
	sMemory     = "memory"
)

const unitCalls = "calls"

var scenarios = []scenario{
	{sCeiling, "the API server's status-write ceiling, 8 writers as the manager's 8 workers", (*bench).ceilingScenario},
	{sMulti, "cancels spread over many Truework accounts", (*bench).multiScenario},
	{sHeadOfLine, "600 cancels queued at one account, then 20 at another", (*bench).headOfLineScenario},
	{sPerson, "30 cancels under a saturating poll load at one account", (*bench).personScenario},
	{sSingle, "300 cancels at one 10 rps account", (*bench).singleScenario},
	{sCalls, "vendor calls per converged cancel, fresh and never observed; then steady state", (*bench).callsScenario},
	{sMemory, "manager memory with converged orders held", (*bench).memoryScenario},
}

func names() []string {
	out := make([]string, 0, len(scenarios))
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return out
}

func (b *bench) ceilingScenario() error {
	ns, err := b.namespace(sCeiling)
	if err != nil {
		return err
	}
	const n = 200
	orders := make([]*v1.VerificationOrder, n)
	for i := range n {
		orders[i] = &v1.VerificationOrder{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("o-%d", i), Namespace: ns},
			Spec:       v1.VerificationOrderSpec{ProviderRef: v1.LocalReference{Name: "none"}, OrderID: fmt.Sprintf("id-%d", i)},
		}
		if err := b.k8s.Create(ctx(), orders[i]); err != nil {
			return err
		}
	}
	var mu sync.Mutex
	writes := 0
	stop := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; time.Now().Before(stop); i = (i + 8) % n {
				o := orders[i]
				mu.Lock()
				o = o.DeepCopy()
				mu.Unlock()
				meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: "Ready", Status: "Unknown", Reason: "Bench", Message: time.Now().String()})
				if err := b.k8s.Status().Update(ctx(), o); err == nil {
					mu.Lock()
					writes++
					orders[i] = o
					mu.Unlock()
				} else {
					_ = b.k8s.Get(ctx(), client.ObjectKeyFromObject(o), o)
					mu.Lock()
					orders[i] = o
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	b.ceiling = float64(writes) / 10
	b.add(result{Scenario: sCeiling, Measure: "status writes/s (8 writers)", Value: b.ceiling, Unit: "writes/s"})
	b.cleanup(ns)
	return nil
}

// convergence runs orders at accounts to Ready and reports throughput and
// time to Ready.
func (b *bench) multiScenario() error {
	st, err := b.newStage(sMulti)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	per := *multiOrders / *multiAccounts
	accounts := make([]*account, *multiAccounts)
	for i := range accounts {
		if accounts[i], err = st.account("truework", i, 5*time.Minute); err != nil {
			return err
		}
	}
	start := time.Now()
	created := map[string]time.Time{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, len(accounts))
	for _, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			orders, err := b.orders(a, per, "pending-approval", canceled)
			now := time.Now()
			mu.Lock()
			for _, o := range orders {
				if o != nil {
					created[o.Namespace+"/"+o.Name] = now
				}
			}
			mu.Unlock()
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	total := per * len(accounts)
	ready, err := b.readyTimes([]string{ns}, total, v1.ReasonConverged, 10*time.Minute)
	if err != nil {
		return err
	}
	elapsed := latest(ready).Sub(start)
	rate := float64(total) / elapsed.Seconds()
	calls := 0
	for _, a := range accounts {
		n, _ := a.calls()
		calls += n
	}
	callsPerOrder := float64(calls) / float64(total)
	budget := accountRate * float64(len(accounts)) / callsPerOrder
	ideal := budget
	if b.ceiling > 0 {
		ideal = min(ideal, b.ceiling/2) // about two status writes an order
	}
	p50, p99 := percentiles(created, ready)
	b.add(result{Scenario: sMulti, Measure: fmt.Sprintf("%d cancels / %d accounts", total, len(accounts)), Value: rate, Unit: "orders/s",
		Target: fmt.Sprintf(">= 80%% of %.0f (min(ceiling/2, budgets/calls))", ideal), Ratio: rate / ideal})
	b.add(result{Scenario: sMulti, Measure: "time to Ready p50", Value: p50.Seconds(), Unit: "s"})
	b.add(result{Scenario: sMulti, Measure: "time to Ready p99", Value: p99.Seconds(), Unit: "s"})
	b.add(result{Scenario: sMulti, Measure: "vendor calls per order", Value: callsPerOrder, Unit: unitCalls})
	return nil
}

func (b *bench) headOfLineScenario() error {
	st, err := b.newStage(sHeadOfLine)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	busy, err := st.account("truework", 0, 5*time.Minute)
	if err != nil {
		return err
	}
	idle, err := st.account("accountchek", 0, 5*time.Minute)
	if err != nil {
		return err
	}
	if _, err := b.orders(busy, 600, "pending-approval", canceled); err != nil {
		return err
	}
	time.Sleep(2 * time.Second) // the backlog is queued
	start := time.Now()
	if _, err := b.orders(idle, 20, "opened", canceled); err != nil {
		return err
	}
	idleNS, err := b.readyNamed(ns, idle.name+"-", 20)
	if err != nil {
		return err
	}
	took := idleNS.Sub(start)
	ideal := 40 / accountRate
	b.add(result{Scenario: sHeadOfLine, Measure: "20 AccountChek cancels behind 600", Value: took.Seconds(), Unit: "s",
		Target: fmt.Sprintf("<= 1.5 x %.1fs (own budget)", ideal), Ratio: took.Seconds() / ideal})
	return nil
}

// readyNamed waits until want orders whose names start with prefix are
// converged, and returns when the last one was seen.
func (b *bench) readyNamed(ns, prefix string, want int) (time.Time, error) {
	deadline := time.Now().Add(5 * time.Minute)
	for {
		var list v1.VerificationOrderList
		if err := b.k8s.List(ctx(), &list); err != nil {
			return time.Time{}, err
		}
		n := 0
		for _, o := range list.Items {
			if o.Namespace != ns || len(o.Name) < len(prefix) || o.Name[:len(prefix)] != prefix {
				continue
			}
			if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == o.Generation && o.Status.State == v1.ObservedState(canceled) {
				n++
			}
		}
		if n >= want {
			return time.Now(), nil
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%d of %d converged", n, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) personScenario() error {
	st, err := b.newStage(sPerson)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	a, err := st.account("truework", 0, 10*time.Second)
	if err != nil {
		return err
	}
	orders, err := b.orders(a, 300, "pending-approval", active)
	if err != nil {
		return err
	}
	if _, err := b.readyTimes([]string{ns}, 300, v1.ReasonConverged, 5*time.Minute); err != nil {
		return err
	}
	time.Sleep(15 * time.Second) // polls saturate the account's poll share
	before, _ := a.calls()
	pollStart := time.Now()
	time.Sleep(5 * time.Second)
	after, _ := a.calls()
	pollRate := float64(after-before) / time.Since(pollStart).Seconds()
	start := time.Now()
	if err := b.flip(orders[:30], canceled); err != nil {
		return err
	}
	done, err := b.readyNamed(ns, a.name+"-", 30)
	if err != nil {
		return err
	}
	took := done.Sub(start)
	ideal := 30 / (accountRate * 0.5) // half the budget is the polls'
	_, throttled := a.calls()
	b.add(result{Scenario: sPerson, Measure: "poll load before the change", Value: pollRate, Unit: "calls/s"})
	b.add(result{Scenario: sPerson, Measure: "30 cancels under poll load", Value: took.Seconds(), Unit: "s",
		Target: fmt.Sprintf("<= 1.5 x %.1fs", ideal), Ratio: took.Seconds() / ideal})
	b.add(result{Scenario: sPerson, Measure: "429s from the vendor", Value: float64(throttled), Unit: "responses", Target: "0"})
	return nil
}

func (b *bench) singleScenario() error {
	st, err := b.newStage(sSingle)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	a, err := st.account("truework", 0, 5*time.Minute)
	if err != nil {
		return err
	}
	start := time.Now()
	if _, err := b.orders(a, 300, "pending-approval", canceled); err != nil {
		return err
	}
	ready, err := b.readyTimes([]string{ns}, 300, v1.ReasonConverged, 5*time.Minute)
	if err != nil {
		return err
	}
	calls, throttled := a.calls()
	rps := float64(calls) / latest(ready).Sub(start).Seconds()
	b.add(result{Scenario: sSingle, Measure: "achieved vendor rate", Value: rps, Unit: "calls/s",
		Target: ">= 95% of 10", Ratio: rps / 10})
	b.add(result{Scenario: sSingle, Measure: "429s from the vendor", Value: float64(throttled), Unit: "responses", Target: "0"})
	return nil
}

func (b *bench) callsScenario() error {
	st, err := b.newStage(sCalls)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	fresh, err := st.account("truework", 0, 5*time.Minute)
	if err != nil {
		return err
	}
	unseen, err := st.account("truework", 1, 5*time.Minute)
	if err != nil {
		return err
	}
	const n = 50
	orders, err := b.orders(fresh, n, "pending-approval", active)
	if err != nil {
		return err
	}
	if _, err := b.readyTimes([]string{ns}, n, v1.ReasonConverged, 5*time.Minute); err != nil {
		return err
	}
	observed, _ := fresh.calls()
	if err := b.flip(orders, canceled); err != nil {
		return err
	}
	if _, err := b.orders(unseen, n, "pending-approval", canceled); err != nil {
		return err
	}
	if _, err := b.readyNamed(ns, fresh.name+"-", n); err != nil {
		return err
	}
	if _, err := b.readyNamed(ns, unseen.name+"-", n); err != nil {
		return err
	}
	freshCalls, _ := fresh.calls()
	unseenCalls, _ := unseen.calls()
	b.add(result{Scenario: sCalls, Measure: "calls per cancel, freshly observed", Value: float64(freshCalls-observed) / n, Unit: unitCalls, Target: "<= 1.1"})
	b.add(result{Scenario: sCalls, Measure: "calls per cancel, never observed", Value: float64(unseenCalls) / n, Unit: unitCalls, Target: "<= 2"})

	// Steady state: every order is terminal now.
	time.Sleep(2 * time.Second)
	before, err := st.m.scrape()
	if err != nil {
		return err
	}
	c0, _ := fresh.calls()
	u0, _ := unseen.calls()
	time.Sleep(*steadyFor)
	after, err := st.m.scrape()
	if err != nil {
		return err
	}
	c1, _ := fresh.calls()
	u1, _ := unseen.calls()
	reconciles := sum(after, "controller_runtime_reconcile_total", `controller="verificationorder"`) -
		sum(before, "controller_runtime_reconcile_total", `controller="verificationorder"`)
	b.add(result{Scenario: sSteady, Measure: fmt.Sprintf("vendor calls in %s, %d terminal orders", *steadyFor, 2*n), Value: float64(c1 - c0 + u1 - u0), Unit: unitCalls, Target: "0"})
	b.add(result{Scenario: sSteady, Measure: "reconciles in the same time", Value: reconciles, Unit: "reconciles", Target: "0"})
	return nil
}

func (b *bench) memoryScenario() error {
	st, err := b.newStage(sMemory)
	if err != nil {
		return err
	}
	defer st.close()
	ns := st.ns
	levels := splitInts(*memoryLevels)
	const accounts = 100
	accs := make([]*account, accounts)
	for i := range accs {
		if accs[i], err = st.account("accountchek", i, 5*time.Minute); err != nil {
			return err
		}
	}
	held := 0
	for _, level := range levels {
		per := (level - held) / accounts
		var wg sync.WaitGroup
		errs := make(chan error, accounts)
		for _, a := range accs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// Orders named past what this account already holds.
				_, err := b.ordersFrom(a, held/accounts, per, "canceled", active)
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				return err
			}
		}
		held += per * accounts
		if _, err := b.readyTimes([]string{ns}, held, v1.ReasonWatching, 10*time.Minute); err != nil {
			return err
		}
		time.Sleep(5 * time.Second)
		metrics, err := st.m.scrape()
		if err != nil {
			return err
		}
		b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("RSS at %d orders", held), Value: st.m.rss(), Unit: "MiB", Target: "<= 100 at 10,000"})
		b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("heap in use at %d orders", held), Value: metrics["go_memstats_heap_inuse_bytes"] / (1 << 20), Unit: "MiB"})
	}
	return nil
}

func latest(times map[string]time.Time) time.Time {
	var last time.Time
	for _, t := range times {
		if t.After(last) {
			last = t
		}
	}
	return last
}

func percentiles(created, ready map[string]time.Time) (p50, p99 time.Duration) {
	var d []time.Duration
	for k, t := range ready {
		if c, ok := created[k]; ok {
			d = append(d, t.Sub(c))
		}
	}
	if len(d) == 0 {
		return 0, 0
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2], d[len(d)*99/100]
}

func splitInts(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err == nil {
			out = append(out, n)
		}
	}
	return out
}
