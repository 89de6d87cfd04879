package chaos

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ordersync/verification-operator/test/testutil"
)

// leaseNamespace holds the leader election Lease (and would hold the
// Secrets of cluster providers, which the runs do not use).
const leaseNamespace = "chaos-system"

// manager is one manager process. name is its POD_NAME, which every vendor
// call carries in its User-Agent.
type manager struct {
	name    string
	cmd     *exec.Cmd
	log     *testutil.Buffer
	done    chan struct{}
	err     error
	started time.Time
}

// startManager runs the manager binary with leader election, as it runs in
// a cluster, against kubeconfig. Its complete output is kept (for the
// personal-data scan) and written to logDir/name.log.
func startManager(name, kubeconfigPath, logDir string) *manager {
	GinkgoHelper()
	m := &manager{name: name, log: &testutil.Buffer{}, done: make(chan struct{})}
	file, err := os.Create(filepath.Join(logDir, name+".log"))
	Expect(err).NotTo(HaveOccurred())
	m.cmd = exec.Command(managerBin,
		"--leader-elect", "--leader-election-namespace="+leaseNamespace,
		"--cluster-resource-namespace="+leaseNamespace,
		"--health-probe-bind-address=127.0.0.1:0", "--metrics-bind-address=0")
	m.cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfigPath, "POD_NAME="+name)
	out := io.MultiWriter(m.log, file)
	m.cmd.Stdout, m.cmd.Stderr = out, out
	Expect(m.cmd.Start()).To(Succeed())
	m.started = time.Now()
	go func() {
		m.err = m.cmd.Wait()
		_ = file.Close()
		close(m.done)
	}()
	DeferCleanup(func() {
		if !m.exited() {
			m.kill()
		}
	})
	return m
}

// acquiredMarker is what client-go's leader election logs (capitalized) once the
// process holds the Lease.
const acquiredMarker = "successfully acquired lease"

// leading says whether the process has taken the Lease.
func (m *manager) leading() bool {
	return strings.Contains(strings.ToLower(m.log.String()), acquiredMarker)
}

func (m *manager) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL, as the kernel's OOM killer or a node failure would,
// and waits for the process to be gone.
func (m *manager) kill() {
	_ = m.cmd.Process.Signal(syscall.SIGKILL)
	<-m.done
}

// stop sends SIGTERM and waits for a clean exit, which waits for vendor
// calls in flight (30s at most) and the writes of their results.
func (m *manager) stop() {
	GinkgoHelper()
	if m.exited() {
		return
	}
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-m.done:
	case <-time.After(60 * time.Second):
		m.kill()
		Fail("manager " + m.name + " did not exit within 60s of SIGTERM")
	}
	Expect(m.err).NotTo(HaveOccurred(), "manager %s exited with an error after SIGTERM", m.name)
}

// lastLines is the end of the process's log, for a failure message.
func (m *manager) lastLines(n int) string {
	lines := strings.Split(strings.TrimRight(m.log.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
