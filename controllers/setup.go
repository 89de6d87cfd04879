package controllers

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/uuid"
	coordinationclient "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/utils/clock"
	ctrl "sigs.k8s.io/controller-runtime"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/metrics"
	"github.com/ordersync/verification-operator/controllers/order"
	"github.com/ordersync/verification-operator/controllers/provider"
	"github.com/ordersync/verification-operator/controllers/retention"
	"github.com/ordersync/verification-operator/controllers/shard"
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers"
)

// Options configure the reconcilers.
type Options struct {
	Registry providers.Registry
	// Transport is the base HTTP transport to vendors; nil means the default.
	Transport http.RoundTripper
	// Clock is the one clock the reconcilers and the budgets read; nil
	// means the real one.
	Clock clock.WithTicker
	// StalledRecheck: see order.Reconciler.
	StalledRecheck time.Duration
	// Workers is how many orders are reconciled at once; zero means 8.
	// Vendor calls stay within each provider's rate limit however many.
	Workers int
	// RepeatBackoff: see order.Reconciler.
	RepeatBackoff time.Duration
	// TraceReconcile: see order.Reconciler.Trace.
	TraceReconcile func(types.NamespacedName) (done func(ctrl.Result))
	// OperatorNamespace: see connection.Connector.
	OperatorNamespace string
	// ClusterProviders serves ClusterVerificationProviders; it needs
	// cluster-wide read of them and of Namespaces.
	ClusterProviders bool
	// WebhookAddr is the webhook receiver's listen address; empty or "0"
	// turns it off. WebhookCertDir: see webhook.Server.
	WebhookAddr, WebhookCertDir string
	// WebhookAPIQPS and WebhookAPIBurst are the receiver's own rate limit
	// of API requests (webhook.NewWriter); zero means its defaults.
	WebhookAPIQPS   float32
	WebhookAPIBurst int
	// Shard is what this instance serves (--watch-label-selector); the
	// zero value serves everything. A sharded instance holds a Lease per
	// vendor account it spends, in OperatorNamespace (controllers/shard).
	// The manager's cache must be confined to the shard's orders
	// (Shard.CacheOptions).
	Shard shard.Shard
	// Identity names this process in the account Leases (the pod's name),
	// followed by a random suffix; empty means the host name. LeaseNamespace holds them; empty
	// means OperatorNamespace.
	Identity, LeaseNamespace string
}

// providerKinds are the provider kinds served.
func (opts Options) providerKinds() []v1.ProviderKind {
	if opts.ClusterProviders {
		return []v1.ProviderKind{v1.KindVerificationProvider, v1.KindClusterVerificationProvider}
	}
	return []v1.ProviderKind{v1.KindVerificationProvider}
}

// Setup registers the indexes, the metrics, the reconcilers and the
// webhook receiver with mgr. The manager, the sandbox and the test suites
// all use it, so every entry point runs the same wiring.
func Setup(ctx context.Context, mgr ctrl.Manager, opts Options) error {
	kinds := opts.providerKinds()
	if err := index.Setup(ctx, mgr.GetFieldIndexer(), kinds, opts.OperatorNamespace); err != nil {
		return err
	}
	claims, err := index.SetupClaims(ctx, mgr.GetCache(), mgr.GetFieldIndexer(), mgr.GetClient())
	if err != nil {
		return err
	}
	clients := &connection.ClientCache{Transport: opts.Transport, Instrument: metrics.Instrument,
		Budgets: budget.Registry{Clock: opts.Clock}}
	if err := metrics.Register(crmetrics.Registry, mgr, clients, opts.ClusterProviders); err != nil {
		return err
	}
	reports := connection.NewBudgetReports(clients, kinds)
	recorder := mgr.GetEventRecorder("verification-operator")
	for _, kind := range kinds {
		if err := (&provider.Reconciler{
			// With shards, another shard's providers read as gone.
			Client: shard.ServedOnly(mgr.GetClient(), opts.Shard), APIReader: mgr.GetAPIReader(), Registry: opts.Registry, Clients: clients,
			Kind: kind, OperatorNamespace: opts.OperatorNamespace, Recorder: recorder, BudgetReports: reports, Shard: shardName(opts.Shard),
		}).SetupWithManager(mgr); err != nil {
			return err
		}
	}
	connector := &connection.Connector{Cached: mgr.GetClient(), Live: mgr.GetAPIReader(), Registry: opts.Registry,
		Clients: clients, OperatorNamespace: opts.OperatorNamespace, ClusterProviders: opts.ClusterProviders}
	router, err := setupShard(mgr, opts, kinds, clients, reports, connector)
	if err != nil {
		return err
	}
	if err := addWebhookReceiver(ctx, mgr, opts, connector); err != nil {
		return err
	}
	if err := (&retention.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: recorder,
		Clock: clients.Budgets.Time(), ClusterProviders: opts.ClusterProviders}).SetupWithManager(mgr); err != nil {
		return err
	}
	return (&order.Reconciler{
		// With shards, another shard's providers read as gone: they are none
		// of this shard's orders' concern (their limits among them).
		Client: shard.ServedOnly(mgr.GetClient(), opts.Shard), Connector: connector, Recorder: recorder, BudgetReports: reports,
		StalledRecheck: opts.StalledRecheck, RepeatBackoff: opts.RepeatBackoff, Trace: opts.TraceReconcile, Router: router,
		Claims: claims,
	}).SetupWithManager(mgr, cmp.Or(opts.Workers, 8))
}

// shardName is the shard's name in status.shard; empty when the operator
// is not sharded.
func shardName(sh shard.Shard) string {
	if sh.Selector == nil || !sh.Sharded() {
		return ""
	}
	return sh.Name
}

// addWebhookReceiver serves the vendors' deliveries, when asked to.
func addWebhookReceiver(ctx context.Context, mgr ctrl.Manager, opts Options, connector *connection.Connector) error {
	if opts.WebhookAddr == "" || opts.WebhookAddr == "0" {
		return nil
	}
	// Reads come from the manager's cache; writes go through a client of
	// their own, so that a flood of deliveries cannot slow reconciles.
	writer, err := webhook.NewWriter(mgr.GetConfig(), mgr.GetScheme(), mgr.GetRESTMapper(), opts.WebhookAPIQPS, opts.WebhookAPIBurst)
	if err != nil {
		return err
	}
	orders, err := index.SetupVendorIDs(ctx, mgr.GetCache(), mgr.GetFieldIndexer(), mgr.GetClient())
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	(&webhook.Receiver{Client: mgr.GetClient(), Orders: orders, Writer: writer, Registry: opts.Registry, Credentials: connector.Credentials,
		Replays: webhook.NewReplays(), ClusterProviders: opts.ClusterProviders}).Register(mux)
	return mgr.Add(&webhook.Server{Addr: opts.WebhookAddr, CertDir: opts.WebhookCertDir, Handler: mux})
}

// setupShard routes orders to their provider's shard and, in a sharded
// instance, has the connector spend only the vendor accounts whose Lease
// this instance holds.
func setupShard(mgr ctrl.Manager, opts Options, kinds []v1.ProviderKind, clients *connection.ClientCache, reports *connection.BudgetReports,
	connector *connection.Connector) (*shard.Router, error) {
	sh := opts.Shard
	if sh.Selector == nil {
		sh = shard.Unsharded()
	}
	if !sh.Sharded() {
		return nil, nil // the only instance: no order to route, no one to share an account with
	}
	if cmp.Or(opts.LeaseNamespace, opts.OperatorNamespace) == "" {
		return nil, errors.New("a sharded instance needs a namespace for its vendor accounts' Leases (LeaseNamespace or OperatorNamespace)")
	}
	leases, err := coordinationclient.NewForConfig(mgr.GetConfig())
	if err != nil {
		return nil, err
	}
	// Unique per process: a container restarted in the same pod is another
	// holder, whose budget starts afresh.
	identity := opts.Identity
	if identity == "" {
		identity, _ = os.Hostname()
	}
	identity += "_" + string(uuid.NewUUID())
	accounts := &shard.Accounts{Leases: leases, Namespace: cmp.Or(opts.LeaseNamespace, opts.OperatorNamespace), Shard: sh, Identity: identity,
		Providers: mgr.GetClient(), Clients: clients, Clock: opts.Clock}
	if err := shard.RegisterMetrics(crmetrics.Registry, accounts, mgr.GetClient(), kinds); err != nil {
		return nil, err
	}
	connector.Claim = accounts.Claim
	clients.Gate = accounts.Sending
	// The router runs on its own for orders as they come and providers as
	// they move, and first in every order reconcile, so that no shard
	// reconciles an order another shard serves.
	router := &shard.Router{Client: mgr.GetClient(), Shard: sh, Moved: accounts.Nudge, Relabeled: reports.Refresh}
	if err := router.SetupWithManager(mgr, kinds); err != nil {
		return nil, err
	}
	return router, mgr.Add(accounts)
}
