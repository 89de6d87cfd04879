package sharding

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/ordersync/verification-operator/test/testutil"
)

// The leader election of a manager process: cmd/manager sets none of its
// timings, so they are controller-runtime's defaults.
const (
	leaderLeaseDuration = 15 * time.Second
	leaderRetryPeriod   = 2 * time.Second
	// leaderRetryJitter is client-go's leaderelection.JitterFactor: a
	// candidate tries every retry period plus up to 1.2 of it.
	leaderRetryJitter = 1.2
	// leaderTakeoverBound is the longest a standby may take to lead after
	// its leader died without releasing the Lease. The leader renewed last
	// before it died; the standby saw that renewal on its next try, at
	// most a jittered retry period (4.4 s) later, waits the lease duration
	// from then, and acts on its next try, at most 4.4 s later. Plus 2 s
	// for a loaded machine: 25.8 s.
	leaderTakeoverBound = leaderLeaseDuration + 2*time.Duration((1+leaderRetryJitter)*float64(leaderRetryPeriod)) + 2*time.Second
)

// The manager binary, built once per test binary.
var (
	buildOnce  sync.Once
	buildDir   string
	managerBin string
	buildErr   error
)

func managerBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "sharding-manager-"); buildErr != nil {
			return
		}
		managerBin = filepath.Join(buildDir, "manager")
		cmd := exec.Command("go", "build", "-o", managerBin, "./cmd/manager")
		cmd.Dir = filepath.Join("..", "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/manager: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return managerBin
}

// removeManagerBinary removes what managerBinary built; TestMain calls it.
func removeManagerBinary() {
	if buildDir != "" {
		_ = os.RemoveAll(buildDir)
	}
}

// kubeconfig writes the test's admin credentials as a kubeconfig file,
// for the manager processes.
func kubeconfig(t *testing.T) string {
	t.Helper()
	c := clientcmdapi.NewConfig()
	c.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	c.AuthInfos["admin"] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
	c.Contexts["envtest"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "admin"}
	c.CurrentContext = "envtest"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*c, path); err != nil {
		t.Fatal(err)
	}
	return path
}

// process is one manager process, as a shard's pod runs it. name is its
// POD_NAME, which every vendor call carries in its User-Agent.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *testutil.Buffer
	done chan struct{}
}

// startProcess runs the manager binary for selector with leader election,
// as the chart runs a shard's replica.
func startProcess(t *testing.T, kubeconfigPath, name, selector string) *process {
	t.Helper()
	p := &process{name: name, out: &testutil.Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(managerBinary(t),
		"--leader-elect", "--leader-election-namespace="+leaseNamespace,
		"--cluster-resource-namespace="+leaseNamespace,
		"--watch-label-selector="+selector,
		"--health-probe-bind-address=127.0.0.1:0", "--metrics-bind-address=0")
	p.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath, "POD_NAME="+name)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		// A clean stop releases the shard's Leases, so that the next test
		// does not wait for them to expire.
		if p.exited() {
			return
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(60 * time.Second):
			p.kill()
			t.Errorf("%s did not exit within 60s of SIGTERM:\n%s", p.name, p.tail(20))
		}
		if t.Failed() {
			t.Logf("the end of %s's log:\n%s", p.name, p.tail(40))
		}
	})
	return p
}

// client-go's leader election logs these (capitalized).
const (
	candidateMarker = "attempting to acquire leader lease"
	acquiredMarker  = "successfully acquired lease"
)

func (p *process) logs(marker string) bool {
	return strings.Contains(strings.ToLower(p.out.String()), marker)
}

// leading says whether the process has taken its shard's leader Lease.
func (p *process) leading() bool { return p.logs(acquiredMarker) }

// candidate says whether the process is trying for the Lease: a standby.
func (p *process) candidate() bool { return p.logs(candidateMarker) }

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL, as the OOM killer or a lost node would, and waits
// for the process to be gone.
func (p *process) kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

func (p *process) tail(n int) string {
	lines := strings.Split(strings.TrimRight(p.out.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// wireCall is one vendor API call as it arrived, by the process that made
// it (its User-Agent names it).
type wireCall struct {
	process, method, path string
	start, end            time.Time
}

// wire sees every vendor API call of an account as it arrives, and runs
// its trigger on each, synchronously: a process killed there dies while
// its call is at the vendor.
type wire struct {
	mu      sync.Mutex
	calls   []wireCall
	trigger func(process string, r *http.Request)
}

// processOf reads the process name from "verification-operator/v (name)".
func processOf(userAgent string) string {
	if _, who, ok := strings.Cut(userAgent, " ("); ok {
		return strings.TrimSuffix(who, ")")
	}
	return ""
}

// tap wraps the simulator. (The test seeds orders through the simulator's
// Go API: every request here is a manager's.)
func (w *wire) tap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start, process := time.Now(), processOf(r.UserAgent())
		w.mu.Lock()
		trigger := w.trigger
		w.mu.Unlock()
		if trigger != nil {
			trigger(process, r)
		}
		next.ServeHTTP(rw, r)
		w.mu.Lock()
		w.calls = append(w.calls, wireCall{process: process, method: r.Method, path: r.URL.Path, start: start, end: time.Now()})
		w.mu.Unlock()
	})
}

func (w *wire) onCall(trigger func(process string, r *http.Request)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.trigger = trigger
}

// all are the calls answered so far, by the time they arrived.
func (w *wire) all() []wireCall {
	w.mu.Lock()
	out := append([]wireCall(nil), w.calls...)
	w.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func (w *wire) count(process string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, c := range w.calls {
		if c.process == process {
			n++
		}
	}
	return n
}
