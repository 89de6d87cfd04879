// Package metrics holds the operator's Prometheus metrics: the vendor
// calls, the orders retention pruned, and the fleet gauges computed from
// the informer cache at scrape time. Nothing is registered until Register
// is called, so a program that only imports a package of ours (the
// kubectl plugin) registers nothing.
package metrics

import (
	"errors"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ordersync/verification-operator/controllers/connection"
)

// The labels operator metrics share: every one has labelVendor.
const (
	labelVendor   = "vendor"
	labelProvider = "provider"
	labelReason   = "reason"
)

// Vendor call metrics. Labels are the vendor's name, the HTTP method and
// status code only: never an order id, a namespace or anything from a
// response, so no label can carry PII or grow without bound.
var (
	vendorRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "verification_operator_vendor_requests_total",
		Help: "HTTP requests sent to vendor APIs, by vendor, method and status code.",
	}, []string{labelVendor, "method", "code"})
	vendorRequestDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "verification_operator_vendor_request_duration_seconds",
		Help:    "Latency of HTTP requests to vendor APIs, by vendor and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{labelVendor, "method"})
)

// Instrument counts and times every request that reaches a vendor for
// provider ("namespace/name"), and counts those that get no answer.
// Requests refused by the client-side rate limit never get here.
func Instrument(vendor, provider string, next http.RoundTripper) http.RoundTripper {
	labels := prometheus.Labels{labelVendor: vendor}
	next = countUnanswered{next: next, counter: vendorUnanswered.MustCurryWith(prometheus.Labels{labelVendor: vendor, labelProvider: provider})}
	return promhttp.InstrumentRoundTripperCounter(vendorRequests.MustCurryWith(labels),
		promhttp.InstrumentRoundTripperDuration(vendorRequestDuration.MustCurryWith(labels), next))
}

// Register adds the operator's metrics to registry: the vendor call
// counters, the count of orders pruned, and the fleet gauges read from
// mgr's cache. A second manager in one process (the test suites) reports
// its own fleet; the counters are shared.
func Register(registry prometheus.Registerer, mgr ctrl.Manager, clients *connection.ClientCache, clusterProviders bool) error {
	for _, c := range []prometheus.Collector{vendorRequests, vendorRequestDuration, vendorUnanswered, ordersPruned} {
		if err := registry.Register(c); err != nil && !alreadyThis(err, c) {
			return err
		}
	}
	log := mgr.GetLogger().WithName("fleet-metrics")
	fleet := fleetCollector{cache: mgr.GetCache(), clients: clients, clusterProviders: clusterProviders,
		log: func(err error) { log.Error(err, "listing for fleet metrics") }}
	err := registry.Register(fleet)
	var again prometheus.AlreadyRegisteredError
	if errors.As(err, &again) { // a second manager in one process: the newest reports
		registry.Unregister(again.ExistingCollector)
		return registry.Register(fleet)
	}
	return err
}

// alreadyThis: err says c itself is registered already.
func alreadyThis(err error, c prometheus.Collector) bool {
	var again prometheus.AlreadyRegisteredError
	return errors.As(err, &again) && again.ExistingCollector == c
}
