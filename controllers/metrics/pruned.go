package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// ordersPruned counts the orders retention deleted (controllers/retention).
// The provider label is "namespace/name" ("/name" for a cluster
// provider), as the budget gauges have it; the reason is the order's last
// Ready reason (Converged, Watching, AlreadyTerminal), a closed set: never
// an order's name, namespace or id.
var ordersPruned = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "verification_operator_orders_pruned_total",
	Help: "VerificationOrders deleted ttlSecondsAfterFinished after they finished, by vendor, provider and the order's last Ready reason.",
}, []string{labelVendor, labelProvider, labelReason})

// CountPruned counts one order of provider p deleted by retention, whose
// Ready reason was reason.
func CountPruned(p v1.Provider, reason v1.Reason) {
	ordersPruned.WithLabelValues(string(p.ProviderSpec().Vendor), ProviderLabel(p), string(reason)).Inc()
}

// ProviderLabel is p's provider label: "namespace/name", "/name" when
// cluster-scoped.
func ProviderLabel(p v1.Provider) string { return p.GetNamespace() + "/" + p.GetName() }
