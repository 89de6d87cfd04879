package controllers_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap/zapcore"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/selection"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/test/testutil"
)

// isolatedLabel keeps an object away from the suite's manager, for tests
// that drive a reconciler of their own (the crash test).
const isolatedLabel = "test.ordersync.dev/isolated"

// operatorNamespace holds the Secrets of cluster providers that name none.
const operatorNamespace = "verification-operator-system"

// webhookAddr is where the manager's webhook receiver listens.
var webhookAddr string

// freeAddr is a loopback address with a port no one listens on.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	return ln.Addr().String()
}

var (
	testEnv   *envtest.Environment
	k8s       client.Client
	scheme    = runtime.NewScheme()
	logBuffer = &testutil.Buffer{}
	stopMgr   context.CancelFunc
	// hooks lets a test act just before the operator's request reaches a
	// vendor, e.g. to move the order as a borrower would in between.
	hooks = &hookTransport{}
	// reconciles traces the suite manager's order reconciles, so negative
	// checks wait for the reconciler instead of a fixed time.
	reconciles = &reconcileTracer{}
)

type hookTransport struct {
	hooks    sync.Map // "METHOD path" -> func(), once
	rewrites sync.Map // "METHOD path" -> method, every time
}

func (h *hookTransport) Before(method, path string, f func()) {
	h.hooks.Store(method+" "+path, f)
	DeferCleanup(func() { h.hooks.Delete(method + " " + path) })
}

// Rewrite sends every "method path" request as newMethod instead, e.g. a
// cancel as a read, to play a vendor that accepts a call and ignores it.
func (h *hookTransport) Rewrite(method, path, newMethod string) {
	h.rewrites.Store(method+" "+path, newMethod)
	DeferCleanup(func() { h.rewrites.Delete(method + " " + path) })
}

func (h *hookTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	key := r.Method + " " + r.URL.Path
	if f, ok := h.hooks.LoadAndDelete(key); ok {
		f.(func())()
	}
	if m, ok := h.rewrites.Load(key); ok {
		r = r.Clone(r.Context())
		r.Method, r.Body, r.ContentLength = m.(string), http.NoBody, 0
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	SetDefaultEventuallyTimeout(30 * time.Second)
	SetDefaultEventuallyPollingInterval(100 * time.Millisecond)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	// Everything the operator logs goes to logBuffer too, so the PII check
	// can read every line.
	ctrl.SetLogger(zap.New(zap.WriteTo(zapcore.AddSync(multiWriter{GinkgoWriter, logBuffer})), zap.UseDevMode(true), zap.Level(zapcore.Level(-2))))
	Expect(clientgoscheme.AddToScheme(scheme)).To(Succeed())
	Expect(v1.AddToScheme(scheme)).To(Succeed())

	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := testEnv.Start()
	Expect(err).NotTo(HaveOccurred(), "start the API server; run `make envtest` or set KUBEBUILDER_ASSETS")
	k8s, err = client.New(cfg, client.Options{Scheme: scheme})
	Expect(err).NotTo(HaveOccurred())

	notIsolated, err := labels.NewRequirement(isolatedLabel, selection.DoesNotExist, nil)
	Expect(err).NotTo(HaveOccurred())
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache: cache.Options{DefaultTransform: controllers.TrimForCache, ByObject: map[client.Object]cache.ByObject{
			&v1.VerificationOrder{}: {Label: labels.NewSelector().Add(*notIsolated)},
		}},
	})
	Expect(err).NotTo(HaveOccurred())
	ctx, cancel := context.WithCancel(context.Background())
	stopMgr = cancel
	Expect(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: operatorNamespace}})).To(Succeed())
	webhookAddr = freeAddr()
	Expect(controllers.Setup(ctx, mgr, controllers.Options{Registry: registry.Default(), Transport: hooks, TraceReconcile: reconciles.trace, RepeatBackoff: 100 * time.Millisecond,
		ClusterProviders: true, OperatorNamespace: operatorNamespace, WebhookAddr: webhookAddr})).To(Succeed())
	go func() {
		defer GinkgoRecover()
		Expect(mgr.Start(ctx)).To(Succeed())
	}()
})

var _ = AfterSuite(func() {
	if stopMgr != nil {
		stopMgr()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

type multiWriter []interface{ Write([]byte) (int, error) }

func (m multiWriter) Write(p []byte) (int, error) {
	for _, w := range m {
		_, _ = w.Write(p)
	}
	return len(p), nil
}
