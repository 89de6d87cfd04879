package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// quiet is how long a spec watches for calls that must not happen: longer
// than the sandbox's 2s poll interval, so a poll would have shown them.
const quiet = 4 * time.Second

var _ = Describe("make sandbox", Ordered, func() {
	It("applies config/samples/ with each sample reaching its documented outcome", func() {
		expectCondition("accountchek-close", v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
		expectCondition("truework-cancel", v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
		expectCondition("truv-observe-only", v1.ConditionReady, metav1.ConditionTrue, v1.ReasonObserveOnly)
		expectCondition("txcloud-paused", v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPaused)
		expectCondition("truework-closed-unsupported", v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonUnsupportedState)
		Eventually(func() string { return getOrder("truework-reverify").Status.OrderID }).ShouldNot(BeEmpty(),
			"the reverification should record the request it created")
	})

	for _, vendor := range simulators.All() {
		Context(vendor.Name, func() {
			It("follows an order that moves at the vendor", func() {
				id := sb.createVendorOrder(vendor.Name, vendor.Cancelable)
				name := applyOrder(vendor.Name, id, v1.DesiredActive)
				o := expectCondition(name, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
				Expect(o.Status.VendorState).To(Equal(vendor.Cancelable))

				moved := time.Now()
				sb.moveVendorOrder(vendor.Name, id, vendor.Completed)
				Eventually(func() string { return getOrder(name).Status.VendorState }).
					WithTimeout(15 * time.Second).Should(Equal(vendor.Completed))
				Expect(getOrder(name).Status.State).NotTo(BeEquivalentTo("active"))
				if vendor.WebhookSecret != "" {
					// The simulator pushed the change, and the push (not a
					// poll) made the operator look: only the receiver sets
					// the refresh annotation.
					AddReportEntry(vendor.Name+": vendor change to status", time.Since(moved).Round(time.Millisecond).String())
					Expect(getOrder(name).Annotations).To(HaveKey("verification.ordersync.dev/refresh"))
				}
			})

			It("cancels an order with exactly one mutating call", func() {
				id := sb.createVendorOrder(vendor.Name, vendor.Cancelable)
				name := applyOrder(vendor.Name, id, v1.DesiredCanceled)
				o := expectCondition(name, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
				Expect(o.Status.State).To(BeEquivalentTo("canceled"))
				Consistently(func() int { return sb.mutatingCalls(vendor, id) }, quiet).Should(Equal(1))
			})
		})
	}

	It("retries through injected faults and counts the calls in stats", func() {
		sb.setFaults("truv", `{"rate": 1, "statuses": [503], "retryAfterSeconds": 1}`)
		DeferCleanup(sb.setFaults, "truv", `{"rate": 0}`)
		id := sb.createVendorOrder("truv", "sent")
		name := applyOrder("truv", id, v1.DesiredActive)
		expectCondition(name, v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonVendorUnavailable)

		sb.setFaults("truv", `{"rate": 0}`)
		expectCondition(name, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
		Expect(sb.stats("truv")).To(ContainElement(SatisfyAll(
			HaveKeyWithValue("status", BeNumerically("==", 503)),
			HaveKeyWithValue("count", BeNumerically(">", 0)))))
	})

	It("stops cleanly on SIGTERM, leaving no process behind", func() {
		sb.stop()
	})

	It("starts again right away in the same directory", func() {
		sb = startSandbox(sb.dir)
		expectCondition("accountchek-close", v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)
		sb.stop()
	})
})

var orderCount int

// applyOrder creates a VerificationOrder over vendor order id in the
// sandbox namespace, as `kubectl apply` would, and returns its name.
func applyOrder(provider, id string, state v1.DesiredState) string {
	GinkgoHelper()
	orderCount++
	o := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("e2e-%s-%d", provider, orderCount), Namespace: sb.env.Namespace},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: provider}, OrderID: id, State: state},
	}
	Expect(sb.k8s.Create(ctx(), o)).To(Succeed())
	return o.Name
}

func getOrder(name string) *v1.VerificationOrder {
	GinkgoHelper()
	o := &v1.VerificationOrder{}
	Expect(sb.k8s.Get(ctx(), client.ObjectKey{Namespace: sb.env.Namespace, Name: name}, o)).To(Succeed())
	return o
}

// expectCondition waits until the named order has the condition, and
// returns the order as it was then.
func expectCondition(name, condition string, status metav1.ConditionStatus, reason v1.Reason) *v1.VerificationOrder {
	GinkgoHelper()
	var o *v1.VerificationOrder
	Eventually(func(g Gomega) {
		o = &v1.VerificationOrder{}
		g.Expect(sb.k8s.Get(ctx(), client.ObjectKey{Namespace: sb.env.Namespace, Name: name}, o)).To(Succeed())
		c := meta.FindStatusCondition(o.Status.Conditions, condition)
		g.Expect(c).NotTo(BeNil(), "%s has no %s condition; conditions: %+v", name, condition, o.Status.Conditions)
		g.Expect(c.Status).To(Equal(status), "%s %s: %s", name, condition, c.Message)
		g.Expect(c.Reason).To(BeEquivalentTo(reason), "%s %s: %s", name, condition, c.Message)
	}).Should(Succeed())
	return o
}

// The admin API, over HTTP as a person with curl would use it.

func (s *sandbox) createVendorOrder(vendor, state string) string {
	GinkgoHelper()
	var created struct {
		ID string `json:"id"`
	}
	s.admin(http.MethodPost, vendor, "/_sandbox/orders", fmt.Sprintf(`{"state": %q}`, state), http.StatusCreated, &created)
	Expect(created.ID).NotTo(BeEmpty())
	return created.ID
}

func (s *sandbox) moveVendorOrder(vendor, id, state string) {
	GinkgoHelper()
	s.admin(http.MethodPost, vendor, "/_sandbox/orders/"+id+"/state", fmt.Sprintf(`{"state": %q}`, state), http.StatusOK, nil)
}

// mutatingCalls counts the vendor's mutating calls on the order, as the
// admin API's call log shows them.
func (s *sandbox) mutatingCalls(vendor simulators.Simulated, id string) int {
	GinkgoHelper()
	var order struct {
		ID    string `json:"id"`
		State string `json:"state"`
		Calls []struct {
			Method string `json:"method"`
			Path   string `json:"path"`
			Status int    `json:"status"`
		} `json:"calls"`
	}
	s.admin(http.MethodGet, vendor.Name, "/_sandbox/orders/"+id, "", http.StatusOK, &order)
	n := 0
	for _, c := range order.Calls {
		if c.Method == vendor.MutatingMethod {
			n++
		}
	}
	return n
}

func (s *sandbox) setFaults(vendor, faults string) {
	GinkgoHelper()
	s.admin(http.MethodPut, vendor, "/_sandbox/faults", faults, http.StatusOK, nil)
}

func (s *sandbox) stats(vendor string) []map[string]any {
	GinkgoHelper()
	var stats struct {
		Calls []map[string]any `json:"calls"`
	}
	s.admin(http.MethodGet, vendor, "/_sandbox/stats", "", http.StatusOK, &stats)
	return stats.Calls
}

func (s *sandbox) admin(method, vendor, path, body string, wantStatus int, into any) {
	GinkgoHelper()
	req, err := http.NewRequest(method, s.env.Vendors[vendor].URL+path, bytes.NewBufferString(body))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	Expect(err).NotTo(HaveOccurred())
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.StatusCode).To(Equal(wantStatus), "%s %s: %s", method, path, data)
	if into != nil {
		Expect(json.Unmarshal(data, into)).To(Succeed(), "%s %s: %s", method, path, data)
	}
}
