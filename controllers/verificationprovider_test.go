package controllers_test

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simulators"
)

var _ = Describe("VerificationProvider", func() {
	expectProvider := func(p *v1.VerificationProvider, status metav1.ConditionStatus, reason v1.Reason) *metav1.Condition {
		GinkgoHelper()
		var ready *metav1.Condition
		Eventually(func(g Gomega) {
			latest := &v1.VerificationProvider{}
			g.Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), latest)).To(Succeed())
			ready = meta.FindStatusCondition(latest.Status.Conditions, v1.ConditionReady)
			g.Expect(ready).NotTo(BeNil())
			g.Expect(ready.Status).To(Equal(status), ready.Message)
			g.Expect(ready.Reason).To(BeEquivalentTo(reason), ready.Message)
			g.Expect(ready.ObservedGeneration).To(Equal(latest.Generation))
		}).Should(Succeed())
		return ready
	}
	setEnvironment := func(p *v1.VerificationProvider, env v1.Environment) {
		GinkgoHelper()
		Eventually(func() error {
			latest := &v1.VerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), latest)).To(Succeed())
			latest.Spec.Environment = env
			if env == v1.EnvironmentProduction {
				// Production takes https only. Nothing listens there: these
				// credentials must be refused before any call.
				latest.Spec.Endpoint = "https://127.0.0.1:1"
			}
			return k8s.Update(ctx(), latest)
		}).Should(Succeed())
	}

	for _, sim := range simulators.All() {
		vendor := sim.Name
		It("is Ready with well-formed "+vendor+" credentials", func() {
			env := startVendor(vendor, nil)
			c := expectProvider(env.Provider, metav1.ConditionTrue, v1.ReasonCredentialsValid)
			Expect(c.Message).To(ContainSubstring(vendor))
		})
	}

	It("refuses a Truework sandbox key on production with a clear reason, and its orders make no call", func() {
		env := startVendor("truework", nil)
		expectProvider(env.Provider, metav1.ConditionTrue, v1.ReasonCredentialsValid)
		setEnvironment(env.Provider, v1.EnvironmentProduction)
		c := expectProvider(env.Provider, metav1.ConditionFalse, v1.ReasonInvalidCredentials)
		Expect(c.Message).To(And(ContainSubstring("apiKey"), ContainSubstring("tw_sk_test_"), ContainSubstring("production")))
		Expect(c.Message).NotTo(ContainSubstring(env.Credentials["apiKey"]), "the message must not echo the key")

		id := env.vendorOrder("processing")
		o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonCredentialsRejected)
		reconcileAgain(o)
		Expect(env.Sim.Calls(id)).To(BeEmpty())
	})

	It("warns, in its condition and an event, when a production provider does not verify response signatures", func() {
		env := startVendor("truework", map[string]string{"apiKey": "tw_sk_9c1e4a7b2d5f8e0a3c6b9d2e5f8a1c4b"})
		Eventually(func() error {
			latest := &v1.VerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(env.Provider), latest)).To(Succeed())
			latest.Spec.Environment, latest.Spec.Endpoint = v1.EnvironmentProduction, "https://127.0.0.1:1"
			latest.Spec.ResponseSignatures = &v1.ResponseSignatures{Verification: v1.SignatureVerificationDisabled}
			return k8s.Update(ctx(), latest)
		}).Should(Succeed())
		Eventually(func() string {
			return expectProvider(env.Provider, metav1.ConditionTrue, v1.ReasonCredentialsValid).Message
		}).Should(ContainSubstring("response signatures are not verified"))
		Eventually(func() []string {
			var list eventsv1.EventList
			Expect(k8s.List(ctx(), &list, client.InNamespace(env.NS))).To(Succeed())
			var reasons []string
			for _, e := range list.Items {
				if e.Regarding.Name == env.Provider.Name && e.Type == "Warning" {
					reasons = append(reasons, e.Reason)
				}
			}
			return reasons
		}).Should(ContainElement("SignaturesNotVerified"))
	})

	It("reports its account's polled orders, and stretches their poll interval to fit the poll budget", func() {
		env := startVendor("accountchek", nil)
		Eventually(func() error {
			p := fetchProvider(env.Provider)
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 5}
			p.Spec.PollBudgetPercent = ptr.To[int32](10) // polls may use 0.1 requests/s
			return k8s.Update(ctx(), p)
		}).Should(Succeed())
		for range 3 {
			expectReady(env.order(env.vendorOrder("opened")), v1.ReasonConverged)
		}
		Eventually(func(g Gomega) {
			p := fetchProvider(env.Provider)
			g.Expect(p.Status.Orders).To(BeEquivalentTo(3))
			g.Expect(p.Status.EffectivePollInterval).NotTo(BeNil())
			// 3 orders at 0.1 requests/s (less the 3% margin): every 31s, not every 2s.
			g.Expect(p.Status.EffectivePollInterval.Duration).To(Equal(31 * time.Second))
		}).Should(Succeed())
		Eventually(func() []string {
			var list eventsv1.EventList
			Expect(k8s.List(ctx(), &list, client.InNamespace(env.NS))).To(Succeed())
			var reasons []string
			for _, e := range list.Items {
				if e.Regarding.Name == env.Provider.Name {
					reasons = append(reasons, e.Reason)
				}
			}
			return reasons
		}).Should(ContainElement("PollsStretched"))
	})

	It("keeps polls within a daily quota, and says so", func() {
		env := startVendor("txcloud", nil)
		Eventually(func() error {
			p := fetchProvider(env.Provider)
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerDay: 1000} // txcloud's Free plan; the rate stays txcloud's
			return k8s.Update(ctx(), p)
		}).Should(Succeed())
		for range 2 {
			expectReady(env.order(env.vendorOrder("pending")), v1.ReasonConverged)
		}
		Eventually(func(g Gomega) {
			p := fetchProvider(env.Provider)
			g.Expect(p.Status.Orders).To(BeEquivalentTo(2))
			g.Expect(p.Status.EffectivePollInterval).NotTo(BeNil())
			// Half of what the day allows (970 less a burst of 50, over
			// 86,400s) for 2 orders: every 376s, not every 2s.
			g.Expect(p.Status.EffectivePollInterval.Duration).To(Equal(376 * time.Second))
		}).Should(Succeed())
		Eventually(func() []string {
			var list eventsv1.EventList
			Expect(k8s.List(ctx(), &list, client.InNamespace(env.NS))).To(Succeed())
			var notes []string
			for _, e := range list.Items {
				if e.Regarding.Name == env.Provider.Name && e.Reason == "PollsStretched" {
					notes = append(notes, e.Note)
				}
			}
			return notes
		}).Should(ContainElement(ContainSubstring("daily quota (spec.rateLimit.requestsPerDay)")))
	})

	It("refuses a Truv sandbox secret on production", func() {
		env := startVendor("truv", nil)
		setEnvironment(env.Provider, v1.EnvironmentProduction)
		c := expectProvider(env.Provider, metav1.ConditionFalse, v1.ReasonInvalidCredentials)
		Expect(c.Message).To(ContainSubstring("accessSecret"))
		Expect(c.Message).NotTo(ContainSubstring(env.Credentials["accessSecret"]))
	})

	It("reports a missing Secret and becomes Ready once it is created", func() {
		env := startVendor("txcloud", nil)
		expectProvider(env.Provider, metav1.ConditionTrue, v1.ReasonCredentialsValid)
		Expect(k8s.Delete(ctx(), env.Secret)).To(Succeed())
		c := expectProvider(env.Provider, metav1.ConditionFalse, v1.ReasonSecretNotFound)
		Expect(c.Message).To(ContainSubstring(env.Secret.Name))

		secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: env.Secret.Name, Namespace: env.NS}, StringData: env.Credentials}
		Expect(k8s.Create(ctx(), secret)).To(Succeed())
		expectProvider(env.Provider, metav1.ConditionTrue, v1.ReasonCredentialsValid)
	})

	It("reports credentials missing a key", func() {
		env := startVendor("accountchek", map[string]string{"username": "someone"})
		c := expectProvider(env.Provider, metav1.ConditionFalse, v1.ReasonInvalidCredentials)
		Expect(c.Message).To(ContainSubstring("password"))
	})
})
