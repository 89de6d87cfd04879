// Package e2e drives the sandbox as a user would: it builds cmd/sandbox,
// runs it as a process, reads .sandbox/env.json, and works through the
// simulators' admin API and the Kubernetes API.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simulators"
	"github.com/ordersync/verification-operator/test/testutil"
)

var (
	repoRoot string
	binary   string
	// sb is the sandbox the specs run against.
	sb *sandbox
)

func TestE2E(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "E2E Suite")
}

var _ = BeforeSuite(func() {
	repoRoot = testutil.RepoRoot()
	requireControlPlane()
	binary = testutil.Build("./cmd/sandbox")

	sb = startSandbox(filepath.Join(GinkgoT().TempDir(), ".sandbox"))
})

var _ = AfterSuite(func() {
	if sb != nil {
		sb.kill()
	}
})

// requireControlPlane fails (not skips: `make test` always builds the
// control plane first) when kube-apiserver or etcd is missing, before the
// sandbox would spend minutes building them itself.
func requireControlPlane() {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = filepath.Join(repoRoot, "bin", "k8s")
	}
	for _, name := range []string{"kube-apiserver", "etcd"} {
		Expect(filepath.Join(dir, name)).To(BeAnExistingFile(),
			"no %s in %s: run `make envtest` (or `make test`, which does), or set KUBEBUILDER_ASSETS", name, dir)
	}
}

// sandbox is a running cmd/sandbox process.
type sandbox struct {
	*testutil.Process
	dir string
	env envFile
	k8s client.Client
}

// envFile is the contract shape of .sandbox/env.json (docs/sandbox.md).
type envFile struct {
	Kubeconfig string `json:"kubeconfig"`
	Namespace  string `json:"namespace"`
	Vendors    map[string]struct {
		URL string `json:"url"`
	} `json:"vendors"`
}

// startSandbox runs the sandbox the way `make sandbox` does (from the repo
// root) with its files in dir, and waits until env.json says it is up.
func startSandbox(dir string) *sandbox {
	GinkgoHelper()
	cmd := exec.Command(binary, "--dir", dir)
	cmd.Dir = repoRoot
	s := &sandbox{Process: testutil.Start(cmd), dir: dir}

	envPath := filepath.Join(dir, "env.json")
	Eventually(func(g Gomega) {
		g.Expect(s.Exited()).To(BeFalse(), "the sandbox exited before it was up:\n%s", s.Output)
		g.Expect(envPath).To(BeAnExistingFile())
	}).WithTimeout(90*time.Second).Should(Succeed(), "env.json never appeared; output:\n%s", s.Output)

	data, err := os.ReadFile(envPath)
	Expect(err).NotTo(HaveOccurred())
	Expect(json.Unmarshal(data, &s.env)).To(Succeed(), "env.json: %s", data)
	Expect(s.env.Namespace).To(Equal("sandbox"))
	for _, sim := range simulators.All() {
		Expect(s.env.Vendors).To(HaveKey(sim.Name))
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", s.env.Kubeconfig)
	Expect(err).NotTo(HaveOccurred())
	scheme := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1.AddToScheme(scheme)).To(Succeed())
	s.k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	return s
}

func ctx() context.Context { return context.Background() }

// stop sends SIGTERM and expects a clean exit (status 0) within 30s, with
// none of its children (etcd, kube-apiserver) left running.
func (s *sandbox) stop() {
	GinkgoHelper()
	children := childPIDs(s.Cmd.Process.Pid)
	Expect(children).NotTo(BeEmpty(), "the sandbox should run etcd and kube-apiserver as children")
	Expect(s.Terminate(30*time.Second)).To(BeTrue(), "no exit 30s after SIGTERM; output:\n%s", s.Output)
	Expect(s.Err()).NotTo(HaveOccurred(), "the sandbox exited with an error; output:\n%s", s.Output)
	for _, pid := range children {
		Expect(alive(pid)).To(BeFalse(), "child process %d is still running after the sandbox exited", pid)
	}
	Expect(filepath.Join(s.dir, "env.json")).NotTo(BeAnExistingFile(), "env.json must go when the sandbox stops")
}

// kill is the AfterSuite safety net for a sandbox a failed spec left up.
func (s *sandbox) kill() { s.Terminate(30 * time.Second) }

// childPIDs lists the processes whose parent is pid, from /proc.
func childPIDs(pid int) []int {
	GinkgoHelper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	Expect(err).NotTo(HaveOccurred())
	var out []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // the process ended while we looked
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			child, _ := strconv.Atoi(filepath.Base(filepath.Dir(path)))
			out = append(out, child)
		}
	}
	return out
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
