package controllers_test

import (
	"maps"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/providers/simulators"
)

var _ = Describe("Providers sharing one vendor account", func() {
	// withWebhookSecret is the simulator's Truework credentials with a
	// webhook secret of the team's own, which names no account.
	withWebhookSecret := func(secret string) map[string]string {
		entry, ok := simulators.Lookup("truework")
		Expect(ok).To(BeTrue())
		credentials := maps.Clone(entry.Credentials)
		credentials[fixture.WebhookSecretKey] = secret
		return credentials
	}
	// copyIn makes, in a new namespace, a copy of env's Secret with
	// credentials, and of its provider with rateLimit.
	copyIn := func(env *vendorEnv, credentials map[string]string, rateLimit *v1.RateLimit) *v1.VerificationProvider {
		GinkgoHelper()
		ns := newNamespace("team-b")
		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: env.Secret.Name}, StringData: credentials}
		Expect(k8s.Create(ctx(), secret)).To(Succeed())
		p := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: env.Provider.Name}, Spec: *env.Provider.Spec.DeepCopy()}
		p.Spec.RateLimit = rateLimit
		Expect(k8s.Create(ctx(), p)).To(Succeed())
		return p
	}
	limitsApplied := func(p *v1.VerificationProvider) func(Gomega) *metav1.Condition {
		return func(g Gomega) *metav1.Condition {
			latest := fetchProvider(p)
			c := meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionLimitsApplied)
			g.Expect(c).NotTo(BeNil(), "no LimitsApplied yet: %+v", latest.Status.Conditions)
			g.Expect(c.ObservedGeneration).To(Equal(latest.Generation))
			return c
		}
	}
	warnings := func(p *v1.VerificationProvider) func() []eventsv1.Event {
		return func() []eventsv1.Event {
			var list eventsv1.EventList
			Expect(k8s.List(ctx(), &list, client.InNamespace(p.Namespace))).To(Succeed())
			var found []eventsv1.Event
			for _, e := range list.Items {
				if e.Regarding.Name == p.Name && e.Type == corev1.EventTypeWarning && e.Reason == string(v1.ReasonAccountLimitsDiffer) {
					found = append(found, e)
				}
			}
			return found
		}
	}

	It("hold it to the strictest limits any of them declares, and the one whose limits differ says so", func() {
		strict := startVendor("truework", withWebhookSecret("whsec-team-a"))
		strict.updateProvider(func(p *v1.VerificationProvider) { p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 1} })
		loose := copyIn(strict, withWebhookSecret("whsec-team-b"), &v1.RateLimit{RequestsPerSecond: 1000})

		By("the provider declaring 1000 requests/s is told its account is held to the other's 1")
		Eventually(limitsApplied(loose)).Should(And(
			HaveField("Status", metav1.ConditionFalse), HaveField("Reason", string(v1.ReasonAccountLimitsDiffer)),
			HaveField("Message", "This provider declares 1000 requests/s, burst 1000; its vendor account is also reached by VerificationProvider "+
				strict.NS+"/truework, which declares 1 requests/s, burst 1; the account is held to 1 requests/s, burst 1. "+
				"Set the same limits on every provider of the account.")))
		Eventually(limitsApplied(strict.Provider)).Should(And(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", string(v1.ReasonOwnLimits)),
			HaveField("Message", ContainSubstring("1 requests/s, burst 1"))))

		By("the loose provider's orders are polled within the strict limits, and both report the account's orders")
		for range 3 {
			o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{GenerateName: "order-", Namespace: loose.Namespace},
				Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: loose.Name}, OrderID: strict.vendorOrder("processing")}}
			Expect(k8s.Create(ctx(), o)).To(Succeed())
			expectReady(o, v1.ReasonConverged)
		}
		for _, p := range []*v1.VerificationProvider{loose, strict.Provider} {
			Eventually(func(g Gomega) {
				latest := fetchProvider(p)
				g.Expect(latest.Status.Orders).To(BeEquivalentTo(3))
				// 3 orders within half of 1 request/s (less the 3% margin):
				// every 6s, not every 2s as 1000 requests/s would allow.
				g.Expect(latest.Status.EffectivePollInterval).To(Equal(&metav1.Duration{Duration: 6 * time.Second}))
			}).Should(Succeed(), "%s/%s", p.Namespace, p.Name)
		}
		Expect(warnings(loose)()).To(ConsistOf(And(
			HaveField("Note", ContainSubstring("the account is held to 1 requests/s, burst 1")),
			HaveField("Series", BeNil()))), "one warning, however many reconciles")
		Expect(warnings(strict.Provider)()).To(BeEmpty())

		By("the strict provider deleted, the loose one's limits apply")
		Expect(k8s.Delete(ctx(), strict.Provider)).To(Succeed())
		Eventually(limitsApplied(loose)).Should(And(
			HaveField("Status", metav1.ConditionTrue), HaveField("Reason", string(v1.ReasonOwnLimits)),
			HaveField("Message", ContainSubstring("1000 requests/s, burst 1000"))))
		Eventually(func() *metav1.Duration { return fetchProvider(loose).Status.EffectivePollInterval }).
			Should(Equal(&metav1.Duration{Duration: 2 * time.Second}))
		Expect(warnings(loose)()).To(HaveLen(1))
	})
})
