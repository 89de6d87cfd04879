package metrics

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestPrunedOrdersAreCountedByProviderAndReason(t *testing.T) {
	namespaced := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "lending", Name: "truework"},
		Spec: v1.VerificationProviderSpec{Vendor: v1.VendorTruework}}
	cluster := &v1.ClusterVerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "shared"}}
	cluster.Spec.Vendor = v1.VendorTxCloud
	before := value(t, ordersPruned.WithLabelValues("truework", "lending/truework", "Watching"))
	CountPruned(namespaced, v1.ReasonWatching)
	CountPruned(namespaced, v1.ReasonWatching)
	CountPruned(cluster, v1.ReasonConverged)
	if got := value(t, ordersPruned.WithLabelValues("truework", "lending/truework", "Watching")); got != before+2 {
		t.Errorf("lending/truework Watching: %v, want %v", got, before+2)
	}
	if got := value(t, ordersPruned.WithLabelValues("txcloud", "/shared", "Converged")); got < 1 {
		t.Errorf("a cluster provider's prunes are labeled /shared: %v", got)
	}
}
