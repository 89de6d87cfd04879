package main

import (
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var memoryLevels = flag.String("memory", "10000,50000",
	"order counts at which the memory scenario reads the manager's memory, e.g. 10000,50000,100000 (100,000 takes about half an hour on 2 cores)")

// memoryAccounts is how many AccountChek accounts the memory scenario's
// orders are spread over, so that no account's rate binds.
const memoryAccounts = 100

// memoryLevel is what the manager held at one level.
type memoryLevel struct {
	orders int
	// rss20s is RSS 20 s after the orders converged, as a running pod
	// holds them; rssGC is RSS 20 s after a garbage collection that
	// followed; live is the heap the collection kept.
	rss20s, rssGC, live, inUse float64
}

// memoryScenario creates orders in steps up to each level, waits until the
// manager has converged them all (each a read of a canceled AccountChek
// order: Watching), and reads the manager's memory: RSS 20 s later, then
// the live heap and RSS 20 s after a garbage collection it asks for
// through pprof. The slopes between the first and the last level are what
// each order held costs, the fixed cost of the process left out.
func (b *bench) memoryScenario() error {
	st, err := b.newStageWithoutManager(sMemory)
	if err != nil {
		return err
	}
	defer st.close()
	if err := st.startManagerWithPprof(); err != nil {
		return err
	}
	accs := make([]*account, memoryAccounts)
	for i := range accs {
		if accs[i], err = st.account("accountchek", i, 5*time.Minute); err != nil {
			return err
		}
	}
	var levels []memoryLevel
	held := 0
	for _, want := range splitInts(*memoryLevels) {
		per := (want - held) / memoryAccounts
		if per <= 0 {
			continue
		}
		start := time.Now()
		if err := b.memoryOrders(accs, held/memoryAccounts, per); err != nil {
			return err
		}
		held += per * memoryAccounts
		// The manager converges a few hundred orders a second at best here.
		timeout := 10*time.Minute + time.Duration(per*memoryAccounts/20)*time.Second
		if _, err := b.readyTimes(st.ns, held, v1.ReasonWatching, timeout); err != nil {
			return err
		}
		fmt.Printf("   %d orders held, converged %s after their creation began\n", held, time.Since(start).Round(time.Second))
		l, err := st.m.readMemory(held)
		if err != nil {
			return err
		}
		levels = append(levels, l)
		b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("RSS 20 s after %d orders converged", held), Value: l.rss20s, Unit: unitMiB})
		b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("RSS at %d orders, 20 s after a GC", held), Value: l.rssGC, Unit: unitMiB})
		b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("live heap at %d orders (after a GC)", held), Value: l.live, Unit: unitMiB,
			Target: fmt.Sprintf("heap in use %.0f MiB", l.inUse)})
	}
	if len(levels) >= 2 {
		first, last := levels[0], levels[len(levels)-1]
		perOrder := func(a, b float64) float64 { return (b - a) * 1024 / float64(last.orders-first.orders) } // MiB → KiB per order
		between := fmt.Sprintf("%dk → %dk orders", first.orders/1000, last.orders/1000)
		b.add(result{Scenario: sMemory, Measure: "RSS per order held, after a GC", Value: perOrder(first.rssGC, last.rssGC), Unit: unitKiB,
			Target: "<= 2 (" + between + ")"})
		b.add(result{Scenario: sMemory, Measure: "RSS per order, 20 s after converging", Value: perOrder(first.rss20s, last.rss20s), Unit: unitKiB, Target: between})
		b.add(result{Scenario: sMemory, Measure: "live heap per order held", Value: perOrder(first.live, last.live), Unit: unitKiB, Target: between})
	}
	rss, err := st.m.rssAfterNextGC(3 * time.Minute)
	if err != nil {
		return err
	}
	b.add(result{Scenario: sMemory, Measure: fmt.Sprintf("RSS at %d orders held, after the next GC", held), Value: rss, Unit: unitMiB,
		Target: "<= 300 at 100,000"})
	return nil
}

// memoryOrders creates per canceled orders at each account, numbered from first.
func (b *bench) memoryOrders(accs []*account, first, per int) error {
	var wg sync.WaitGroup
	errs := make(chan error, len(accs))
	for _, a := range accs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.ordersFrom(a, first, per, "canceled", active)
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
	return nil
}

// readMemory reads m's memory holding orders (see memoryLevel); with
// -profile, the heap profile of the collection is kept as
// memory-<orders>-manager.heap.
func (m *manager) readMemory(orders int) (memoryLevel, error) {
	l := memoryLevel{orders: orders}
	time.Sleep(20 * time.Second)
	l.rss20s = m.rss()
	if err := m.collect(fmt.Sprintf("memory-%d-manager.heap", orders)); err != nil {
		return l, err
	}
	metrics, err := m.scrape()
	if err != nil {
		return l, err
	}
	l.live = metrics["go_memstats_heap_alloc_bytes"] / (1 << 20)
	l.inUse = metrics["go_memstats_heap_inuse_bytes"] / (1 << 20)
	time.Sleep(20 * time.Second) // the runtime returns freed pages in the background
	l.rssGC = m.rss()
	return l, nil
}

// collect has m collect its garbage, through pprof's heap profile
// (?gc=1), kept as name in -profile's directory when it is set.
func (m *manager) collect(name string) error {
	if *profileDir != "" {
		return m.heapProfile(name)
	}
	body, err := httpGet("http://" + m.pprof + "/debug/pprof/heap?gc=1")
	if err != nil {
		return err
	}
	defer body.Close()
	_, err = io.Copy(io.Discard, body)
	return err
}
