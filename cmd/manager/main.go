// Command manager runs the verification-operator controllers.
package main

import (
	"crypto/tls"
	"flag"
	"os"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers"
	"github.com/ordersync/verification-operator/providers/registry"
)

func main() {
	var metricsAddr, probeAddr, leaderElectionNS string
	var leaderElect, secureMetrics, enableHTTP2 bool
	flag.StringVar(&metricsAddr, "metrics-bind-address", "0", "Address of the metrics endpoint, e.g. :8443 (HTTPS) or :8080 (HTTP); 0 disables it.")
	flag.StringVar(&probeAddr, "health-probe-bind-address", ":8081", "Address of the health and readiness probes.")
	flag.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader, so that only one replica acts on vendors.")
	flag.StringVar(&leaderElectionNS, "leader-election-namespace", os.Getenv("POD_NAMESPACE"),
		"Namespace of the leader election Lease; empty means the pod's own (only known in-cluster).")
	flag.BoolVar(&secureMetrics, "metrics-secure", true, "Serve metrics over HTTPS, authenticated and authorized by the API server.")
	flag.BoolVar(&enableHTTP2, "enable-http2", false,
		"Let the metrics server speak HTTP/2. Off by default because of the HTTP/2 Stream Cancellation and Rapid Reset CVEs.")
	opts := zap.Options{}
	opts.BindFlags(flag.CommandLine)
	flag.Parse()
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&opts)))
	log := ctrl.Log.WithName("setup")

	metrics := metricsOptions(metricsAddr, secureMetrics, enableHTTP2)
	if err := run(metrics, probeAddr, leaderElectionNS, leaderElect); err != nil {
		log.Error(err, "manager exited")
		os.Exit(1)
	}
}

// metricsOptions configures the metrics server: served on addr ("0"
// disables it), over HTTPS with the API server authenticating and
// authorizing each scrape if secure, and over HTTP/1.1 only unless
// enableHTTP2, as kubebuilder scaffolds it: HTTP/2 exposes the server to the
// Stream Cancellation and Rapid Reset CVEs (GHSA-qppj-fm5r-hxr3,
// GHSA-4374-p667-p6c8) and a scraper does not need it.
func metricsOptions(addr string, secure, enableHTTP2 bool) metricsserver.Options {
	metrics := metricsserver.Options{BindAddress: addr, SecureServing: secure}
	if secure {
		metrics.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	if !enableHTTP2 {
		metrics.TLSOpts = append(metrics.TLSOpts, disableHTTP2)
	}
	return metrics
}

// disableHTTP2 makes a TLS server offer only HTTP/1.1 in ALPN.
func disableHTTP2(c *tls.Config) {
	c.NextProtos = []string{"http/1.1"}
}

func run(metrics metricsserver.Options, probeAddr, leaderElectionNS string, leaderElect bool) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))

	mgr, err := ctrl.NewManager(ctrl.GetConfigOrDie(), ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metrics,
		HealthProbeBindAddress:  probeAddr,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "verification-operator.ordersync.dev",
		LeaderElectionNamespace: leaderElectionNS,
	})
	if err != nil {
		return err
	}
	ctx := ctrl.SetupSignalHandler()
	if err := controllers.Setup(ctx, mgr, controllers.Options{Registry: registry.Default()}); err != nil {
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
