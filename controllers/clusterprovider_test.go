package controllers_test

import (
	"fmt"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var _ = Describe("ClusterVerificationProvider", func() {
	// clusterProvider serves env's vendor to the namespaces labeled team=<a
	// fresh word>, with its Secret in secretNamespace ("" means the
	// operator's namespace).
	clusterProvider := func(env *vendorEnv, secretNamespace string) (*v1.ClusterVerificationProvider, map[string]string) {
		GinkgoHelper()
		n := nsCounter.Add(1)
		team := map[string]string{"team": fmt.Sprintf("team-%d", n)}
		secret := env.Secret.DeepCopy()
		secret.ObjectMeta = metav1.ObjectMeta{Name: fmt.Sprintf("cluster-%d", n), Namespace: secretNamespace}
		if secretNamespace == "" {
			secret.Namespace = operatorNamespace
		}
		Expect(k8s.Create(ctx(), secret)).To(Succeed())
		p := &v1.ClusterVerificationProvider{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", env.Name, n)},
			Spec: v1.ClusterVerificationProviderSpec{
				VerificationProviderSpec: *env.Provider.Spec.DeepCopy(),
				NamespaceSelector:        &metav1.LabelSelector{MatchLabels: team},
			},
		}
		p.Spec.CredentialsSecretRef = v1.SecretReference{Name: secret.Name, Namespace: secretNamespace}
		Expect(k8s.Create(ctx(), p)).To(Succeed())
		DeferCleanup(func() { Expect(client.IgnoreNotFound(k8s.Delete(ctx(), p))).To(Succeed()) })
		return p, team
	}
	namespaceWith := func(labels map[string]string) string {
		GinkgoHelper()
		ns := newNamespace("cluster")
		Eventually(func() error {
			n := &corev1.Namespace{}
			Expect(k8s.Get(ctx(), client.ObjectKey{Name: ns}, n)).To(Succeed())
			n.Labels = labels
			return k8s.Update(ctx(), n)
		}).Should(Succeed())
		return ns
	}
	using := func(p *v1.ClusterVerificationProvider, ns string) func(*v1.VerificationOrder) {
		return func(o *v1.VerificationOrder) {
			o.Namespace = ns
			o.Spec.ProviderRef = v1.ProviderReference{Kind: v1.KindClusterVerificationProvider, Name: p.Name}
		}
	}
	readyReason := func(p *v1.ClusterVerificationProvider) func() string {
		return func() string {
			got := &v1.ClusterVerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), got)).To(Succeed())
			if c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady); c != nil {
				return c.Reason
			}
			return ""
		}
	}

	It("serves the namespaces it selects, with its Secret in the operator's namespace, and no others", func() {
		env := startVendor("truework", nil)
		p, team := clusterProvider(env, "")
		Eventually(readyReason(p)).Should(BeEquivalentTo(v1.ReasonCredentialsValid))

		selected := env.vendorOrder("processing")
		o := env.order(selected, using(p, namespaceWith(team)), wantState(v1.DesiredCanceled))
		expectReady(o, v1.ReasonConverged)
		Expect(env.vendorState(selected)).To(Equal("canceled"))

		other := env.vendorOrder("processing")
		elsewhere := env.order(other, using(p, namespaceWith(map[string]string{"team": "someone-else"})), wantState(v1.DesiredCanceled))
		stalledOrder := expectStalled(elsewhere, v1.ReasonProviderNotAllowed)
		Expect(meta.FindStatusCondition(stalledOrder.Status.Conditions, v1.ConditionReady).Message).To(
			And(ContainSubstring(p.Name), ContainSubstring(elsewhere.Namespace), ContainSubstring("namespaceSelector")))
		Expect(env.Sim.Calls(other)).To(BeEmpty(), "an order outside the selection never reaches the vendor")

		By("labeling its namespace, which the controller watches")
		Eventually(func() error {
			n := &corev1.Namespace{}
			Expect(k8s.Get(ctx(), client.ObjectKey{Name: elsewhere.Namespace}, n)).To(Succeed())
			n.Labels = team
			return k8s.Update(ctx(), n)
		}).Should(Succeed())
		expectReady(elsewhere, v1.ReasonConverged)
		Expect(env.mutatingCalls(other)).To(Equal(1))
	})

	It("reads a Secret in the namespace it names, and reports a missing one", func() {
		env := startVendor("accountchek", nil)
		p, team := clusterProvider(env, env.NS)
		Eventually(readyReason(p)).Should(BeEquivalentTo(v1.ReasonCredentialsValid))
		Expect(k8s.Delete(ctx(), &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: p.Spec.CredentialsSecretRef.Name, Namespace: env.NS}})).To(Succeed())
		Eventually(readyReason(p)).Should(BeEquivalentTo(v1.ReasonSecretNotFound))

		o := env.order(env.vendorOrder("opened"), using(p, namespaceWith(team)))
		c := meta.FindStatusCondition(expectStalled(o, v1.ReasonProviderNotReady).Status.Conditions, v1.ConditionReady)
		Expect(c.Message).To(ContainSubstring(fmt.Sprintf("not found in namespace %q", env.NS)))
	})

	It("is held while Cancel orders in any namespace use it, and cancels them on deletion", func() {
		env := startVendor("truv", nil)
		p, team := clusterProvider(env, "")
		id := env.vendorOrder("sent")
		o := env.order(id, using(p, namespaceWith(team)), func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		expectReady(o, v1.ReasonConverged)
		Eventually(func() []string {
			got := &v1.ClusterVerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), got)).To(Succeed())
			return got.Finalizers
		}).Should(ContainElement(v1.ProviderInUseFinalizer))

		Expect(k8s.Delete(ctx(), p)).To(Succeed())
		Eventually(readyReason(p)).Should(BeEquivalentTo(v1.ReasonInUse))
		Expect(k8s.Delete(ctx(), o)).To(Succeed())
		expectGone(o)
		Expect(env.vendorState(id)).To(Equal("canceled"))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx(), client.ObjectKeyFromObject(p), &v1.ClusterVerificationProvider{}))
		}, 30*time.Second).Should(BeTrue(), "the provider goes once its last Cancel order has")
	})

	It("is no user of an order in a namespace it does not select: no finalizer, and its deletion is not held", func() {
		env := startVendor("truv", nil)
		p, _ := clusterProvider(env, "")
		Eventually(readyReason(p)).Should(BeEquivalentTo(v1.ReasonCredentialsValid))
		id := env.vendorOrder("sent")
		o := env.order(id, using(p, namespaceWith(map[string]string{"team": "someone-else"})),
			func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		o = expectStalled(o, v1.ReasonProviderNotAllowed)
		Expect(o.Finalizers).NotTo(ContainElement(v1.CancelFinalizer))
		Expect(env.Sim.Calls(id)).To(BeEmpty())

		Expect(k8s.Delete(ctx(), p)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx(), client.ObjectKeyFromObject(p), &v1.ClusterVerificationProvider{}))
		}, 30*time.Second).Should(BeTrue(), "an order it never served does not hold it")
	})

	It("shares one budget with a VerificationProvider on the same account", func() {
		env := startVendor("txcloud", nil)
		p, team := clusterProvider(env, env.NS) // the same Secret data as env.Provider's
		ns := namespaceWith(team)
		env.order(env.vendorOrder("pending"), using(p, ns))
		env.order(env.vendorOrder("pending"))
		// Both providers report the account's two polled orders.
		Eventually(func() int32 { return fetchProvider(env.Provider).Status.Orders }).Should(BeEquivalentTo(2))
		Eventually(func() int32 {
			got := &v1.ClusterVerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(p), got)).To(Succeed())
			return got.Status.Orders
		}).Should(BeEquivalentTo(2))
	})
})
