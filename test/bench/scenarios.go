package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var (
	multiOrders   = flag.Int("multi-orders", 2000, "orders of the multi-provider scenario")
	multiAccounts = flag.Int("multi-accounts", 50, "Truework accounts of the multi-provider scenario")
	steadyFor     = flag.Duration("steady", 60*time.Second, "how long the steady-state scenario watches")
	managerFlags  = flag.String("manager-flags", "", "extra flags for the manager, e.g. --workers=16")
	managerBin    = flag.String("manager", "", "a manager binary to measure instead of building ./cmd/manager, e.g. one built from another commit")
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
	sSlowVendor = "slowvendor"
	sShared     = "sharedaccount"
	sPerson     = "person"
	sSingle     = "single"
	sCalls      = "calls"
	sSteady     = "steady"
	sMemory     = "memory"
	sWebhooks   = "webhooks"
	sShards     = "shards"
)

const (
	unitCalls = "calls"
	unitRate  = "orders/s"
	unitMiB   = "MiB"
	unitKiB   = "KiB"
	unitOrder = "orders"
)

var scenarios = []scenario{
	{sMulti, "cancels spread over many Truework accounts", (*bench).multiScenario},
	{sHeadOfLine, "600 cancels queued at one account, then 20 at another", (*bench).headOfLineScenario},
	{sSlowVendor, "3 AccountChek cancels while a txcloud account answers 16 orders' calls after 25s", (*bench).slowVendorScenario},
	{sPerson, "30 cancels under a saturating poll load at one account", (*bench).personScenario},
	{sSingle, "300 cancels at one 10 rps account", (*bench).singleScenario},
	{sShared, "300 cancels through two providers of one 10 rps account, one declaring 1000 rps", (*bench).sharedAccountScenario},
	{sCalls, "vendor calls per converged cancel, fresh and never observed; then steady state", (*bench).callsScenario},
	{sMemory, "manager memory with converged orders held", (*bench).memoryScenario},
	{sRetention, "a steady stream of cancels with a short retention TTL, then without retention", (*bench).retentionScenario},
	{sWebhooks, "vendor calls per active order per day, polling every 5s, then with webhooks", (*bench).webhooksScenario},
	{sShards, "2N orders converged by one replica, then N by each of 2 shards (-shards-orders=N)", (*bench).shardsScenario},
}

func names() []string {
	out := make([]string, 0, len(scenarios))
	for _, s := range scenarios {
		out = append(out, s.name)
	}
	return out
}

// multiScenario runs cancels spread over many accounts to Ready. The
// orders exist before the manager starts, so that what is timed is the
// manager's work and not the bench's creating them: from the first order
// seen Ready to the last (the manager's start-up is reported on its own).
// Then, with the manager stopped, it measures the API ceiling for the same
// writes per order.
func (b *bench) multiScenario() error {
	st, err := b.newStageWithoutManager(sMulti)
	if err != nil {
		return err
	}
	defer st.close()
	per := *multiOrders / *multiAccounts
	accounts := make([]*account, *multiAccounts)
	for i := range accounts {
		if accounts[i], err = st.account("truework", i, 5*time.Minute); err != nil {
			return err
		}
	}
	if err := parallel(len(accounts), len(accounts), func(i int) error {
		_, err := b.orders(accounts[i], per, "pending-approval", canceled)
		return err
	}); err != nil {
		return err
	}
	total := per * len(accounts)
	run, err := b.convergeAll(st, total)
	if err != nil {
		return err
	}
	calls := 0
	for _, a := range accounts {
		n, _ := a.calls()
		calls += n
	}
	callsPerOrder := float64(calls) / float64(total)
	budget := accountRate * float64(len(accounts)) / callsPerOrder
	st.stopManager()
	api, err := b.apiCeiling(run.writes, total, 20*time.Second)
	if err != nil {
		return err
	}
	ideal := min(api.rate, budget)
	b.add(result{Scenario: sMulti, Measure: fmt.Sprintf("%d cancels / %d accounts, once started", total, len(accounts)), Value: run.rate, Unit: unitRate,
		Target: fmt.Sprintf(">= 80%% of %.0f = min(API %.0f, budgets %.0f)", ideal, api.rate, budget), Ratio: run.rate / ideal})
	b.add(result{Scenario: sMulti, Measure: "the same from the manager's start", Value: run.fromStart, Unit: unitRate})
	b.add(result{Scenario: sMulti, Measure: "time to the first Ready (start-up)", Value: run.first.Seconds(), Unit: "s"})
	b.add(result{Scenario: sMulti, Measure: "time to Ready p50 from the start", Value: run.p50.Seconds(), Unit: "s"})
	b.add(result{Scenario: sMulti, Measure: "time to Ready p99 from the start", Value: run.p99.Seconds(), Unit: "s"})
	b.add(result{Scenario: sMulti, Measure: "vendor calls per order", Value: callsPerOrder, Unit: unitCalls})
	run.reportAPI(b, total)
	run.cpu.report(b, sMulti, total)
	b.add(result{Scenario: sCeiling, Measure: fmt.Sprintf("orders/s, %.2f status writes + %.2f Events each", run.writes.status, run.writes.events), Value: api.rate, Unit: "orders/s",
		Target: fmt.Sprintf("a bare client, %d at a time", ceilingWriters)})
	api.cpu.report(b, sCeiling, api.orders)
	return nil
}

// convergence is what a manager did to converge a set of orders.
type convergence struct {
	// rate is orders per second once the manager has started, from the
	// first order Ready to the last: a running manager's throughput, as
	// the API ceiling is a running client's. fromStart counts from the
	// process's start, start-up (first) included.
	rate, fromStart float64
	p50, p99        time.Duration
	// first is the time to the first order Ready: the manager starting.
	first time.Duration
	// requests are the manager's API requests (see apiRequests).
	requests   map[string]float64
	writes     writesPerOrder
	reconciles float64
	cpu        cpuSplit
}

// convergeAll starts st's manager and waits until want orders of st's
// namespace are Converged; it profiles the run with -profile.
func (b *bench) convergeAll(st *stage, want int) (convergence, error) {
	cpuBefore := b.sampleCPU(0)
	start := time.Now()
	if err := st.startManager(); err != nil {
		return convergence{}, err
	}
	profiles, err := b.startCPUProfiles(sMulti, st.m)
	if err != nil {
		return convergence{}, err
	}
	ready, err := b.readyTimes(st.ns, want, v1.ReasonConverged, 10*time.Minute)
	if err != nil {
		return convergence{}, err
	}
	c := convergence{cpu: splitCPU(cpuBefore, b.sampleCPU(st.m.pid()), cpuCount())}
	if err := profiles.stop(); err != nil {
		return c, err
	}
	c.requests = apiRequests(st.m, nil)
	c.reconciles = reconcilesSince(st.m, nil)
	first, last := earliest(ready), latest(ready)
	c.rate = float64(want-1) / last.Sub(first).Seconds()
	c.fromStart = float64(want) / last.Sub(start).Seconds()
	c.p50, c.p99 = percentiles(start, ready)
	c.first = first.Sub(start)
	c.writes = writesPerOrder{status: c.requests["PUT"] / float64(want), events: c.requests["POST"] / float64(want)}
	return c, nil
}

// reportAPI adds the rows of the manager's API requests and reconciles per order.
func (c convergence) reportAPI(b *bench, orders int) {
	perOrder := func(n float64) float64 { return n / float64(orders) }
	r := c.requests
	b.add(result{Scenario: sMulti, Measure: "manager's API writes per order", Value: perOrder(r["PUT"] + r["POST"] + r["PATCH"]), Unit: "writes",
		Target: fmt.Sprintf("PUT %.2f (409: %.2f), POST %.2f, PATCH %.2f; GET %.2f", perOrder(r["PUT"]), perOrder(r["PUT 409"]),
			perOrder(r["POST"]), perOrder(r["PATCH"]), perOrder(r["GET"]))})
	b.add(result{Scenario: sMulti, Measure: "reconciles per order", Value: perOrder(c.reconciles), Unit: "reconciles"})
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
	if _, err := b.readyTimes(ns, 300, v1.ReasonConverged, 5*time.Minute); err != nil {
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
	b.add(throttledRow(sPerson, throttled))
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
	ready, err := b.readyTimes(ns, 300, v1.ReasonConverged, 5*time.Minute)
	if err != nil {
		return err
	}
	calls, throttled := a.calls()
	rps := float64(calls) / latest(ready).Sub(start).Seconds()
	b.add(result{Scenario: sSingle, Measure: "achieved vendor rate", Value: rps, Unit: "calls/s",
		Target: ">= 95% of 10", Ratio: rps / 10})
	b.add(throttledRow(sSingle, throttled))
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
	if _, err := b.readyTimes(ns, n, v1.ReasonConverged, 5*time.Minute); err != nil {
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
	reconciles := orderReconciles(after) - orderReconciles(before)
	b.add(result{Scenario: sSteady, Measure: fmt.Sprintf("vendor calls in %s, %d terminal orders", *steadyFor, 2*n), Value: float64(c1 - c0 + u1 - u0), Unit: unitCalls, Target: "0"})
	b.add(result{Scenario: sSteady, Measure: "reconciles in the same time", Value: reconciles, Unit: "reconciles", Target: "0"})
	return nil
}

// throttledRow reports the 429s a scenario's vendor answered: none is the target.
func throttledRow(scenario string, throttled int) result {
	return result{Scenario: scenario, Measure: "429s from the vendor", Value: float64(throttled), Unit: "responses", Target: "0"}
}

// orderReconciles is how many reconciles of orders the manager has made.
func orderReconciles(metrics map[string]float64) float64 {
	return sum(metrics, "controller_runtime_reconcile_total", `controller="verificationorder"`)
}

// reconcilesSince is how many reconciles of orders m made since before.
func reconcilesSince(m *manager, before map[string]float64) float64 {
	return orderReconciles(scrapeOrEmpty(m)) - orderReconciles(before)
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

func earliest(times map[string]time.Time) time.Time {
	var first time.Time
	for _, t := range times {
		if first.IsZero() || t.Before(first) {
			first = t
		}
	}
	return first
}

// percentiles are the 50th and 99th percentile of the times from start
// to ready.
func percentiles(start time.Time, ready map[string]time.Time) (p50, p99 time.Duration) {
	d := make([]time.Duration, 0, len(ready))
	for _, t := range ready {
		d = append(d, t.Sub(start))
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
