package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var _ = Describe("A provider's finished orders", func() {
	finishedOrders := func(env *vendorEnv) func() int32 {
		return func() int32 { return fetchProvider(env.Provider).Status.FinishedOrders }
	}

	It("are counted in status.finishedOrders while they are held, and leave the count when deleted or pruned", func() {
		env := startVendor("accountchek", nil)
		// No retention: finished orders are kept.
		finished := make([]*v1.VerificationOrder, 0, 3)
		for _, mutate := range []func(*v1.VerificationOrder){
			func(*v1.VerificationOrder) {},
			func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel },
			withAnnotation(v1.RetainAnnotation, "true"),
		} {
			finished = append(finished, expectReady(env.order(env.vendorOrder(env.Completed), mutate), v1.ReasonWatching))
		}
		active := expectReady(env.order(env.vendorOrder(env.Cancelable)), v1.ReasonConverged)
		Eventually(finishedOrders(env)).Should(BeNumerically("==", 3), "the three finished orders; not the active one")

		By("an order deleted leaves the count")
		Expect(k8s.Delete(ctx(), finished[0])).To(Succeed())
		expectGone(finished[0])
		Eventually(finishedOrders(env)).Should(BeNumerically("==", 2))

		By("orders pruned at TTL 0 leave it too; the retained one stays")
		env.updateProvider(func(p *v1.VerificationProvider) {
			p.Spec.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To[int32](0)}
		})
		expectGone(finished[1])
		Eventually(finishedOrders(env)).Should(BeNumerically("==", 1), "the retained order alone")
		Expect(fetch(active).DeletionTimestamp).To(BeNil(), "an active order is never pruned")
	})
})
