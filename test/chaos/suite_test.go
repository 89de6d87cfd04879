// Package chaos runs the real manager binary against a local control plane
// and in-process vendor simulators that inject faults, kills it with SIGKILL
// while it converges, fails its leader over, cuts a leader off the API
// server, turns one vendor account slow while other accounts' orders must
// keep converging, and then checks from the simulators' own records that every order
// ended where it should, exactly once, within each vendor's budget and
// Retry-After, and that no personal data or credential reached an object,
// an event or a log. docs/reliability.md has what is checked and the
// figures of the last full run.
//
//	go test ./test/chaos                                   # the short run (part of `make test`)
//	make test-chaos                                        # the full run
//	go test ./test/chaos -args -chaos.seed=N [-chaos.orders=500 ...]   # replay a run
package chaos

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/onsi/gomega/format"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/test/testutil"
)

var (
	testEnv *envtest.Environment
	// adminCfg and k8s act as a cluster admin; kubeconfig is the same user
	// for the manager processes.
	adminCfg   *rest.Config
	k8s        client.WithWatch
	kubeconfig string
	// managerBin is the manager binary, built once.
	managerBin string
	scheme     = runtime.NewScheme()
	// suiteSeed is the seed every run of this suite derives its choices from.
	suiteSeed uint64
	// results collects every run's figures for the summary and chaos-results.json.
	results = &figures{}
)

func TestChaos(t *testing.T) {
	RegisterFailHandler(Fail)
	format.MaxLength = 0 // a finding is no use cut short
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(250 * time.Millisecond)
	RunSpecs(t, "Chaos Suite")
}

var _ = BeforeSuite(func() {
	suiteSeed = pickSeed()
	fmt.Fprintf(GinkgoWriter, "chaos seed %d; replay: %s\n", suiteSeed, replayCommand(suiteSeed))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1.AddToScheme(scheme)).To(Succeed())
	root := testutil.RepoRoot()
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	var err error
	_, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the API server; run `make envtest` or set KUBEBUILDER_ASSETS")
	// A user of its own, so that its kubeconfig can be handed to the
	// manager processes (envtest's admin config is not a file).
	user, err := testEnv.AddUser(envtest.User{Name: "chaos", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	adminCfg = user.Config()
	adminCfg.QPS, adminCfg.Burst = 500, 1000 // the test's own reads must not be what is slow
	k8s, err = client.NewWithWatch(adminCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	kc, err := user.KubeConfig()
	Expect(err).NotTo(HaveOccurred())
	kubeconfig = filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(os.WriteFile(kubeconfig, kc, 0o600)).To(Succeed())
	managerBin = testutil.Build("./cmd/manager")
})

var _ = AfterSuite(func() {
	results.print(os.Stdout) // the summary: shown by go test -v, and whenever the run fails
	if *flagOut != "" {
		Expect(results.write(*flagOut)).To(Succeed())
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})
