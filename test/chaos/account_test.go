package chaos

import (
	"context"
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// pollInterval is every chaos provider's spec.pollInterval: short enough
// that orders are polled, and their polls rate limited and faulted, several
// times within a run.
const pollInterval = 30 * time.Second

// account is one vendor account: a simulator of its own (its per-key limit
// is the account's limit), reached through the wire, with a Secret and a
// VerificationProvider pointing at it.
type account struct {
	name   string // of the provider and its Secret
	entry  simulators.Simulated
	vendor providers.Vendor
	sim    simulators.Sim
	faults simkit.Faults
	spec   v1.VerificationProviderSpec
}

// recorder is what every simulator has beyond simkit.Sim: the timeline.
type recorder interface {
	Timeline() []simkit.Event
}

// reverifier is the Truework simulator's record of reverifications.
type reverifier interface {
	RequestIDs(orderID string) []string
	ReportID(requestID string) string
	Reverifications(requestID string) []string
}

// newAccount starts vendor's simulator behind w and creates its Secret and
// provider in namespace ns; tune, if given, changes the provider's spec.
// The faults start at once. The provider does not check Truework's
// response signatures: the runs of docs/reliability.md were made without.
func newAccount(ctx context.Context, w *wire, ns, name, vendor string, faults simkit.Faults, tune ...func(*v1.VerificationProviderSpec)) *account {
	GinkgoHelper()
	v, err := registry.Default().Get(vendor)
	Expect(err).NotTo(HaveOccurred())
	fx, err := fixture.Start(vendor, fixture.Namespace(ns), fixture.ProviderName(name), fixture.SecretName(name),
		fixture.PollInterval(pollInterval), fixture.WithoutSigningKeys(), fixture.Spec(tune...),
		fixture.Behind(func(sim http.Handler) http.Handler { return w.tap(name, sim) }))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(fx.Close)
	a := &account{name: name, entry: fx.Simulated, vendor: v, sim: fx.Sim, faults: faults}
	_, ok := a.sim.(recorder)
	Expect(ok).To(BeTrue(), "the %s simulator keeps no timeline", vendor)
	a.sim.SetFaults(faults)
	Expect(fx.Create(ctx, k8s)).To(Succeed())
	a.spec = fx.Provider.Spec // as the API server defaulted it
	return a
}

// timeline is every vendor API call the account's simulator saw.
func (a *account) timeline() []simkit.Event { return a.sim.(recorder).Timeline() }

// limits is the account's budget as the provider states it: its
// spec.rateLimit (burst defaulting to the rate), else the vendor's
// published limit, as controllers.Limits reads it.
func (a *account) limits() providers.RateLimit {
	rl := a.spec.RateLimit
	if rl == nil {
		return a.vendor.RateLimit
	}
	burst := int(rl.Burst)
	if burst == 0 {
		burst = int(rl.RequestsPerSecond)
	}
	return providers.RateLimit{RequestsPerSecond: float64(rl.RequestsPerSecond), Burst: burst}
}

// orderOfPath names the order a vendor API path is about: the order id in
// it, or the order holding the Truework request id in it; "" for a call on
// no order (Truework's list of requests).
func (a *account) orderOfPath(path string, known map[string]bool) string {
	for _, seg := range strings.Split(path, "/") {
		if seg == "" {
			continue
		}
		if id := a.sim.OrderOf(seg); known[id] {
			return id
		}
	}
	return ""
}
