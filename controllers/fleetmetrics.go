package controllers

import (
	"context"
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Fleet gauges, computed at scrape time from the informer cache, so they
// can never drift from the objects. Labels are closed sets (vendor names,
// state words, condition reasons): never a name, a namespace or an id.
var (
	ordersDesc = prometheus.NewDesc("verification_operator_orders",
		"VerificationOrders by vendor, observed state and Ready reason.", []string{labelVendor, "state", "reason"}, nil)
	stalledDesc = prometheus.NewDesc("verification_operator_orders_stalled",
		"VerificationOrders whose Stalled condition is True, by vendor and reason.", []string{labelVendor, "reason"}, nil)
	providersDesc = prometheus.NewDesc("verification_operator_provider_ready",
		"VerificationProviders by vendor and whether they are Ready.", []string{labelVendor, "ready"}, nil)
)

// fleetCollector reports the gauges above.
type fleetCollector struct {
	reader client.Reader
	log    func(error)
}

func (c fleetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- ordersDesc
	ch <- stalledDesc
	ch <- providersDesc
}

func (c fleetCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var providers v1.VerificationProviderList
	var orders v1.VerificationOrderList
	if err := c.reader.List(ctx, &providers); err != nil {
		c.log(err)
		return
	}
	if err := c.reader.List(ctx, &orders); err != nil {
		c.log(err)
		return
	}
	vendorOf := map[[2]string]string{}
	ready := map[[2]string]float64{}
	for _, p := range providers.Items {
		vendorOf[[2]string{p.Namespace, p.Name}] = string(p.Spec.Vendor)
		ready[[2]string{string(p.Spec.Vendor), boolWord(meta.IsStatusConditionTrue(p.Status.Conditions, v1.ConditionReady))}]++
	}
	byState := map[[3]string]float64{}
	stalled := map[[2]string]float64{}
	for _, o := range orders.Items {
		vendor := vendorOf[[2]string{o.Namespace, o.Spec.ProviderRef.Name}]
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

func boolWord(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// registerFleetMetrics adds the fleet gauges to the manager's registry.
func registerFleetMetrics(mgr ctrl.Manager, registry prometheus.Registerer) error {
	log := mgr.GetLogger().WithName("fleet-metrics")
	c := fleetCollector{reader: mgr.GetCache(), log: func(err error) { log.Error(err, "listing for fleet metrics") }}
	err := registry.Register(c)
	var again prometheus.AlreadyRegisteredError
	if errors.As(err, &again) { // a second manager in one process: the newest reports
		registry.Unregister(again.ExistingCollector)
		return registry.Register(c)
	}
	return err
}
