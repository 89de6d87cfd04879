package main

import (
	"bufio"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
)

func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(s)
	_ = v1.AddToScheme(s)
	return s
}

// stage is one scenario's world: a fresh manager, a fresh namespace, and
// the vendor accounts in it; close takes it all down.
type stage struct {
	b        *bench
	m        *manager
	ns       string
	accounts []*account
}

func (b *bench) newStage(name string, managerArgs ...string) (*stage, error) {
	st, err := b.newStageWithoutManager(name)
	if err != nil {
		return nil, err
	}
	return st, st.startManager(managerArgs...)
}

// newStageWithoutManager is a stage whose manager starts later, when
// startManager is called: a scenario that measures the manager alone
// creates its orders first.
func (b *bench) newStageWithoutManager(name string) (*stage, error) {
	ns, err := b.namespace(name)
	if err != nil {
		return nil, err
	}
	return &stage{b: b, ns: ns}, nil
}

func (s *stage) stopManager() {
	if s.m != nil {
		s.m.stop()
		s.m = nil
	}
}

func (s *stage) startManager(extra ...string) error {
	m, err := s.b.startManager(extra...)
	s.m = m
	return err
}

// startManagerWithPprof is startManager with the manager's pprof endpoint
// served whatever -profile says: the scenarios that read memory after a
// garbage collection ask for one through it (manager.collect).
func (s *stage) startManagerWithPprof(extra ...string) error {
	m, err := s.b.startManagerOpts(true, extra...)
	s.m = m
	return err
}

// account adds vendor account i, polled every poll; opts change what
// fixture.Start builds.
func (s *stage) account(vendor string, i int, poll time.Duration, opts ...fixture.Option) (*account, error) {
	a, err := s.b.newAccount(s.ns, vendor, i, poll, opts...)
	if a != nil {
		s.accounts = append(s.accounts, a)
	}
	return a, err
}

func (s *stage) close() {
	s.b.cleanup(s.ns)
	for _, a := range s.accounts {
		a.Close()
	}
	s.stopManager()
}

// account is one vendor account: a simulator of its own (so its per-key
// limit is the account's), a Secret and a VerificationProvider, both
// named <vendor>-<i>.
type account struct {
	*fixture.Account
	ns, name string
}

// newAccount starts a simulator for vendor and points a provider in ns at
// it. The provider does not check Truework's response signatures: the
// figures of docs/performance.md were measured without.
func (b *bench) newAccount(ns, vendor string, i int, poll time.Duration, opts ...fixture.Option) (*account, error) {
	name := fmt.Sprintf("%s-%d", vendor, i)
	fx, err := fixture.Start(vendor, append([]fixture.Option{fixture.Namespace(ns), fixture.ProviderName(name), fixture.SecretName(name),
		fixture.PollInterval(poll), fixture.WithoutSigningKeys()}, opts...)...)
	if err != nil {
		return nil, err
	}
	a := &account{Account: fx, ns: ns, name: name}
	return a, a.Create(ctx(), b.k8s)
}

// calls counts what the simulator answered, and how many of those were 429.
func (a *account) calls() (all, throttled int) {
	for _, s := range a.Sim.Stats() {
		all += s.Count
		if s.Status == http.StatusTooManyRequests {
			throttled += s.Count
		}
	}
	return all, throttled
}

// namespace creates a fresh namespace.
func (b *bench) namespace(prefix string) (string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	return ns.Name, b.k8s.Create(ctx(), ns)
}

// orders creates n vendor orders in state word at a and a VerificationOrder
// for each, with 16 writers (the API server, not the bench, must bind).
func (b *bench) orders(a *account, n int, word string, state v1.DesiredState) ([]*v1.VerificationOrder, error) {
	return b.ordersFrom(a, 0, n, word, state)
}

// ordersFrom is orders, numbering them from first.
func (b *bench) ordersFrom(a *account, first, n int, word string, state v1.DesiredState) ([]*v1.VerificationOrder, error) {
	out := make([]*v1.VerificationOrder, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	next := make(chan int, n)
	for i := range n {
		next <- i
	}
	close(next)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				id, err := a.Sim.CreateOrder(word)
				if err != nil {
					errs <- err
					return
				}
				o := &v1.VerificationOrder{
					ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", a.name, first+i), Namespace: a.ns},
					Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: a.name}, OrderID: id, State: state},
				}
				if err := b.create(o); err != nil {
					errs <- err
					return
				}
				out[i] = o
			}
		}()
	}
	wg.Wait()
	close(errs)
	return out, <-errs
}

// create creates o, trying again a few times when the API server, loaded
// by tens of thousands of creates on two cores, drops the connection; an
// order that exists already was created by an attempt whose answer was lost.
func (b *bench) create(o *v1.VerificationOrder) error {
	var err error
	for attempt := range 5 {
		if attempt > 0 {
			time.Sleep(time.Duration(attempt) * time.Second)
			if apierrors.IsAlreadyExists(err) {
				return b.k8s.Get(ctx(), client.ObjectKeyFromObject(o), o)
			}
		}
		c := o.DeepCopy()
		if err = b.k8s.Create(ctx(), c); err == nil {
			*o = *c
			return nil
		}
	}
	return err
}

// readyTimes waits until want orders in ns are Ready with reason, and
// returns when each first was, keyed by namespace/name.
func (b *bench) readyTimes(ns string, want int, reason v1.Reason, timeout time.Duration) (map[string]time.Time, error) {
	return b.watch.wait(readyWith(ns, reason), want, timeout)
}

// readyNamed waits until want orders of ns whose names start with prefix
// are canceled and Ready, and returns when the last one was.
func (b *bench) readyNamed(ns, prefix string, want int) (time.Time, error) {
	seen, err := b.watch.wait(canceledNamed(ns, prefix), want, 5*time.Minute)
	return latest(seen), err
}

// manager is a running manager process.
type manager struct {
	cmd     *exec.Cmd
	metrics string
	pprof   string // its pprof endpoint's address, with -profile
}

func (b *bench) startManager(extra ...string) (*manager, error) {
	return b.startManagerOpts(*profileDir != "", extra...)
}

// managerEnv is the managers' own: the control plane's processes, which
// inherit the bench's environment, must not be limited with them.
var managerEnv = flag.String("manager-env", "",
	"space-separated NAME=value pairs for the manager's environment only, e.g. GOMEMLIMIT=241591910 (what it sets itself under the chart's 256Mi limit)")

// startManagerOpts starts a manager, serving pprof if withPprof.
func (b *bench) startManagerOpts(withPprof bool, extra ...string) (*manager, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	m := &manager{metrics: fmt.Sprintf("127.0.0.1:%d", port)}
	args := []string{"--leader-elect=false", "--health-probe-bind-address=0", "--cluster-resource-namespace=default",
		"--metrics-bind-address=" + m.metrics, "--metrics-secure=false", "--zap-log-level=error"}
	if withPprof {
		if port, err = freePort(); err != nil {
			return nil, err
		}
		m.pprof = fmt.Sprintf("127.0.0.1:%d", port)
		args = append(args, "--pprof-bind-address="+m.pprof)
	}
	args = append(args, strings.Fields(*managerFlags)...)
	args = append(args, extra...)
	m.cmd = exec.Command(b.manager, args...)
	m.cmd.Env = append(append(os.Environ(), "KUBECONFIG="+b.kubeconfig), strings.Fields(*managerEnv)...)
	m.cmd.Stderr = os.Stderr
	if err := m.cmd.Start(); err != nil {
		return nil, err
	}
	for range 100 { // wait for the metrics endpoint: the manager is up
		if _, err := m.scrape(); err == nil {
			return m, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return m, fmt.Errorf("the manager did not come up")
}

func (m *manager) stop() {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		_ = m.cmd.Process.Kill()
	}
}

// scrape reads the manager's metrics as "name{labels}" → value.
func (m *manager) scrape() (map[string]float64, error) {
	resp, err := http.Get("http://" + m.metrics + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			out[line[:i]] = v
		}
	}
	return out, sc.Err()
}

// scrapeOrEmpty is m's metrics, or none when they cannot be read.
func scrapeOrEmpty(m *manager) map[string]float64 {
	metrics, err := m.scrape()
	if err != nil {
		return map[string]float64{}
	}
	return metrics
}

// apiRequests is how many requests the manager's API client made since
// before, by method (GET are reads past the cache, PUT status and
// finalizer writes, POST Events), and by method with " 409" for the
// conflicts among them.
func apiRequests(m *manager, before map[string]float64) map[string]float64 {
	after := scrapeOrEmpty(m)
	n := map[string]float64{}
	count := func(match ...string) float64 {
		return sum(after, "rest_client_requests_total", match...) - sum(before, "rest_client_requests_total", match...)
	}
	for _, method := range []string{"GET", "POST", "PUT", "PATCH"} {
		n[method] = count(`method="` + method + `"`)
		n[method+" 409"] = count(`method="`+method+`"`, `code="409"`)
	}
	return n
}

// sum adds every series of the metric whose labels contain all of match.
func sum(metrics map[string]float64, name string, match ...string) float64 {
	total := 0.0
	for k, v := range metrics {
		if !strings.HasPrefix(k, name+"{") && k != name {
			continue
		}
		ok := true
		for _, m := range match {
			ok = ok && strings.Contains(k, m)
		}
		if ok {
			total += v
		}
	}
	return total
}

func (m *manager) pid() int { return m.cmd.Process.Pid }

// rss is the manager's resident set size, in MiB.
func (m *manager) rss() float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", m.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// rssAfterNextGC is m's RSS once the orders it holds are all it holds: after
// its next garbage collection (an idle Go process has one every 2 minutes),
// which returns to the system what a burst of new orders took meanwhile.
func (m *manager) rssAfterNextGC(timeout time.Duration) (float64, error) {
	const gcs = "go_gc_duration_seconds_count"
	before := scrapeOrEmpty(m)[gcs]
	for end := time.Now().Add(timeout); scrapeOrEmpty(m)[gcs] <= before; time.Sleep(5 * time.Second) {
		if time.Now().After(end) {
			return 0, fmt.Errorf("the manager made no garbage collection within %s", timeout)
		}
	}
	time.Sleep(5 * time.Second) // the runtime returns pages in the background
	return m.rss(), nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// flip sets spec.state of each order.
func (b *bench) flip(orders []*v1.VerificationOrder, state v1.DesiredState) error {
	for _, o := range orders {
		patch := client.MergeFrom(o.DeepCopy())
		o.Spec.State = state
		if err := b.k8s.Patch(ctx(), o, patch); err != nil {
			return err
		}
	}
	return nil
}

// cleanup deletes the orders of the namespaces and waits until they are
// gone: a later scenario's manager must not hold them, nor share the API
// server with their deletion, while it is measured.
func (b *bench) cleanup(namespaces ...string) {
	for _, ns := range namespaces {
		if left := b.deleteOrders(ns); left > 0 {
			fmt.Printf("   %d orders of %s still there after three deletions in a row removed none\n", left, ns)
		}
	}
}

// deleteOrders deletes ns's orders and returns how many are left. A
// deletion of tens of thousands can outlast its request (the API server's
// 60 s) and leave the rest, so it is asked again whenever 15 s pass with
// orders left and none deleted; it gives up after three asks in a row
// with none deleted between them.
func (b *bench) deleteOrders(ns string) int {
	left, fruitless := -1, 0
	var progressed, asked time.Time
	for fruitless < 3 {
		if held, err := b.watch.held(ns); err == nil {
			if held == 0 {
				return 0
			}
			if held != left {
				left, progressed, fruitless = held, time.Now(), 0
			}
		}
		if asked.IsZero() || time.Since(asked) >= 15*time.Second && time.Since(progressed) >= 15*time.Second {
			_ = b.k8s.DeleteAllOf(ctx(), &v1.VerificationOrder{}, client.InNamespace(ns), client.PropagationPolicy(metav1.DeletePropagationBackground),
				&client.DeleteAllOfOptions{DeleteOptions: client.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)}})
			asked = time.Now() // the request may take the API server's whole timeout
			fruitless++
			continue
		}
		time.Sleep(time.Second)
	}
	return left
}
