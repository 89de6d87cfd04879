package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var _ = Describe("One vendor order, one owner", func() {
	It("stalls a second order on the same account with OrderClaimed, with no vendor call, until the owner goes", func() {
		env := startVendor("accountchek", nil)
		id := env.vendorOrder("opened")
		owner := env.order(id)
		expectReady(owner, v1.ReasonConverged)

		By("a second namespace with its own provider object on the same account")
		// Sorts after env.NS, so that the owner is the older even within
		// the second both may have been created in.
		ns := newNamespace("zz-claimant")
		secret := env.Secret.DeepCopy()
		secret.ObjectMeta = metav1.ObjectMeta{Name: secret.Name, Namespace: ns}
		Expect(k8s.Create(ctx(), secret)).To(Succeed())
		provider := env.Provider.DeepCopy()
		provider.ObjectMeta = metav1.ObjectMeta{Name: "same-account", Namespace: ns}
		Expect(k8s.Create(ctx(), provider)).To(Succeed())
		claimant := env.order(id, wantState(v1.DesiredCanceled), func(o *v1.VerificationOrder) {
			o.Namespace, o.Spec.ProviderRef.Name = ns, provider.Name
		})
		stalled := expectStalled(claimant, v1.ReasonOrderClaimed)
		Expect(meta.FindStatusCondition(stalled.Status.Conditions, v1.ConditionReady).Message).To(ContainSubstring(owner.Namespace + "/" + owner.Name))
		Expect(env.mutatingCalls(id)).To(BeZero(), "the claimant never acts")
		Expect(env.vendorState(id)).To(Equal("opened"))

		By("deleting the owner (deletionPolicy Orphan): the claimant takes over")
		Expect(k8s.Delete(ctx(), owner)).To(Succeed())
		expectReady(claimant, v1.ReasonConverged)
		Expect(env.vendorState(id)).To(Equal("canceled"))
		Expect(env.mutatingCalls(id)).To(Equal(1))
	})
})
