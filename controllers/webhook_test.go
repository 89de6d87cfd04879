package controllers_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/webhook"
	"github.com/ordersync/verification-operator/providers/truv"
)

var _ = Describe("Webhooks", func() {
	// pushing is a Truv account whose orders are polled hourly: only a
	// delivery can make the controller look again within a test.
	pushing := func() *vendorEnv {
		GinkgoHelper()
		env := startVendor("truv", nil)
		Eventually(func() error {
			p := fetchProvider(env.Provider)
			p.Spec.PollInterval = &metav1.Duration{Duration: time.Hour}
			p.Spec.Webhook = &v1.Webhook{}
			return k8s.Update(ctx(), p)
		}).Should(Succeed())
		Eventually(func() string {
			if w := fetchProvider(env.Provider).Status.Webhook; w != nil {
				return w.Path
			}
			return ""
		}).Should(Equal("/hooks/" + env.NS + "/truv"))
		return env
	}
	deliver := func(env *vendorEnv, body []byte, secret string) int {
		GinkgoHelper()
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		req, err := http.NewRequest(http.MethodPost, "https://"+webhookAddr+"/hooks/"+env.NS+"/truv", bytes.NewReader(body))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set(truv.SignHeader, "v1="+hex.EncodeToString(mac.Sum(nil)))
		httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the receiver's certificate is self-signed
		var resp *http.Response
		Eventually(func() (err error) { resp, err = httpc.Do(req.Clone(ctx())); return err }).Should(Succeed()) //nolint:bodyclose // closed below
		resp.Body.Close()
		return resp.StatusCode
	}
	statusHook := func(id, delivery string) []byte {
		return []byte(fmt.Sprintf(`{"webhook_id": %q, "event_type": "order-status-updated", "order_id": %q, "status": "completed"}`, delivery, id))
	}

	It("looks at an order at once when the vendor pushes a signed change, and ignores forged and replayed ones", func() {
		env := pushing()
		id := env.vendorOrder("sent")
		o := expectReady(env.order(id), v1.ReasonConverged)
		Expect(o.Status.VendorState).To(Equal("sent"))
		Expect(env.Sim.SetOrderState(id, "completed")).To(Succeed())
		reads := len(env.Sim.Calls(id))

		By("a forged delivery")
		Expect(deliver(env, statusHook(id, "d-1"), "not-the-access-secret")).To(Equal(http.StatusUnauthorized))
		Expect(fetch(o).Annotations).NotTo(HaveKey(webhook.RefreshAnnotation))
		Expect(env.Sim.Calls(id)).To(HaveLen(reads), "a forged delivery made the controller call the vendor")
		Eventually(func() string {
			return fetchProvider(env.Provider).Status.Webhook.LastRefusal
		}).Should(ContainSubstring("forged"))

		By("the vendor's own delivery")
		start := time.Now()
		Expect(deliver(env, statusHook(id, "d-1"), env.Credentials[truv.KeyAccessSecret])).To(Equal(http.StatusAccepted))
		Eventually(func() string { return fetch(o).Status.VendorState }).Should(Equal("completed"))
		AddReportEntry("push to Ready", time.Since(start).String())
		Eventually(func() *metav1.Time { return fetchProvider(env.Provider).Status.Webhook.LastDeliveryTime }).ShouldNot(BeNil())

		By("the same delivery again")
		stamp := fetch(o).Annotations[webhook.RefreshAnnotation]
		Expect(deliver(env, statusHook(id, "d-1"), env.Credentials[truv.KeyAccessSecret])).To(Equal(http.StatusOK))
		Expect(fetch(o).Annotations[webhook.RefreshAnnotation]).To(Equal(stamp), "a replay refreshed the order")
	})

	It("polls less often while the vendor pushes", func() {
		env := pushing()
		o := expectReady(env.order(env.vendorOrder("sent")), v1.ReasonConverged)
		Expect(deliver(env, statusHook(o.Spec.OrderID, "d-poll"), env.Credentials[truv.KeyAccessSecret])).To(Equal(http.StatusAccepted))
		Eventually(func() *metav1.Time { return fetchProvider(env.Provider).Status.Webhook.LastDeliveryTime }).ShouldNot(BeNil())
		Eventually(func() error {
			p := fetchProvider(env.Provider)
			p.Spec.PollInterval = &metav1.Duration{Duration: 2 * time.Second}
			p.Spec.Webhook.PollInterval = &metav1.Duration{Duration: 30 * time.Minute}
			return k8s.Update(ctx(), p)
		}).Should(Succeed())
		Eventually(func() time.Duration { return reconcileAgain(o).RequeueAfter }).Should(BeNumerically(">", 20*time.Minute),
			"a pushing vendor's orders are polled at webhook.pollInterval, not every 2s")
	})
})
