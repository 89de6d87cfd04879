package main

import (
	"flag"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/retention"
	"github.com/ordersync/verification-operator/internal/fixture"
)

var (
	retentionRate = flag.Float64("retention-rate", 10, "orders per second the retention scenario creates (retention deletes at most 20 a second)")
	retentionFor  = flag.Duration("retention-for", 3*time.Minute, "how long each of the retention scenario's two streams runs")
	retentionTTL  = flag.Duration("retention-ttl", 30*time.Second, "the providers' spec.retention.ttlSecondsAfterFinished in the retention scenario")
)

const (
	sRetention = "retention"
	// retentionAccounts share the stream, so that no account's rate binds.
	retentionAccounts = 4
	// retentionSampleEvery is how often the orders held and the manager's
	// memory are read.
	retentionSampleEvery = 10 * time.Second
	// retentionCollectEvery is how often the manager is asked for a
	// garbage collection, and its live heap read.
	retentionCollectEvery = time.Minute
)

// sample is what the manager held at one moment of a stream.
type sample struct {
	at           time.Duration // since the stream began
	held         int
	rss, inUse   float64 // MiB
	createdSoFar int
	// live is the heap a garbage collection kept (MiB), read every
	// retentionCollectEvery; zero in the samples between.
	live float64
}

// stream is one run of the retention scenario.
type stream struct {
	retained              bool
	orders                int
	rate                  float64 // converged orders per second, first created to last Ready
	p50, p99              time.Duration
	callsPerOrder         float64
	cancels, reads, other int
	samples               []sample
	// after the last order converged, until every order was pruned (or
	// retentionTTL more without retention): vendor calls and orders held.
	tailCalls int
	tailFor   time.Duration
	// streamFor is from the first order created to the last.
	streamFor time.Duration
	deletions []deletion
	// soonestAfterReady is the shortest time from an order seen Ready to
	// its deletion seen beginning.
	soonestAfterReady time.Duration
	cpu               cpuSplit
}

// retentionScenario runs the same steady stream of cancels twice, each
// against a fresh manager: with the providers' retention at
// -retention-ttl, then without retention. Each order is a Cancel-policy
// cancel of an opened AccountChek order (a read and a cancel), so that
// pruning one goes through the order reconciler's finalizer as a person's
// delete would. It reports the orders held and the manager's memory over
// time, the throughput and times to Ready of both, the vendor calls (per
// order, and while only pruning went on), and every pruned order checked
// against retention.Finished and its TTL.
func (b *bench) retentionScenario() error {
	on, err := b.retentionStream(true)
	if err != nil {
		return err
	}
	off, err := b.retentionStream(false)
	if err != nil {
		return err
	}
	ttl := retentionTTL.Seconds()
	label := func(s stream) string {
		if s.retained {
			return fmt.Sprintf("TTL %.0fs", ttl)
		}
		return "no retention"
	}
	for _, s := range []stream{on, off} {
		b.add(result{Scenario: sRetention, Measure: fmt.Sprintf("%s: %d orders at %.0f/s, throughput", label(s), s.orders, *retentionRate),
			Value: s.rate, Unit: unitRate, Target: fmt.Sprintf("Ready p50 %.2fs, p99 %.2fs", s.p50.Seconds(), s.p99.Seconds())})
		b.add(result{Scenario: sRetention, Measure: label(s) + ": vendor calls per order", Value: s.callsPerOrder, Unit: unitCalls,
			Target: fmt.Sprintf("reads %d, cancels %d, other %d", s.reads, s.cancels, s.other)})
		first, last, most := s.plateau()
		b.add(result{Scenario: sRetention, Measure: label(s) + ": orders held, most", Value: float64(most.held), Unit: unitOrder,
			Target: fmt.Sprintf("at %.0fs; %d at %.0fs, %d at the end", most.at.Seconds(), first.held, first.at.Seconds(), last.held)})
		b.add(result{Scenario: sRetention, Measure: label(s) + ": RSS at the end of the stream", Value: last.rss, Unit: unitMiB,
			Target: fmt.Sprintf("%.1f at %.0fs; heap in use %.1f → %.1f", first.rss, first.at.Seconds(), first.inUse, last.inUse)})
		live, rss, held := s.eachMinute()
		b.add(result{Scenario: sRetention, Measure: label(s) + ": live heap each minute", Value: live[len(live)-1], Unit: unitMiB,
			Target: fmt.Sprintf("%s MiB; RSS %s; held %s", joinFloats(live), joinFloats(rss), joinInts(held))})
		s.cpu.report(b, sRetention+"/"+map[bool]string{true: "on", false: "off"}[s.retained], s.orders)
	}
	b.add(result{Scenario: sRetention, Measure: "throughput with retention / without", Value: on.rate / off.rate, Unit: "ratio", Target: ">= 0.9"})
	b.add(result{Scenario: sRetention, Measure: "most orders held with retention", Value: float64(on.mostHeld()), Unit: unitOrder,
		Target: fmt.Sprintf("<= rate x (TTL + p99 to Ready + 1 s) = %.0f", *retentionRate*(ttl+on.p99.Seconds()+1))})
	b.add(result{Scenario: sRetention, Measure: fmt.Sprintf("vendor calls while only pruning (%.0fs)", on.tailFor.Seconds()), Value: float64(on.tailCalls), Unit: unitCalls, Target: "0"})
	unfinished, early, soonest := on.checkPruned()
	b.add(result{Scenario: sRetention, Measure: fmt.Sprintf("orders pruned (of %d) not finished", on.orders), Value: float64(unfinished), Unit: unitOrder,
		Target: fmt.Sprintf("0; %d pruned", len(on.deletions))})
	b.add(result{Scenario: sRetention, Measure: "orders pruned before their TTL", Value: float64(early), Unit: unitOrder,
		Target: fmt.Sprintf("0; the soonest %.1fs after it finished (status.lastObservedTime, whole seconds)", soonest.Seconds())})
	b.add(result{Scenario: sRetention, Measure: "shortest time from Ready to pruned", Value: on.soonestAfterReady.Seconds(), Unit: "s",
		Target: fmt.Sprintf(">= TTL %.0fs less under 1 s (status times are whole seconds)", ttl)})
	b.add(result{Scenario: sRetention, Measure: "orders deleted without retention", Value: float64(len(off.deletions)), Unit: unitOrder, Target: "0"})
	return nil
}

// retentionStream runs one stream against a fresh manager.
func (b *bench) retentionStream(retained bool) (stream, error) {
	s := stream{retained: retained, orders: int(*retentionRate * retentionFor.Seconds())}
	name := sRetention + map[bool]string{true: "-on", false: "-off"}[retained]
	st, err := b.newStageWithoutManager(name)
	if err != nil {
		return s, err
	}
	defer st.close()
	b.watch.recordDeletions(st.ns)
	var opts []fixture.Option
	if retained {
		ttl := int32(retentionTTL.Seconds())
		opts = append(opts, fixture.Spec(func(p *v1.VerificationProviderSpec) {
			p.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To(ttl)}
		}))
	}
	accs := make([]*account, retentionAccounts)
	for i := range accs {
		if accs[i], err = st.account("accountchek", i, 5*time.Minute, opts...); err != nil {
			return s, err
		}
	}
	if err := st.startManagerWithPprof(); err != nil {
		return s, err
	}
	// Every order's Ready is watched from before the first is created: with
	// retention, most are gone by the end.
	var (
		ready    map[string]time.Time
		readyErr error
		waited   = make(chan struct{})
	)
	go func() {
		defer close(waited)
		ready, readyErr = b.readyTimes(st.ns, s.orders, v1.ReasonConverged, *retentionFor+5*time.Minute)
	}()
	time.Sleep(time.Second)
	cpuBefore := b.sampleCPU(st.m.pid())
	start := time.Now()
	var created sync.Map // name → creation time
	stop := make(chan struct{})
	samples := make(chan []sample, 1)
	var createdSoFar int64
	var countMu sync.Mutex
	go func() {
		var out []sample
		tick := time.NewTicker(retentionSampleEvery)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				samples <- out
				return
			case <-tick.C:
				held, _ := b.watch.held(st.ns)
				m := scrapeOrEmpty(st.m)
				countMu.Lock()
				n := int(createdSoFar)
				countMu.Unlock()
				x := sample{at: time.Since(start), held: held, rss: st.m.rss(), inUse: m["go_memstats_heap_inuse_bytes"] / (1 << 20), createdSoFar: n}
				if len(out)%int(retentionCollectEvery/retentionSampleEvery) == int(retentionCollectEvery/retentionSampleEvery)-1 {
					if st.m.collect(fmt.Sprintf("%s-%ds-manager.heap", name, int(x.at.Seconds()))) == nil {
						x.live = scrapeOrEmpty(st.m)["go_memstats_heap_alloc_bytes"] / (1 << 20)
					}
				}
				out = append(out, x)
			}
		}
	}()
	if err := b.streamOrders(accs, s.orders, &created, func() { countMu.Lock(); createdSoFar++; countMu.Unlock() }); err != nil {
		close(stop)
		return s, err
	}
	s.streamFor = time.Since(start)
	<-waited
	if readyErr != nil {
		close(stop)
		return s, readyErr
	}
	s.cpu = splitCPU(cpuBefore, b.sampleCPU(st.m.pid()), cpuCount())
	converged := time.Now()
	atConverged := st.callCount()
	// The tail: with retention, until every order is pruned; without, as
	// long, to see that nothing is.
	for end := converged.Add(*retentionTTL + 30*time.Second); time.Now().Before(end); time.Sleep(2 * time.Second) {
		if held, err := b.watch.held(st.ns); err == nil && held == 0 {
			break
		}
	}
	time.Sleep(2 * time.Second) // the last finalizers released, and any call they made
	s.tailFor = time.Since(converged)
	close(stop)
	s.samples = <-samples
	calls := st.callCount()
	s.tailCalls = calls.all - atConverged.all
	s.reads, s.cancels, s.other = calls.reads, calls.cancels, calls.all-calls.reads-calls.cancels
	s.callsPerOrder = float64(calls.all) / float64(s.orders)
	var first, last time.Time
	created.Range(func(_, v any) bool {
		if t := v.(time.Time); first.IsZero() || t.Before(first) {
			first = t
		}
		return true
	})
	last = latest(ready)
	s.rate = float64(s.orders) / last.Sub(first).Seconds()
	lat := make(map[string]time.Time, len(ready))
	for key, t := range ready {
		c, ok := created.Load(key)
		if !ok {
			continue
		}
		// percentiles measures from one start: shift each order's time to Ready onto it.
		lat[key] = start.Add(t.Sub(c.(time.Time)))
	}
	s.p50, s.p99 = percentiles(start, lat)
	s.deletions = b.watch.deletedIn(st.ns)
	s.soonestAfterReady = -1
	for _, d := range s.deletions {
		if t, ok := ready[d.order.Namespace+"/"+d.order.Name]; ok && (s.soonestAfterReady < 0 || d.at.Sub(t) < s.soonestAfterReady) {
			s.soonestAfterReady = d.at.Sub(t)
		}
	}
	return s, nil
}

// streamOrders creates n orders at -retention-rate, round robin over
// accs: each an opened vendor order and a VerificationOrder to cancel it,
// deletionPolicy Cancel. created gets each one's creation time, keyed
// namespace/name.
func (b *bench) streamOrders(accs []*account, n int, created *sync.Map, counted func()) error {
	every := time.Duration(float64(time.Second) / *retentionRate)
	tick := time.NewTicker(every)
	defer tick.Stop()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		if i > 0 {
			<-tick.C
		}
		a := accs[i%len(accs)]
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := a.Sim.CreateOrder("opened")
			if err != nil {
				errs <- err
				return
			}
			o := &v1.VerificationOrder{
				ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", a.name, i), Namespace: a.ns},
				Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: a.name}, OrderID: id, State: canceled,
					DeletionPolicy: v1.DeletionCancel},
			}
			at := time.Now()
			if err := b.create(o); err != nil {
				errs <- err
				return
			}
			created.Store(o.Namespace+"/"+o.Name, at)
			counted()
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// vendorCalls are the calls a stage's simulators answered, by kind.
type vendorCalls struct{ all, reads, cancels int }

func (s *stage) callCount() vendorCalls {
	var c vendorCalls
	for _, a := range s.accounts {
		for _, st := range a.Sim.Stats() {
			c.all += st.Count
			switch st.Method {
			case http.MethodGet:
				c.reads += st.Count
			case http.MethodPatch, http.MethodPost, http.MethodPut, http.MethodDelete:
				c.cancels += st.Count
			}
		}
	}
	return c
}

// plateau returns the first sample once orders pruned could balance those
// created (a TTL and a sample interval into the stream), the last one
// while the stream ran, and the one that held the most.
func (s stream) plateau() (first, last, most sample) {
	for _, x := range s.samples {
		if x.at > s.streamFor+retentionSampleEvery {
			break
		}
		if first.at == 0 && x.at >= *retentionTTL+retentionSampleEvery {
			first = x
		}
		last = x
		if x.held > most.held {
			most = x
		}
	}
	if first.at == 0 {
		first = last
	}
	return first, last, most
}

func (s stream) mostHeld() int {
	_, _, most := s.plateau()
	return most.held
}

// checkPruned counts the orders deleted that retention.Finished does not
// call finished, and those deleted sooner than the TTL after they
// finished; soonest is the shortest time from finished to deleted.
func (s stream) checkPruned() (unfinished, early int, soonest time.Duration) {
	soonest = -1
	for _, d := range s.deletions {
		at, ok := retention.Finished(d.order)
		if !ok {
			unfinished++
			continue
		}
		after := d.at.Sub(at)
		if after < *retentionTTL {
			early++
		}
		if soonest < 0 || after < soonest {
			soonest = after
		}
	}
	return unfinished, early, soonest
}

// eachMinute are the live heaps read while the stream ran (after a
// garbage collection each minute), and the RSS and the orders held then.
func (s stream) eachMinute() (live, rss []float64, held []int) {
	for _, x := range s.samples {
		if x.live > 0 && x.at <= s.streamFor+retentionSampleEvery {
			live, rss, held = append(live, x.live), append(rss, x.rss), append(held, x.held)
		}
	}
	if len(live) == 0 {
		return []float64{0}, []float64{0}, []int{0}
	}
	return live, rss, held
}

func joinFloats(fs []float64) string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = fmt.Sprintf("%.1f", f)
	}
	return strings.Join(out, " / ")
}

func joinInts(ns []int) string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = strconv.Itoa(n)
	}
	return strings.Join(out, " / ")
}
