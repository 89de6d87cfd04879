// Command manager runs the verification-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/internal/version"
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers/registry"
)

// flags are the manager's command line, documented in the README.
type flags struct {
	metricsAddr, metricsCertPath, probeAddr string
	pprofAddr                               string
	leaderElect                             bool
	leaderElectionNS                        string
	secureMetrics, enableHTTP2              bool
	watchNamespaces                         string
	workers                                 int
	kubeAPIQPS                              float64
	kubeAPIBurst                            int
	clusterProviders                        bool
	clusterResourceNamespace                string
	printVersion                            bool
	webhookAddr, webhookCertPath            string
	webhookAPIQPS                           float64
	webhookAPIBurst                         int
	watchLabelSelector                      string
	shard                                   shard.Shard
}

func parseFlags(fs *flag.FlagSet, args []string) (flags, error) {
	var f flags
	fs.StringVar(&f.metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	fs.StringVar(&f.metricsCertPath, "metrics-cert-path", "", "Directory holding tls.crt and tls.key for the metrics server; empty means a self-signed certificate.")
	fs.StringVar(&f.probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	fs.StringVar(&f.pprofAddr, "pprof-bind-address", "0",
		"Address of Go's pprof endpoints (/debug/pprof/), e.g. 127.0.0.1:6060; 0 disables them. Unauthenticated: never expose it beyond the pod.")
	fs.BoolVar(&f.leaderElect, "leader-elect", true, "Elect a leader, so that only one replica acts on vendors. Turn off only for a single replica you run by hand.")
	fs.StringVar(&f.leaderElectionNS, "leader-election-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the leader election Lease; empty means the pod's own (only known in-cluster).")
	fs.BoolVar(&f.secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorized by the API server.")
	fs.BoolVar(&f.enableHTTP2, "enable-http2", false,
		"Let the metrics server speak HTTP/2. Off by default because of the HTTP/2 Stream Cancellation and Rapid Reset CVEs.")
	fs.StringVar(&f.watchNamespaces, "watch-namespaces", "",
		"Comma-separated namespaces to watch (orders, providers, Secrets); empty means all. Lets the manager run under RoleBindings only.")
	fs.IntVar(&f.workers, "workers", 8, "How many orders are reconciled at once; vendor calls stay within each provider's rate limit however many.")
	fs.Float64Var(&f.kubeAPIQPS, "kube-api-qps", 300, "Requests per second to the Kubernetes API (client-go's default of 20 caps status writes well below what the API server takes).")
	fs.IntVar(&f.kubeAPIBurst, "kube-api-burst", 600, "Burst of requests to the Kubernetes API.")
	fs.BoolVar(&f.clusterProviders, "cluster-providers", true,
		"Serve ClusterVerificationProviders: needs cluster-wide read of them and of Namespaces. Turn off when the manager runs under RoleBindings only.")
	fs.StringVar(&f.clusterResourceNamespace, "cluster-resource-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the credentials Secrets of ClusterVerificationProviders that name none; defaults to the pod's own (POD_NAMESPACE).")
	fs.StringVar(&f.webhookAddr, "webhook-bind-address", "0", "Address of the vendors' webhook receiver (HTTPS), e.g. :9443; 0 turns it off.")
	fs.StringVar(&f.webhookCertPath, "webhook-cert-path", "", "Directory holding tls.crt and tls.key for the webhook receiver; empty means a self-signed certificate.")
	fs.Float64Var(&f.webhookAPIQPS, "webhook-kube-api-qps", webhook.DefaultAPIQPS,
		"Requests per second to the Kubernetes API for the webhook receiver's writes (refresh annotations, status.webhook): a budget of its own, so a flood of deliveries cannot slow reconciles.")
	fs.IntVar(&f.webhookAPIBurst, "webhook-kube-api-burst", webhook.DefaultAPIBurst, "Burst of the webhook receiver's requests to the Kubernetes API.")
	fs.StringVar(&f.watchLabelSelector, "watch-label-selector", "",
		"Serve only the providers, and their orders, whose labels match, as Flux shards: e.g. '"+shard.Label+"=shard1' for a shard, '!"+shard.Label+
			"' for the default instance beside shards; empty serves everything. Each shard elects its own leader and holds a Lease per vendor account it spends (docs/scaling.md).")
	fs.BoolVar(&f.printVersion, "version", false, "Print the version and exit.")
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if f.printVersion {
		return f, nil
	}
	if f.workers < 1 {
		return f, fmt.Errorf("--workers must be at least 1, got %d", f.workers)
	}
	if f.webhookAPIQPS <= 0 || f.webhookAPIBurst < 1 {
		return f, fmt.Errorf("--webhook-kube-api-qps must be above 0 and --webhook-kube-api-burst at least 1, got %g and %d", f.webhookAPIQPS, f.webhookAPIBurst)
	}
	if f.clusterProviders && f.clusterResourceNamespace == "" {
		return f, fmt.Errorf("--cluster-resource-namespace is needed with --cluster-providers (set POD_NAMESPACE, or pass --cluster-providers=false)")
	}
	var err error
	if f.shard, err = shard.Parse(f.watchLabelSelector); err != nil {
		return f, err
	}
	if f.shard.Sharded() && f.leaderElectionNS == "" && f.clusterResourceNamespace == "" {
		return f, fmt.Errorf("--watch-label-selector needs a namespace for the vendor accounts' Leases: set POD_NAMESPACE or --leader-election-namespace")
	}
	return f, nil
}

func main() {
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	f, err := parseFlags(flag.CommandLine, os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if f.printVersion {
		fmt.Println(version.Get())
		return
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")
	log.Info("starting", "version", version.Get())
	setMemoryLimit(log)
	if err := run(f); err != nil {
		log.Error(err, "manager exited")
		os.Exit(1)
	}
}

// cacheOptions confines the informers to the watched namespaces, if any,
// and the orders' to the shard's.
func cacheOptions(watchNamespaces string, sh shard.Shard) cache.Options {
	return sh.CacheOptions(namespaceCacheOptions(watchNamespaces))
}

// namespaceCacheOptions confines the informers to the watched namespaces, if any.
func namespaceCacheOptions(watchNamespaces string) cache.Options {
	opts := cache.Options{DefaultTransform: controllers.TrimForCache}
	for _, ns := range strings.Split(watchNamespaces, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			if opts.DefaultNamespaces == nil {
				opts.DefaultNamespaces = map[string]cache.Config{}
			}
			opts.DefaultNamespaces[ns] = cache.Config{}
		}
	}
	return opts
}

// metricsOptions configures the metrics server: served on addr ("0"
// disables it), over HTTPS with the API server authenticating and
// authorizing each scrape if secure, and over HTTP/1.1 only unless
// enableHTTP2, as kubebuilder scaffolds it: HTTP/2 exposes the server to the
// Stream Cancellation and Rapid Reset CVEs (GHSA-qppj-fm5r-hxr3,
// GHSA-4374-p667-p6c8) and a scraper does not need it.
func metricsOptions(addr string, secure, enableHTTP2 bool, certPath string) metricsserver.Options {
	opts := metricsserver.Options{BindAddress: addr, SecureServing: secure, CertDir: certPath}
	if secure {
		opts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if !enableHTTP2 {
		opts.TLSOpts = append(opts.TLSOpts, disableHTTP2)
	}
	return opts
}

// disableHTTP2 makes a TLS server offer only HTTP/1.1 in ALPN.
func disableHTTP2(c *tls.Config) {
	c.NextProtos = []string{"http/1.1"}
}

// buildInfo says which version runs, as Prometheus' own build_info does.
var buildInfo = prometheus.NewGaugeVec(prometheus.GaugeOpts{
	Name: "verification_operator_build_info",
	Help: "The running manager's version; always 1.",
}, []string{"version"})

func init() { metrics.Registry.MustRegister(buildInfo) }

// gracefulShutdown lets in-flight vendor calls and the writes of their
// results finish (see controllers' resultDeadline); below the pod's
// terminationGracePeriodSeconds.
const gracefulShutdown = 50 * time.Second

// leaderElectionID is the unsharded (and default) instance's Lease; each
// other shard's is derived from its selector (shard.Shard.LeaderElectionID).
const leaderElectionID = "verification-operator.ordersync.dev"

// managerOptions are the manager's options for the command line f.
func managerOptions(f flags, scheme *runtime.Scheme) ctrl.Options {
	shutdown := gracefulShutdown
	return ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOptions(f.metricsAddr, f.secureMetrics, f.enableHTTP2, f.metricsCertPath),
		HealthProbeBindAddress:  f.probeAddr,
		PprofBindAddress:        f.pprofAddr,
		LeaderElection:          f.leaderElect,
		LeaderElectionID:        f.shard.LeaderElectionID(leaderElectionID),
		LeaderElectionNamespace: f.leaderElectionNS,
		// A new leader must not act while the old one may still finish a
		// call: the old one gives up the Lease only after its reconciles end.
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &shutdown,
		Cache:                         cacheOptions(f.watchNamespaces, f.shard),
	}
}

func run(f flags) error {
	// The kinds the manager's client reads or watches, and no more: every
	// Kubernetes kind in the scheme is heap held for good.
	scheme := runtime.NewScheme()
	utilruntime.Must(corev1.AddToScheme(scheme)) // Secrets, Namespaces
	utilruntime.Must(v1.AddToScheme(scheme))

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(f.kubeAPIQPS), f.kubeAPIBurst
	mgr, err := ctrl.NewManager(cfg, managerOptions(f, scheme))
	if err != nil {
		return err
	}
	buildInfo.WithLabelValues(version.Get()).Set(1)
	ctx := ctrl.SetupSignalHandler()
	if err := controllers.Setup(ctx, mgr, controllers.Options{Registry: registry.Default(), Workers: f.workers,
		ClusterProviders: f.clusterProviders, OperatorNamespace: f.clusterResourceNamespace,
		WebhookAddr: f.webhookAddr, WebhookCertDir: f.webhookCertPath,
		WebhookAPIQPS: float32(f.webhookAPIQPS), WebhookAPIBurst: f.webhookAPIBurst,
		Shard: f.shard, LeaseNamespace: f.leaderElectionNS, Identity: os.Getenv("POD_NAME")}); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	return mgr.Start(ctx)
}
