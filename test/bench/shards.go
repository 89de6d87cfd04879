package main

import (
	"flag"
	"fmt"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/shard"
)

var shardsOrders = flag.Int("shards-orders", 4000,
	"orders per shard of the shards scenario; the one replica it is compared with converges twice as many (4,000: about 4 minutes on 2 cores)")

// shardNames are the two shards' label values. Both runs' orders carry
// them, so that one replica holds the same objects as the two shards.
var shardNames = []string{"shard1", "shard2"}

// shardsAccounts are the AccountChek accounts the orders are spread over,
// half per shard: as many as the memory scenario's, so that no account's
// rate binds (100 × 9.7 reads/s).
const shardsAccounts = memoryAccounts

// shardsRun is what one layout of managers did with 2 × -shards-orders
// orders: one unsharded replica, or one manager per shard.
type shardsRun struct {
	label  string // "1 replica" or "2 shards"
	orders int
	// rate counts from the first order Ready to the last, fromStart from
	// the managers' start, as the multi scenario does.
	rate, fromStart float64
	// done is when each shard's half of the orders was all Ready, from the
	// managers' start; took when the last order was.
	done map[string]time.Duration
	took time.Duration
	// apiRate is each manager's API requests per second over took: its
	// client is throttled at --kube-api-qps (300 by default), and each
	// shard has a client of its own.
	apiRate []float64
	// mem is each manager's memory after converging (readMemory), and
	// cached the orders its cache held then (its fleet gauge).
	mem    []memoryLevel
	cached []float64
	cpu    cpuSplit
	calls  int
}

// shardsScenario converges the same orders twice on the same control
// plane: 2N with one unsharded replica, then N per shard with a manager
// per shard, and compares throughput, each process's memory and the API
// server's share of the CPU. On a machine whose cores the API server and
// the managers share, a second manager cannot double the throughput: the
// API server binds either way. What sharding halves is the orders each
// process holds.
func (b *bench) shardsScenario() error {
	one, err := b.shardsRun(1)
	if err != nil {
		return fmt.Errorf("1 replica: %w", err)
	}
	two, err := b.shardsRun(len(shardNames))
	if err != nil {
		return fmt.Errorf("%d shards: %w", len(shardNames), err)
	}
	one.reportRate(b, nil)
	two.reportRate(b, &one)
	one.reportMemory(b, nil)
	two.reportMemory(b, &one)
	one.reportCPU(b)
	two.reportCPU(b)
	return nil
}

// shardsRun runs one layout in a stage of its own: accounts, orders
// created before the managers start (so that what is timed is the
// managers' work), convergence, memory, then every order deleted before
// the next run.
func (b *bench) shardsRun(managers int) (shardsRun, error) {
	r := shardsRun{label: fmt.Sprintf("%d shards", managers), orders: *shardsOrders * len(shardNames)}
	if managers == 1 {
		r.label = "1 replica"
	}
	st, err := b.newStageWithoutManager(fmt.Sprintf("%s-%d", sShards, managers))
	if err != nil {
		return r, err
	}
	var ms []*manager
	defer func() { b.closeShards(st, ms) }()
	accs, err := b.shardsAccounts(st, managers > 1)
	if err != nil {
		return r, err
	}
	created := time.Now()
	if err := b.shardsOrders(accs, r.orders); err != nil {
		return r, err
	}
	fmt.Printf("   %s: %d orders created in %s\n", r.label, r.orders, time.Since(created).Round(time.Second))
	before := b.sampleCPU(0)
	start := time.Now()
	if ms, err = b.startShards(st.ns, managers); err != nil {
		return r, err
	}
	ready, err := b.readyByShard(st.ns, r.orders/len(shardNames))
	if err != nil {
		return r, err
	}
	r.cpu = splitCPU(before, b.sampleManagersCPU(ms), cpuCount())
	r.measureRates(start, ready)
	r.count(accs, ms)
	r.mem, err = readMemories(ms, r.orders/managers)
	return r, err
}

// count reads, once the orders converged, the vendor calls of accs, and
// each manager's orders cached and API requests per second.
func (r *shardsRun) count(accs []*account, ms []*manager) {
	for _, a := range accs {
		n, _ := a.calls()
		r.calls += n
	}
	for _, m := range ms {
		metrics := scrapeOrEmpty(m)
		r.cached = append(r.cached, sum(metrics, "verification_operator_orders"))
		r.apiRate = append(r.apiRate, sum(metrics, "rest_client_requests_total")/r.took.Seconds())
	}
}

// closeShards stops the run's managers, then deletes its orders and waits
// until they are gone (stage.close): the next run, or scenario, must not
// share the API server with their deletion.
func (b *bench) closeShards(st *stage, ms []*manager) {
	for _, m := range ms {
		if m != nil {
			m.stop()
		}
	}
	st.close()
}

// shardsAccounts adds the accounts, the first half for shard1 and the
// rest for shard2. Their providers carry the shard label only when
// sharded: unlabelled, the sharded run that follows does not serve them
// after their simulators are gone (an unsharded manager ignores the label).
func (b *bench) shardsAccounts(st *stage, sharded bool) ([]*account, error) {
	accs := make([]*account, shardsAccounts)
	for i := range accs {
		a, err := st.account("accountchek", i, 5*time.Minute)
		if err != nil {
			return nil, err
		}
		accs[i] = a
		if !sharded {
			continue
		}
		patch := client.MergeFrom(a.Provider.DeepCopy())
		a.Provider.Labels = map[string]string{shard.Label: shardOfAccount(i)}
		if err := b.k8s.Patch(ctx(), a.Provider, patch); err != nil {
			return nil, err
		}
	}
	return accs, nil
}

// shardOfAccount is the shard of account i of shardsAccounts.
func shardOfAccount(i int) string {
	return shardNames[i*len(shardNames)/shardsAccounts]
}

// shardsOrders creates n orders round robin over accs, 32 at a time: each
// watches a vendor order already canceled (state active: one read, then
// Watching, as in the memory scenario), and carries its account's shard
// label from the start. In a sharded deployment the default instance
// routes a new order to its shard (controllers/shard's Router: one patch);
// this run has no default instance, and measures the shards alone.
func (b *bench) shardsOrders(accs []*account, n int) error {
	return parallel(n, 32, func(k int) error {
		i := k % len(accs)
		a := accs[i]
		id, err := a.Sim.CreateOrder("canceled")
		if err != nil {
			return err
		}
		return b.create(&v1.VerificationOrder{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", a.name, k/len(accs)), Namespace: a.ns,
				Labels: map[string]string{shard.Label: shardOfAccount(i)}},
			Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: a.name}, OrderID: id, State: active},
		})
	})
}

// startShards starts one manager per shard, or one unsharded manager as
// the other scenarios run it. Each serves pprof, for readMemory's
// garbage collection.
func (b *bench) startShards(ns string, managers int) ([]*manager, error) {
	if managers == 1 {
		m, err := b.startManagerOpts(true)
		return []*manager{m}, err
	}
	ms := make([]*manager, 0, managers)
	for _, name := range shardNames[:managers] {
		// As the chart runs a shard: its selector, and leader election on
		// a Lease named after the selector (cmd/manager derives it). The
		// namespace holds that Lease and the shard's vendor account
		// Leases, which a sharded manager refuses to start without.
		m, err := b.startManagerOpts(true, "--watch-label-selector="+shard.Label+"="+name,
			"--leader-elect=true", "--leader-election-namespace="+ns)
		ms = append(ms, m)
		if err != nil {
			return ms, err
		}
	}
	return ms, nil
}

// readyByShard waits until the per orders of each shard in ns are Ready
// (Watching), and returns when each was, by shard.
func (b *bench) readyByShard(ns string, per int) (map[string]map[string]time.Time, error) {
	// A few hundred orders a second converge here at best.
	timeout := 5*time.Minute + time.Duration(per*len(shardNames)/20)*time.Second
	out := make(map[string]map[string]time.Time, len(shardNames))
	var mu sync.Mutex
	err := parallel(len(shardNames), len(shardNames), func(i int) error {
		name := shardNames[i]
		ready, err := b.watch.wait(func(o *v1.VerificationOrder) bool {
			return o.Namespace == ns && o.Labels[shard.Label] == name && readyFor(o, v1.ReasonWatching)
		}, per, timeout)
		mu.Lock()
		out[name] = ready
		mu.Unlock()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		return nil
	})
	return out, err
}

// sampleManagersCPU is sampleCPU with the CPU of every manager of ms as
// the manager's.
func (b *bench) sampleManagersCPU(ms []*manager) cpuSample {
	s := b.sampleCPU(0)
	for _, m := range ms {
		s.byProc[procManager] += processCPU(m.pid())
	}
	return s
}

// measureRates sets the run's rates and each shard's time to its last
// order Ready.
func (r *shardsRun) measureRates(start time.Time, ready map[string]map[string]time.Time) {
	all := map[string]time.Time{}
	r.done = map[string]time.Duration{}
	for name, times := range ready {
		for k, t := range times {
			all[k] = t
		}
		r.done[name] = latest(times).Sub(start)
	}
	first, last := earliest(all), latest(all)
	r.rate = float64(len(all)-1) / last.Sub(first).Seconds()
	r.took = last.Sub(start)
	r.fromStart = float64(len(all)) / r.took.Seconds()
}

// readMemories reads each manager's memory at once (readMemory: RSS 20 s
// after converging, then the live heap and RSS after a garbage
// collection). With -profile, one after the other: readMemory names its
// heap profile by the orders held, the same for every shard.
func readMemories(ms []*manager, held int) ([]memoryLevel, error) {
	out := make([]memoryLevel, len(ms))
	workers := len(ms)
	if *profileDir != "" {
		workers = 1
	}
	err := parallel(len(ms), workers, func(i int) error {
		var err error
		out[i], err = ms[i].readMemory(held)
		return err
	})
	return out, err
}

// reportRate adds the run's throughput; than is the one replica's, for
// the shards' ratio.
func (r shardsRun) reportRate(b *bench, than *shardsRun) {
	res := result{Scenario: sShards, Measure: fmt.Sprintf("%d orders, once started, %s", r.orders, r.label), Value: r.rate, Unit: unitRate,
		Target: fmt.Sprintf("from the start %.0f/s; %s; API requests/s per manager %s; %.2f vendor calls/order", r.fromStart, r.doneText(),
			joinFloats(r.apiRate), float64(r.calls)/float64(r.orders))}
	if than != nil {
		res.Ratio = r.rate / than.rate
		res.Target = "x2 needs cores to spare; here the API server and both managers share 2. " + res.Target
	}
	b.add(res)
}

// doneText says when each shard's half of the orders was all Ready.
func (r shardsRun) doneText() string {
	s := "last Ready at"
	for _, name := range shardNames {
		s += fmt.Sprintf(" %s %.1fs", name, r.done[name].Seconds())
	}
	return s
}

// reportMemory adds each manager's RSS 20 s after converging, against the
// one replica's: the orders' part halves (target 0.5), the process's
// fixed part (about 70 MiB here, docs/performance.md) does not.
func (r shardsRun) reportMemory(b *bench, than *shardsRun) {
	total := 0.0
	for i, m := range r.mem {
		name := r.label
		if than != nil {
			name = shardNames[i]
		}
		res := result{Scenario: sShards, Measure: "RSS 20 s after converging, " + name, Value: m.rss20s, Unit: unitMiB,
			Target: fmt.Sprintf("%.0f orders cached; live heap %.1f MiB, RSS %.1f after a GC", r.cached[i], m.live, m.rssGC)}
		if than != nil {
			one := than.mem[0]
			res.Ratio = m.rss20s / one.rss20s
			res.Target = fmt.Sprintf("0.5 of the orders' part, not of the fixed; %.0f cached; live heap %.2f of 1 replica's, RSS after a GC %.2f",
				r.cached[i], m.live/one.live, m.rssGC/one.rssGC)
		}
		b.add(res)
		total += m.rss20s
	}
	if than != nil {
		b.add(result{Scenario: sShards, Measure: "both shards' RSS together", Value: total, Unit: unitMiB,
			Target: "vs 1 replica's: each process pays its fixed part", Ratio: total / than.mem[0].rss20s})
	}
}

// reportCPU adds the API server's and the managers' CPU over the run (the
// managers' start to the last order Ready), with each one's share of the
// CPU the machine used, and of the bench's own processes' alone: on a
// shared machine the others' part moves from run to run.
func (r shardsRun) reportCPU(b *bench) {
	total := r.cpu.total()
	ours := total - r.cpu.byProc[procOthers]
	secs := func(name string) float64 { return r.cpu.byProc[name].Seconds() }
	share := func(name string) string {
		d := r.cpu.byProc[name]
		return fmt.Sprintf("%.0f%% of the CPU used, %.0f%% of ours; %.2f ms per order", 100*float64(d)/float64(max(total, 1)),
			100*float64(d)/float64(max(ours, 1)), 1000*d.Seconds()/float64(r.orders))
	}
	b.add(result{Scenario: sShards, Measure: "API server CPU, " + r.label, Value: secs(procAPIServer), Unit: "s",
		Target: fmt.Sprintf("%s (%.0f s used of %.0f s; etcd %.0f s, bench %.0f s, others %.0f s)", share(procAPIServer),
			total.Seconds(), r.cpu.capacity.Seconds(), secs(procEtcd), secs(procBench), secs(procOthers))})
	b.add(result{Scenario: sShards, Measure: "managers' CPU, " + r.label, Value: secs(procManager), Unit: "s", Target: share(procManager)})
}
