package controllers_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simkit"
	truework "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// A reverification is billable: it is bought at most once per request,
// even when the object that bought it loses its status or is deleted and
// applied again. The figures are calls at the simulator, for
// docs/design.md#reverified-once.
var _ = Describe("A reverification bought once per request", func() {
	It("is not bought again when the object is deleted and the same manifest applied again, nor when it comes back without status", func() {
		env := startVendor("truework", nil)
		sim := env.Sim.(*truework.Server)
		source := sim.RequestIDs(env.vendorOrder("completed"))[0]
		report := sim.ReportID(source)
		manifest := func(annotations map[string]string) *v1.VerificationOrder {
			o := &v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Name: "reverified", Namespace: env.NS, Annotations: annotations},
				Spec: v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: env.Provider.Name}}}
			reverification(source, report)(o)
			Expect(k8s.Create(ctx(), o)).To(Succeed())
			return o
		}

		before := totalCalls(env.Sim)
		o := expectReady(manifest(nil), v1.ReasonConverged)
		Expect(sim.Reverifications(source)).To(HaveLen(1))
		made := sim.Reverifications(source)[0]
		Expect(o.Status.OrderID).To(Equal(made))
		GinkgoWriter.Printf("a first reverification costs %d vendor calls\n", totalCalls(env.Sim)-before)
		Eventually(func() string { return fetch(o).Annotations[v1.ReverifiedAnnotation] }).Should(Equal(source + "/" + made))

		By("deleting it (deletionPolicy Orphan) and applying the same manifest again: the vendor's list is searched, the request adopted")
		kept := fetch(o).Annotations
		Expect(k8s.Delete(ctx(), o)).To(Succeed())
		expectGone(o)
		before = totalCalls(env.Sim)
		again := expectReady(manifest(nil), v1.ReasonConverged)
		Expect(again.Status.OrderID).To(Equal(made))
		Expect(again.Status.LastAppliedAction).To(BeEmpty(), "nothing was applied")
		Expect(sim.Reverifications(source)).To(HaveLen(1), "a second reverification was bought")
		GinkgoWriter.Printf("a re-applied reverification costs %d vendor calls\n", totalCalls(env.Sim)-before)

		By("deleting it and restoring it with its metadata but no status (a backup restore): adopted from the annotation, nothing searched")
		Expect(k8s.Delete(ctx(), again)).To(Succeed())
		expectGone(again)
		before = totalCalls(env.Sim)
		restored := expectReady(manifest(map[string]string{v1.ReverifiedAnnotation: kept[v1.ReverifiedAnnotation]}), v1.ReasonConverged)
		Expect(restored.Status.OrderID).To(Equal(made))
		Expect(sim.Reverifications(source)).To(HaveLen(1))
		Expect(totalCalls(env.Sim)-before).To(Equal(1), "one read of the adopted request, no search")
	})
})

// totalCalls is every vendor API call the simulator answered.
func totalCalls(sim interface{ Stats() []simkit.Stat }) int {
	n := 0
	for _, s := range sim.Stats() {
		n += s.Count
	}
	return n
}
