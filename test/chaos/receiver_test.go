package chaos

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers/truework"
	"github.com/ordersync/verification-operator/test/testutil"
)

// The budgets of issue 21's abuse of the public receiver.
const (
	// bigDeliveries with ids of bigIDBytes each, all authentic and unique,
	// may leave the manager's heap (after a GC) and its RSS at most
	// memoryBudget larger: the replay memory keeps a hash of an id, never
	// the id.
	bigDeliveries = 300
	bigIDBytes    = 200 << 10
	memoryBudget  = 20 << 20
	// forgedDeliveries, each with a body of bigIDBytes, are sent by
	// floodWorkers at once.
	forgedDeliveries = 300
	floodWorkers     = 8
	// clusterProbes of /hooks/_cluster/... must each be answered within
	// clusterProbeTimeout, leaving at most goroutineSlack more goroutines.
	clusterProbes       = 20
	clusterProbeTimeout = 5 * time.Second
	goroutineSlack      = 10
)

// The public receiver, as a stranger on the internet or a tenant with one
// provider's token would abuse it, against the manager binary confined to
// one namespace under a RoleBinding (--watch-namespaces,
// --cluster-providers=false), as a platform runs it. What the manager costs
// is measured from outside: its heap after a GC (pprof) and RSS (/proc), and
// every write it sends to the API server (a proxy in front of it counts
// them). docs/webhooks.md states the bounds.
var _ = Describe("The webhook receiver under abuse", Ordered, func() {
	var (
		ns     string
		token  string
		mgr    *receiverManager
		writes *writeCounter
	)

	BeforeAll(func(ctx SpecContext) {
		nsObj := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "chaos-receiver-"}}
		Expect(k8s.Create(ctx, nsObj)).To(Succeed())
		ns = nsObj.Name
		a := receivingAccount(ctx, ns, "tenant-a")
		receivingAccount(ctx, ns, "tenant-b")
		token = a.WebhookSecret
		writes = &writeCounter{}
		mgr = startReceiverManager(ctx, ns, writes)
		Eventually(func() int { return mgr.deliver("/hooks/"+ns+"/tenant-a", "not-the-token", trueworkHook("warm-up", 0)) }).
			Should(Equal(http.StatusUnauthorized), "the receiver serves the provider")
		Eventually(func() int { return mgr.deliver("/hooks/"+ns+"/tenant-b", "not-the-token", trueworkHook("warm-up", 0)) }).
			Should(Equal(http.StatusUnauthorized), "the receiver serves the provider")
	})

	It("keeps a hash of each delivery id, not the id: 300 authentic deliveries with 200 KB ids grow memory < 20 MiB", func() {
		path := "/hooks/" + ns + "/tenant-a"
		for i := range 20 { // the TLS session, the handler's paths and the cached objects, before the baseline
			Expect(mgr.deliver(path, token, trueworkHook(fmt.Sprintf("small-%d", i), 0))).To(Equal(http.StatusAccepted))
		}
		heap0, rss0 := mgr.memory()
		for i := range bigDeliveries {
			Expect(mgr.deliver(path, token, trueworkHook(fmt.Sprintf("big-%d-", i), bigIDBytes))).To(Equal(http.StatusAccepted), "delivery %d", i)
		}
		heap1, rss1 := mgr.memory()
		heapGrowth, rssGrowth := int64(heap1)-int64(heap0), int64(rss1)-int64(rss0)
		report := fmt.Sprintf("heap after GC %+.1f MiB (%.1f → %.1f), RSS %+.1f MiB (%.1f → %.1f)",
			mib(heapGrowth), mib(int64(heap0)), mib(int64(heap1)), mib(rssGrowth), mib(int64(rss0)), mib(int64(rss1)))
		AddReportEntry(fmt.Sprintf("receiver: %d deliveries with %d KiB ids", bigDeliveries, bigIDBytes>>10), report)
		fmt.Fprintln(GinkgoWriter, "receiver memory:", report)
		Expect(heapGrowth).To(BeNumerically("<", memoryBudget), report)
		Expect(rssGrowth).To(BeNumerically("<", memoryBudget), report)
	})

	It("keeps each provider's replay memory apart: a flood of one provider's deliveries evicts none of another's", func() {
		pathA, pathB := "/hooks/"+ns+"/tenant-a", "/hooks/"+ns+"/tenant-b"
		Expect(mgr.deliver(pathB, token, trueworkHook("b-remembered", 0))).To(Equal(http.StatusAccepted))
		for i := range webhook.ReplaysPerProvider + 1 {
			Expect(mgr.deliver(pathA, token, trueworkHook(fmt.Sprintf("a-flood-%d", i), 0))).To(Equal(http.StatusAccepted), "delivery %d", i)
		}
		Expect(mgr.deliver(pathB, token, trueworkHook("b-remembered", 0))).To(Equal(http.StatusOK),
			"tenant-b's delivery was forgotten after a flood at tenant-a")
		Expect(mgr.deliver(pathA, token, trueworkHook("a-flood-0", 0))).To(Equal(http.StatusAccepted),
			"control: the flood outgrew tenant-a's own memory, so a shared memory of that size would have lost tenant-b's delivery")
	})

	It("records forged deliveries at most once per provider every 10 seconds, and writes nothing else", func() {
		before := writes.count()
		Expect(writes.since(0)).To(ContainElement(HaveSuffix(webhook.WriterUserAgentSuffix+")")),
			"control: the proxy sees the receiver's writes (the deliveries above were recorded), through the client of its own")
		start := time.Now()
		answers := mgr.flood(forgedDeliveries, floodWorkers, func(i int) (string, string, []byte) {
			tenant := []string{"tenant-a", "tenant-b"}[i%2]
			return "/hooks/" + ns + "/" + tenant, "forged-" + strconv.Itoa(i), trueworkHook(fmt.Sprintf("forged-%d-", i), bigIDBytes)
		})
		Expect(mgr.deliver("/hooks/"+ns+"/tenant-a", "forged-huge", trueworkHook("forged-huge-", 4*webhook.MaxBody))).
			To(Equal(http.StatusUnauthorized), "a wrong token is refused before the body is read (else: 413, too large)")
		elapsed := time.Since(start)
		Expect(answers).To(HaveKey(http.StatusUnauthorized))
		for code := range answers {
			Expect(code).To(BeElementOf(http.StatusUnauthorized, http.StatusServiceUnavailable), "answers %v", answers)
		}
		budget := 2 * (1 + int(elapsed/webhook.StatusEvery)) // two providers
		got := writes.since(before)
		AddReportEntry(fmt.Sprintf("receiver: %d forged deliveries", forgedDeliveries),
			fmt.Sprintf("%d API writes in %s (budget %d), answers %v", len(got), elapsed.Round(time.Millisecond), budget, answers))
		Expect(len(got)).To(BeNumerically("<=", budget), "API writes during a forged flood of %s:\n%s", elapsed, strings.Join(got, "\n"))
	})

	It("answers /hooks/_cluster/... 404 at once when cluster providers are off, holding no goroutine", func() {
		before := mgr.goroutines()
		for i := range clusterProbes {
			start := time.Now()
			Expect(mgr.deliverWithin(clusterProbeTimeout, "/hooks/_cluster/shared", token, trueworkHook(fmt.Sprintf("cluster-%d", i), 0))).
				To(Equal(http.StatusNotFound))
			Expect(time.Since(start)).To(BeNumerically("<", clusterProbeTimeout))
		}
		Expect(mgr.goroutines()).To(BeNumerically("<=", before+goroutineSlack))
	})
})

// receivingAccount is a Truework account whose provider in ns takes
// webhook deliveries.
func receivingAccount(ctx context.Context, ns, name string) *fixture.Account {
	GinkgoHelper()
	fx, err := fixture.Start("truework", fixture.Namespace(ns), fixture.ProviderName(name), fixture.SecretName(name),
		fixture.WithoutSigningKeys(), fixture.ReceivingWebhooks(), fixture.PollInterval(time.Hour))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(fx.Close)
	Expect(fx.Create(ctx, k8s)).To(Succeed())
	return fx
}

// trueworkHook is a Truework delivery about an order no one manages, whose
// hook id is id, padded with x to pad bytes.
func trueworkHook(id string, pad int) []byte {
	if pad > len(id) {
		id += strings.Repeat("x", pad-len(id))
	}
	body, err := json.Marshal(map[string]any{
		"version": "2023-10-30",
		"hook":    map[string]any{"id": id, "event": "order.completed", "triggered_at": time.Now().UTC().Format(time.RFC3339)},
		"data":    map[string]any{"order_id": "unmanaged-order", "state": "completed"},
	})
	Expect(err).NotTo(HaveOccurred())
	return body
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// receiverManager is the manager binary serving the receiver and pprof on
// loopback ports.
type receiverManager struct {
	proc            *testutil.Process
	hooksURL, pprof string
	httpc           *http.Client
	deliveryTimeout time.Duration
}

// startReceiverManager runs the manager confined to ns as a user that may do
// anything in ns and nothing elsewhere, reaching the API server through a
// proxy that counts its writes in writes.
func startReceiverManager(ctx context.Context, ns string, writes *writeCounter) *receiverManager {
	GinkgoHelper()
	user, err := testEnv.AddUser(envtest.User{Name: "receiver-" + ns}, nil)
	Expect(err).NotTo(HaveOccurred())
	Expect(k8s.Create(ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "manager"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "receiver-" + ns}},
	})).To(Succeed())
	proxyAddr := serveCountingProxy(user.Config(), writes)
	m := &receiverManager{hooksURL: "https://" + freeLoopbackAddr(), pprof: "http://" + freeLoopbackAddr(), deliveryTimeout: 30 * time.Second,
		httpc: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}} //nolint:gosec // the receiver's certificate is self-signed
	cmd := exec.Command(managerBin, "--leader-elect=false", "--metrics-bind-address=0", "--health-probe-bind-address=127.0.0.1:0",
		"--watch-namespaces="+ns, "--cluster-providers=false",
		"--webhook-bind-address="+strings.TrimPrefix(m.hooksURL, "https://"), "--pprof-bind-address="+strings.TrimPrefix(m.pprof, "http://"))
	cmd.Env = append(os.Environ(), "KUBECONFIG="+plainKubeconfig(proxyAddr), "POD_NAME=receiver")
	m.proc = testutil.Start(cmd)
	DeferCleanup(func() {
		Expect(m.proc.Terminate(time.Minute)).To(BeTrue(), "the manager did not stop within a minute of SIGTERM")
	})
	return m
}

// deliver posts body to the receiver's path with Truework's token header
// and returns the answer's status; 0 if there was none.
func (m *receiverManager) deliver(path, token string, body []byte) int {
	return m.deliverWithin(m.deliveryTimeout, path, token, body)
}

func (m *receiverManager) deliverWithin(timeout time.Duration, path, token string, body []byte) int {
	GinkgoHelper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.hooksURL+path, bytes.NewReader(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set(truework.TokenHeader, token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.httpc.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// flood sends n deliveries, delivery(i) each, from workers goroutines at
// once, and counts the answers by status.
func (m *receiverManager) flood(n, workers int, delivery func(i int) (path, token string, body []byte)) map[int]int {
	var mu sync.Mutex
	answers := map[int]int{}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			defer GinkgoRecover()
			for i := range next {
				path, token, body := delivery(i)
				code := m.deliver(path, token, body)
				mu.Lock()
				answers[code]++
				mu.Unlock()
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return answers
}

// memory is the manager's heap right after a GC (pprof's heap profile with
// gc=1 runs one) and its resident set, in bytes.
func (m *receiverManager) memory() (heap, rss uint64) {
	GinkgoHelper()
	profile := m.get("/debug/pprof/heap?gc=1&debug=1")
	heap = statLine(profile, "# HeapAlloc = ", "pprof heap profile")
	status, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(m.proc.Cmd.Process.Pid), "status"))
	Expect(err).NotTo(HaveOccurred())
	return heap, statLine(string(status), "VmRSS:", "/proc/pid/status") << 10
}

// goroutines is how many goroutines the manager runs.
func (m *receiverManager) goroutines() uint64 {
	GinkgoHelper()
	return statLine(m.get("/debug/pprof/goroutine?debug=1"), "goroutine profile: total ", "pprof goroutine profile")
}

func (m *receiverManager) get(path string) string {
	GinkgoHelper()
	var body []byte
	Eventually(func() error {
		resp, err := http.Get(m.pprof + path) //nolint:noctx // a loopback read bounded by Eventually
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	}).Should(Succeed())
	return string(body)
}

// statLine is the number after prefix on the first line that starts with
// it (a trailing unit such as kB ignored).
func statLine(text, prefix, what string) uint64 {
	GinkgoHelper()
	scanner := bufio.NewScanner(strings.NewReader(text))
	scanner.Buffer(nil, 1<<20)
	for scanner.Scan() {
		if after, ok := strings.CutPrefix(scanner.Text(), prefix); ok {
			n, err := strconv.ParseUint(strings.Fields(after)[0], 10, 64)
			Expect(err).NotTo(HaveOccurred())
			return n
		}
	}
	Fail(fmt.Sprintf("no %q in the %s", prefix, what))
	return 0
}

// writeCounter keeps every request that is no read (POST, PUT, PATCH,
// DELETE) the manager sent to the API server.
type writeCounter struct {
	mu     sync.Mutex
	writes []string
}

func (w *writeCounter) add(r *http.Request) {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes = append(w.writes, r.Method+" "+r.URL.Path+" ("+r.UserAgent()+")")
}

func (w *writeCounter) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.writes)
}

// since lists the writes after the first n.
func (w *writeCounter) since(n int) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.writes[n:]...)
}

// serveCountingProxy serves plain HTTP on a loopback port, forwarding every
// request to the API server as user (its client certificate), and counting
// the writes in writes. It returns the address.
func serveCountingProxy(user *rest.Config, writes *writeCounter) string {
	GinkgoHelper()
	target, err := url.Parse(user.Host)
	Expect(err).NotTo(HaveOccurred())
	transport, err := rest.TransportFor(user)
	Expect(err).NotTo(HaveOccurred())
	proxy := &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     transport,
		FlushInterval: -1, // watches stream
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writes.add(r)
		proxy.ServeHTTP(w, r)
	})}
	go func() { _ = srv.Serve(ln) }()
	DeferCleanup(srv.Close)
	return ln.Addr().String()
}

// plainKubeconfig writes a kubeconfig that reaches the API server at addr
// over plain HTTP with no credentials (the proxy adds them).
func plainKubeconfig(addr string) string {
	GinkgoHelper()
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["proxy"] = &clientcmdapi.Cluster{Server: "http://" + addr}
	cfg.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	cfg.CurrentContext = "proxy"
	path := filepath.Join(GinkgoT().TempDir(), "kubeconfig-plain")
	Expect(clientcmd.WriteToFile(*cfg, path)).To(Succeed())
	return path
}

// freeLoopbackAddr is a loopback address with a port no one listens on.
func freeLoopbackAddr() string {
	GinkgoHelper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	Expect(err).NotTo(HaveOccurred())
	defer ln.Close()
	return ln.Addr().String()
}
