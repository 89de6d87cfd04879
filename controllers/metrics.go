package controllers

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// labelVendor is the one label every operator metric has.
const labelVendor = "vendor"

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

func init() {
	metrics.Registry.MustRegister(vendorRequests, vendorRequestDuration)
}

// instrumented counts and times every request that reaches a vendor.
// Requests refused by the client-side rate limit never get here.
func instrumented(vendor string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	next = withUserAgent{next: next}
	labels := prometheus.Labels{labelVendor: vendor}
	return promhttp.InstrumentRoundTripperCounter(vendorRequests.MustCurryWith(labels),
		promhttp.InstrumentRoundTripperDuration(vendorRequestDuration.MustCurryWith(labels), next))
}
