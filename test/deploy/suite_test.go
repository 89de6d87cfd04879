// Package deploy tests what `make build-installer` ships (config/default,
// rendered by kustomize) against a real API server: that every document is
// accepted, and that the manager binary works with only the RBAC shipped.
package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/test/testutil"
)

// What config/default is expected to produce.
const (
	operatorNS     = "verification-operator-system"
	managerSA      = "verification-operator-controller-manager"
	managerDeploy  = "verification-operator-controller-manager"
	fieldOwner     = "deploy-test"
	defaultInstIMG = "ghcr.io/ordersync/verification-operator:latest" // the Makefile's IMG default
)

var (
	repoRoot string
	testEnv  *envtest.Environment
	// adminCfg, admin and adminSet talk to the API server as envtest's
	// admin (system:masters); only the manager runs with shipped RBAC.
	adminCfg *rest.Config
	admin    client.Client
	adminSet *kubernetes.Clientset
	scheme   = runtime.NewScheme()
	// warnings collects the API server's warning headers to admin requests,
	// where Pod Security admission reports a pod template that would violate
	// the namespace's warn level.
	warnings = &warningRecorder{}
)

func TestDeploy(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(60 * time.Second)
	SetDefaultEventuallyPollingInterval(200 * time.Millisecond)
	RunSpecs(t, "Deploy Suite")
}

var _ = BeforeSuite(func() {
	var err error
	repoRoot = testutil.RepoRoot()
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1.AddToScheme(scheme)).To(Succeed())

	// No CRDs preloaded: the installer must bring its own.
	testEnv = &envtest.Environment{}
	adminCfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the API server; run `make envtest` or set KUBEBUILDER_ASSETS")
	adminCfg.WarningHandlerWithContext = warnings
	admin, err = client.New(adminCfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())
	adminSet, err = kubernetes.NewForConfig(adminCfg)
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// renderInstaller returns the documents `make build-installer` writes to
// dist/install.yaml: it sets the manager image to IMG (default the
// Makefile's) with `kustomize edit set image`, as build-installer does, but
// in a temporary copy of config/ so that the working tree is not touched.
func renderInstaller(img string) []*unstructured.Unstructured {
	GinkgoHelper()
	return render("default", img)
}

// render builds config/<dir> with the manager image img.
func render(dir, img string) []*unstructured.Unstructured {
	GinkgoHelper()
	kustomize := filepath.Join(repoRoot, "bin", "kustomize")
	_, err := os.Stat(kustomize)
	Expect(err).NotTo(HaveOccurred(), "%s is missing: run `make kustomize` (the test target should depend on it)", kustomize)

	config := filepath.Join(GinkgoT().TempDir(), "config")
	Expect(os.CopyFS(config, os.DirFS(filepath.Join(repoRoot, "config")))).To(Succeed())
	run(filepath.Join(config, "manager"), kustomize, "edit", "set", "image", "controller="+img)
	out := run(repoRoot, kustomize, "build", filepath.Join(config, dir))
	return decodeDocs(out, "kustomize build config/"+dir)
}

// decodeDocs returns the objects of a multi-document YAML stream that
// source (a renderer) wrote, failing the spec if there are none.
func decodeDocs(out []byte, source string) []*unstructured.Unstructured {
	GinkgoHelper()
	var docs []*unstructured.Unstructured
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(out), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			break
		}
		Expect(err).NotTo(HaveOccurred(), "decode the output of %s", source)
		if len(u.Object) > 0 {
			docs = append(docs, u)
		}
	}
	Expect(docs).NotTo(BeEmpty(), "%s rendered nothing", source)
	return docs
}

// run runs a command in dir and returns its stdout; it fails the spec with
// the command's stderr.
func run(dir, name string, args ...string) []byte {
	GinkgoHelper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	Expect(err).NotTo(HaveOccurred(), "%s %s: %s", name, strings.Join(args, " "), stderr.String())
	return out
}

// apply server-side-applies u as c's user, as `kubectl apply --server-side`
// (hack/deploy.mk) would; dryRun runs validation and admission and
// persists nothing.
func apply(ctx context.Context, c client.Client, u *unstructured.Unstructured, dryRun bool) error {
	opts := []client.ApplyOption{client.FieldOwner(fieldOwner), client.ForceOwnership}
	if dryRun {
		opts = append(opts, client.DryRunAll)
	}
	return c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u.DeepCopy()), opts...)
}

func describe(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", u.GetKind(), ns, u.GetName())
	}
	return fmt.Sprintf("%s %s", u.GetKind(), u.GetName())
}

// byKind returns the documents of the given kind.
func byKind(docs []*unstructured.Unstructured, kind string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, d := range docs {
		if d.GetKind() == kind {
			out = append(out, d)
		}
	}
	return out
}

// serviceAccountConfig returns a rest.Config that authenticates with a
// fresh bound token of the ServiceAccount (TokenRequest API; envtest's API
// server has service account signing keys), trusting the API server's CA
// and nothing of the admin's client certificate.
func serviceAccountConfig(ctx context.Context, namespace, name string) *rest.Config {
	GinkgoHelper()
	hour := int64(3600)
	tr, err := adminSet.CoreV1().ServiceAccounts(namespace).CreateToken(ctx, name, &authnv1.TokenRequest{
		Spec: authnv1.TokenRequestSpec{ExpirationSeconds: &hour},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred(), "TokenRequest for %s/%s", namespace, name)
	Expect(tr.Status.Token).NotTo(BeEmpty())
	return &rest.Config{
		Host:            adminCfg.Host,
		TLSClientConfig: rest.TLSClientConfig{CAData: adminCfg.CAData},
		BearerToken:     tr.Status.Token,
	}
}

// createServiceAccount creates a ServiceAccount (the TokenRequest API needs
// it to exist).
func createServiceAccount(ctx context.Context, namespace, name string) {
	GinkgoHelper()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace}}
	Expect(admin.Create(ctx, sa)).To(Succeed())
}

// writeKubeconfig writes a kubeconfig for cfg's bearer token and returns
// its path: what the manager process gets as KUBECONFIG.
func writeKubeconfig(cfg *rest.Config) string {
	GinkgoHelper()
	kc := clientcmdapi.NewConfig()
	kc.Clusters["envtest"] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
	kc.AuthInfos["manager"] = &clientcmdapi.AuthInfo{Token: cfg.BearerToken}
	kc.Contexts["manager"] = &clientcmdapi.Context{Cluster: "envtest", AuthInfo: "manager"}
	kc.CurrentContext = "manager"
	path := filepath.Join(GinkgoT().TempDir(), "kubeconfig")
	Expect(clientcmd.WriteToFile(*kc, path)).To(Succeed())
	return path
}

// startManager starts bin with KUBECONFIG=kubeconfig. Its output goes to
// GinkgoWriter and is kept for the log assertions. It is stopped with
// SIGTERM when the current container's specs are done.
func startManager(bin, kubeconfig string, args ...string) *testutil.Process {
	GinkgoHelper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+kubeconfig)
	p := testutil.Start(cmd)
	DeferCleanup(func() {
		// Idle, the manager stops at once; its terminationGracePeriodSeconds
		// is 60, for the vendor calls it lets finish.
		Expect(p.Terminate(60*time.Second)).To(BeTrue(), "manager did not exit within 60s of SIGTERM")
		Expect(p.Err()).NotTo(HaveOccurred(), "manager exited with an error after SIGTERM")
	})
	return p
}

// warningRecorder is a rest.WarningHandlerWithContext that keeps every
// warning the API server sent.
type warningRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (w *warningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// since returns the warnings received after the first n.
func (w *warningRecorder) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen[n:]...)
}

func (w *warningRecorder) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.seen)
}
