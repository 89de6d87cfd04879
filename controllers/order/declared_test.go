package order

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/connection"
)

// TestAStartWaitsForEveryProvidersLimits: after a start, an order makes no
// vendor call until every provider has declared its limits (another
// provider of its account may declare stricter ones); then it does, and
// it does not wait again.
func TestAStartWaitsForEveryProvidersLimits(t *testing.T) {
	e := newEnv(t)
	e.vendor.ObserveFn = answers("open")
	e.start()
	e.r.BudgetReports = connection.NewBudgetReports(e.r.Connector.Clients, []v1.ProviderKind{v1.KindVerificationProvider})

	exactly(time.Second).check(t, "before the provider declared its limits", e.reconcile("o"))
	if got := e.vendor.made(); got != "" {
		t.Fatalf("calls %q before every provider declared its limits", got)
	}
	e.r.Connector.Clients.Declare(e.provider, "acct", budget.Limits{RequestsPerSecond: 1000, Burst: 1000})
	jittered(connection.DefaultPollInterval).check(t, "once it has", e.reconcile("o"))
	if got := e.vendor.made(); got != "Observe o-1" {
		t.Fatalf("calls %q, want the order's read", got)
	}
	e.r.Connector.Clients.Forget(types.NamespacedName{Namespace: e.provider.Namespace, Name: e.provider.Name})
	e.clock.Step(time.Hour)
	jittered(connection.DefaultPollInterval).check(t, "later, with the provider gone from the declarations", e.reconcile("o"))
}
