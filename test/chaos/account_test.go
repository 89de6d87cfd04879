package chaos

import (
	"context"
	"net/http/httptest"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
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
	server *httptest.Server
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
// The faults start at once.
func newAccount(ctx context.Context, w *wire, ns, name, vendor string, faults simkit.Faults, tune ...func(*v1.VerificationProviderSpec)) *account {
	GinkgoHelper()
	entry := simulators.Get(vendor)
	v, err := registry.Default().Get(vendor)
	Expect(err).NotTo(HaveOccurred())
	a := &account{name: name, entry: entry, vendor: v, sim: entry.New(), faults: faults}
	_, ok := a.sim.(recorder)
	Expect(ok).To(BeTrue(), "the %s simulator keeps no timeline", vendor)
	a.server = httptest.NewServer(w.tap(name, a.sim))
	DeferCleanup(a.server.Close)
	a.sim.SetFaults(faults)

	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: entry.Credentials}
	Expect(k8s.Create(ctx, secret)).To(Succeed())
	p := &v1.VerificationProvider{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1.VerificationProviderSpec{
			Vendor: v1.Vendor(vendor), Environment: v1.EnvironmentSandbox,
			Endpoint:             a.server.URL + entry.APIRoot,
			CredentialsSecretRef: v1.SecretReference{Name: name},
			PollInterval:         &metav1.Duration{Duration: pollInterval},
		},
	}
	for _, t := range tune {
		t(&p.Spec)
	}
	Expect(k8s.Create(ctx, p)).To(Succeed())
	a.spec = p.Spec
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
