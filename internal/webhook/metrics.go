package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Delivery results, the values of the result label.
const (
	resultAccepted    = "accepted"    // authentic, and it named orders we manage
	resultUnknown     = "unknown"     // no such provider, or no order it names
	resultForged      = "forged"      // token or signature missing or wrong
	resultReplayed    = "replayed"    // seen before, or older than ReplayWindow
	resultOversized   = "oversized"   // over MaxBody
	resultInvalid     = "invalid"     // authentic but unreadable
	resultUnavailable = "unavailable" // we could not check it now; the vendor retries
	resultBusy        = "busy"        // over the cap of deliveries in flight; the vendor retries
)

var deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "verification_operator_webhook_deliveries_total",
	Help: "Webhook deliveries received, by vendor and result (accepted, unknown, forged, replayed, oversized, invalid, unavailable, busy).",
}, []string{"vendor", "result"})

func init() { metrics.Registry.MustRegister(deliveries) }

func count(vendor, result string) {
	if vendor == "" {
		vendor = "unknown"
	}
	deliveries.WithLabelValues(vendor, result).Inc()
}
