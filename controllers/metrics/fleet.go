package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
)

// Fleet gauges, computed at scrape time from the informer cache, so they
// can never drift from the objects. Labels are closed sets (vendor names,
// state words, condition reasons): never a name, a namespace or an id.
var (
	ordersDesc = prometheus.NewDesc("verification_operator_orders",
		"VerificationOrders by vendor, observed state and Ready reason.", []string{labelVendor, "state", labelReason}, nil)
	stalledDesc = prometheus.NewDesc("verification_operator_orders_stalled",
		"VerificationOrders whose Stalled condition is True, by vendor and reason.", []string{labelVendor, labelReason}, nil)
	providersDesc = prometheus.NewDesc("verification_operator_provider_ready",
		"VerificationProviders by vendor and whether they are Ready.", []string{labelVendor, "ready"}, nil)
)

// Budget gauges, one series per provider ("namespace/name"): providers are
// few and named by the platform team, and a person acting on an alert needs
// to know which one. Providers sharing a vendor account report the same
// account's budget.
var (
	labelsProvider  = []string{labelVendor, labelProvider}
	budgetQueueDesc = prometheus.NewDesc("verification_operator_budget_queue_depth",
		"Vendor calls reserved and waiting for a token of the provider's account budget.", labelsProvider, nil)
	budgetWaitDesc = prometheus.NewDesc("verification_operator_budget_wait_seconds",
		"How far ahead the provider's account budget is booked; 0 when a call could go now.", labelsProvider, nil)
	budgetPausedDesc = prometheus.NewDesc("verification_operator_budget_paused",
		"1 while the vendor's 429 or Retry-After pauses the provider's account budget.", labelsProvider, nil)
	pollsStretchedDesc = prometheus.NewDesc("verification_operator_polls_stretched",
		"1 when the provider's orders are polled less often than its pollInterval, to keep polls within their budget share.", labelsProvider, nil)
)

// fleetCollector reports the gauges above.
type fleetCollector struct {
	cache            cache.Cache
	clients          *connection.ClientCache
	clusterProviders bool
	log              func(error)
}

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ordersDesc
	ch <- stalledDesc
	ch <- providersDesc
	for _, d := range []*prometheus.Desc{budgetQueueDesc, budgetWaitDesc, budgetPausedDesc, pollsStretchedDesc} {
		ch <- d
	}
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	all, err := c.providers(ctx)
	if err != nil {
		c.log(err)
		return
	}
	orders, err := c.orders(ctx)
	if err != nil {
		c.log(err)
		return
	}
	// vendorOf is keyed by the provider's namespace (empty when cluster-scoped) and refIndexValue.
	vendorOf := map[[2]string]string{}
	ready := map[[2]string]float64{}
	for _, p := range all {
		spec, status := p.ProviderSpec(), p.ProviderStatus()
		vendorOf[[2]string{p.GetNamespace(), index.ProviderRef(connection.KindOf(p), p.GetName())}] = string(spec.Vendor)
		ready[[2]string{string(spec.Vendor), boolWord(meta.IsStatusConditionTrue(status.Conditions, v1.ConditionReady))}]++
		c.collectBudget(ch, p)
	}
	byState := map[[3]string]float64{}
	stalled := map[[2]string]float64{}
	for _, o := range orders {
		ref := o.Spec.ProviderRef
		ns := o.Namespace
		if ref.Cluster() {
			ns = ""
		}
		vendor := vendorOf[[2]string{ns, index.ProviderRef(ref.Kind, ref.Name)}]
		if vendor == "" {
			vendor = "unknown" // the provider is missing
		}
		reason := ""
		if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c != nil {
			reason = c.Reason
		}
		byState[[3]string{vendor, string(o.Status.State), reason}]++
		if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled); c != nil && c.Status == "True" {
			stalled[[2]string{vendor, c.Reason}]++
		}
	}
	for k, n := range byState {
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, n, k[0], k[1], k[2])
	}
	for k, n := range stalled {
		ch <- prometheus.MustNewConstMetric(stalledDesc, prometheus.GaugeValue, n, k[0], k[1])
	}
	for k, n := range ready {
		ch <- prometheus.MustNewConstMetric(providersDesc, prometheus.GaugeValue, n, k[0], k[1])
	}
}

// orders are the cache's own orders, not copies: a scrape only reads them,
// and copying every order held at each scrape was most of what an idle
// manager allocated (a deep copy each: about 11 MiB per scrape at 10,000
// orders; a List without deep copies still copies each order's struct,
// about 6 MiB: the heap's growth between scrapes 5 s apart in make bench's
// memory scenario).
func (c fleetCollector) orders(ctx context.Context) ([]*v1.VerificationOrder, error) {
	shared, ok, err := index.OrdersInformer(ctx, c.cache)
	switch {
	case err != nil:
		return nil, err
	case !ok:
		return c.listOrders(ctx) // still without deep copies
	}
	held := shared.GetStore().List()
	orders := make([]*v1.VerificationOrder, 0, len(held))
	for _, obj := range held {
		if o, ok := obj.(*v1.VerificationOrder); ok {
			orders = append(orders, o)
		}
	}
	return orders, nil
}

// providers lists the providers of both kinds served.
func (c fleetCollector) providers(ctx context.Context) ([]v1.Provider, error) {
	var namespaced v1.VerificationProviderList
	if err := c.cache.List(ctx, &namespaced); err != nil {
		return nil, err
	}
	all := make([]v1.Provider, 0, len(namespaced.Items))
	for i := range namespaced.Items {
		all = append(all, &namespaced.Items[i])
	}
	if !c.clusterProviders {
		return all, nil
	}
	var cluster v1.ClusterVerificationProviderList
	if err := c.cache.List(ctx, &cluster); err != nil {
		return nil, err
	}
	for i := range cluster.Items {
		all = append(all, &cluster.Items[i])
	}
	return all, nil
}

// collectBudget reports p's account budget, once p has connected.
func (c fleetCollector) collectBudget(ch chan<- prometheus.Metric, p v1.Provider) {
	// A cluster provider reads as "/name".
	labels := []string{string(p.ProviderSpec().Vendor), ProviderLabel(p)}
	ch <- prometheus.MustNewConstMetric(pollsStretchedDesc, prometheus.GaugeValue, boolValue(connection.Stretched(p)), labels...)
	_, account, ok := c.clients.Last(p)
	if !ok {
		return
	}
	b, ok := c.clients.Budgets.Get(account)
	if !ok {
		return
	}
	load := b.Load()
	ch <- prometheus.MustNewConstMetric(budgetQueueDesc, prometheus.GaugeValue, float64(load.Queued), labels...)
	ch <- prometheus.MustNewConstMetric(budgetWaitDesc, prometheus.GaugeValue, load.Wait.Seconds(), labels...)
	ch <- prometheus.MustNewConstMetric(budgetPausedDesc, prometheus.GaugeValue, boolValue(load.Paused), labels...)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// listOrders lists the cache's orders without deep copies; each item is
// still a copy of the cache's struct.
func (c fleetCollector) listOrders(ctx context.Context) ([]*v1.VerificationOrder, error) {
	var list v1.VerificationOrderList
	if err := c.cache.List(ctx, &list, client.UnsafeDisableDeepCopy); err != nil {
		return nil, err
	}
	orders := make([]*v1.VerificationOrder, len(list.Items))
	for i := range list.Items {
		orders[i] = &list.Items[i]
	}
	return orders, nil
}
