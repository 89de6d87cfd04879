package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/go-logr/logr"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/registry"
)

type options struct {
	Dir          string
	PollInterval time.Duration
	RepoRoot     string
}

// stalledRecheck is shorter than the operator's default (10m) so that a
// Stalled order fixed from outside (e.g. at a simulator) heals while someone
// is still looking at it.
const stalledRecheck = 30 * time.Second

// run starts everything, waits for ctx to end, and stops everything in
// reverse order: operator, simulators, then kube-apiserver and etcd.
func run(ctx context.Context, opts options) error {
	log := ctrl.Log.WithName("sandbox")
	if opts.PollInterval < time.Second {
		return fmt.Errorf("--poll-interval must be at least 1s (the API rejects shorter), got %s", opts.PollInterval)
	}
	// envtest runs the binaries by absolute path only.
	root, err := filepath.Abs(opts.RepoRoot)
	if err != nil {
		return err
	}
	opts.RepoRoot = root
	if err := checkRepoRoot(root); err != nil {
		return err
	}
	kubeconfigPath, envPath := filepath.Join(opts.Dir, "kubeconfig"), filepath.Join(opts.Dir, "env.json")
	// A stale env.json would tell a waiting script that a dead sandbox is up.
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return err
	}
	if err := removeIfExists(envPath); err != nil {
		return err
	}

	assets, err := controlPlaneAssets(ctx, opts.RepoRoot)
	if err != nil {
		return err
	}
	log.Info("starting etcd and kube-apiserver", "binaries", assets)
	started := time.Now()
	cp, err := startControlPlane(opts.RepoRoot, assets)
	if err != nil {
		return err
	}
	defer func() {
		if err := cp.Stop(); err != nil {
			log.Error(err, "stop the control plane")
			return
		}
		log.Info("stopped")
	}()
	defer func() { _ = removeIfExists(kubeconfigPath) }()
	if err := writeFileAtomic(kubeconfigPath, cp.Kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", kubeconfigPath, err)
	}
	if ctx.Err() != nil {
		return nil // interrupted while the control plane started
	}
	vendors, err := startVendors(opts.PollInterval)
	if err != nil {
		return err
	}
	defer stopVendors(vendors)

	receiver, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	stopOperator, err := startOperator(ctx, cp, receiver, log)
	if err != nil {
		return err
	}
	defer stopOperator()
	pushTo(vendors, receiver)

	s, err := populate(ctx, cp, vendors, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	s.APIServer, s.Kubeconfig, s.EnvFile, s.Receiver = cp.URL(), kubeconfigPath, envPath, "https://"+receiver

	defer func() { _ = removeIfExists(envPath) }()
	if err := writeJSON(envPath, newEnvFile(kubeconfigPath, s.Receiver, vendors)); err != nil {
		return fmt.Errorf("write %s: %w", envPath, err)
	}
	log.Info("ready", "after", time.Since(started).Round(100*time.Millisecond).String())
	s.print(os.Stdout)

	<-ctx.Done()
	log.Info("shutting down: operator, simulators, kube-apiserver and etcd")
	return nil
}

// startOperator runs the operator, wired exactly as cmd/manager wires it,
// on a manager of its own. The returned function stops it and waits.
func startOperator(ctx context.Context, cp *controlPlane, webhookAddr string, log logr.Logger) (func(), error) {
	mgr, err := ctrl.NewManager(cp.Config, ctrl.Options{
		Scheme:                 newScheme(),
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		Cache:                  cache.Options{DefaultTransform: controllers.TrimForCache},
	})
	if err != nil {
		return nil, err
	}
	// The manager gets a context of its own so that it stops before the
	// simulators and the API server it talks to, not at the same moment.
	mgrCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if err := controllers.Setup(mgrCtx, mgr, controllers.Options{Registry: registry.Default(), StalledRecheck: stalledRecheck,
		ClusterProviders: true, OperatorNamespace: metav1.NamespaceDefault, WebhookAddr: webhookAddr}); err != nil {
		cancel()
		return nil, err
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(mgrCtx) }()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			ctrl.Log.Error(err, "operator stopped with an error")
		}
	}
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		stop()
		if ctx.Err() != nil {
			return func() {}, nil
		}
		return nil, errors.New("the operator's cache did not sync")
	}
	log.Info("operator started")
	return stop, nil
}

// populate creates the providers, seeds the vendors and applies the samples
// and a few more orders, all in namespace sandbox.
func populate(ctx context.Context, cp *controlPlane, vendors []*fixture.Account, opts options) (summary, error) {
	c, err := client.New(cp.Config, client.Options{Scheme: newScheme()})
	if err != nil {
		return summary{}, err
	}
	if err := createProviders(ctx, c, vendors); err != nil {
		return summary{}, err
	}
	if err := waitProvidersReady(ctx, c, vendors); err != nil {
		return summary{}, err
	}
	samples, err := applySamples(ctx, c, samplesDir(opts.RepoRoot), vendors)
	if err != nil {
		return summary{}, err
	}
	extra, err := createExtraOrders(ctx, c, vendors)
	if err != nil {
		return summary{}, err
	}
	return summary{Vendors: vendors, Samples: samples, Extra: extra, PollInterval: opts.PollInterval.String()}, nil
}

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(v1.AddToScheme(s))
	return s
}

// checkRepoRoot fails early, before any process starts, when the sandbox
// does not run from the repo root.
func checkRepoRoot(root string) error {
	for _, dir := range []string{crdDir(root), samplesDir(root)} {
		if _, err := os.Stat(dir); err != nil {
			return fmt.Errorf("%s not found: run from the repo root (`make sandbox` does) or pass --repo-root", dir)
		}
	}
	return nil
}

func crdDir(root string) string     { return filepath.Join(root, "config", "crd", "bases") }
func samplesDir(root string) string { return filepath.Join(root, "config", "samples") }

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}
