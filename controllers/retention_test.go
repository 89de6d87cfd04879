package controllers_test

import (
	"context"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/retention"
)

var _ = Describe("Retention", func() {
	// pruningAtOnce starts a vendor whose provider deletes finished orders
	// at once (TTL 0).
	pruningAtOnce := func() *vendorEnv {
		GinkgoHelper()
		env := startVendor("accountchek", nil)
		env.updateProvider(func(p *v1.VerificationProvider) {
			p.Spec.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To[int32](0)}
		})
		return env
	}
	// finished creates an order of a vendor order that is completed, and
	// waits until the order reconciler says so.
	finished := func(env *vendorEnv, mutate ...func(*v1.VerificationOrder)) (*v1.VerificationOrder, string) {
		GinkgoHelper()
		id := env.vendorOrder(env.Completed)
		o := env.order(id, mutate...)
		Eventually(func() error { return k8s.Get(ctx(), client.ObjectKeyFromObject(o), o) }).Should(Succeed())
		return o, id
	}
	// prunedAfter creates a finished order after the checks on kept ones,
	// and waits until it is pruned: the retention controller has had
	// their events by then.
	prunedAfter := func(env *vendorEnv) {
		GinkgoHelper()
		o, _ := finished(env, func(o *v1.VerificationOrder) { o.Spec.TTLSecondsAfterFinished = ptr.To[int32](0) })
		expectGone(o)
	}
	exists := func(o *v1.VerificationOrder) bool {
		return k8s.Get(ctx(), client.ObjectKeyFromObject(o), &v1.VerificationOrder{}) == nil
	}

	It("deletes a finished order at TTL 0 with no vendor call beyond the read that found it finished, Cancel policy or not", func() {
		env := pruningAtOnce()
		orphan, orphanID := finished(env)
		cancel, cancelID := finished(env, func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		expectGone(orphan)
		expectGone(cancel)
		for _, id := range []string{orphanID, cancelID} {
			Expect(env.Sim.Calls(id)).To(HaveLen(1), "the one read that found order %s completed, and nothing since", id)
			Expect(env.mutatingCalls(id)).To(BeZero())
		}

		By("one OrdersPruned event on the provider for both")
		Eventually(func(g Gomega) {
			var list eventsv1.EventList
			g.Expect(k8s.List(ctx(), &list, client.InNamespace(env.NS))).To(Succeed())
			var notes []string
			for _, e := range list.Items {
				if e.Regarding.Kind == "VerificationProvider" && e.Regarding.Name == env.Provider.Name && e.Reason == retention.ReasonOrdersPruned {
					notes = append(notes, e.Note)
				}
			}
			g.Expect(notes).To(ConsistOf(MatchRegexp(`^Deleted 2 finished orders past their ttlSecondsAfterFinished \(2 [a-z]+\); no vendor was called\.$`)))
		}).Should(Succeed())

		By("a log line each, and the counter")
		var lines []string
		for _, line := range strings.Split(logBuffer.String(), "\n") {
			if strings.Contains(line, "pruned a finished order") {
				lines = append(lines, line)
			}
		}
		for _, o := range []*v1.VerificationOrder{orphan, cancel} {
			Expect(lines).To(ContainElement(And(ContainSubstring(string(o.UID)), ContainSubstring(`"vendorOrderID": "`+o.Spec.OrderID+`"`),
				ContainSubstring(`"reason": "Watching"`), ContainSubstring(`"ttlFrom": "provider spec.retention.ttlSecondsAfterFinished"`))))
		}
		Expect(prunedCount(env.NS+"/"+env.Provider.Name, "Watching")).To(BeNumerically("==", 2))
	})

	It("keeps orders that are not finished, or stalled, at TTL 0", func() {
		env := pruningAtOnce()
		active := expectReady(env.order(env.vendorOrder(env.Cancelable)), v1.ReasonConverged)
		missing := expectStalled(env.order("no-such-order"), v1.ReasonOrderNotFound)
		prunedAfter(env)
		Expect(exists(active)).To(BeTrue())
		Expect(exists(missing)).To(BeTrue())
	})

	It("keeps a finished order until its own TTL, which overrides the provider's", func() {
		env := pruningAtOnce()
		o, _ := finished(env, func(o *v1.VerificationOrder) { o.Spec.TTLSecondsAfterFinished = ptr.To[int32](3600) })
		expectReady(o, v1.ReasonWatching)
		prunedAfter(env)
		Expect(exists(o)).To(BeTrue())
	})

	It("keeps an order annotated retain, and prunes it once the annotation goes", func() {
		env := pruningAtOnce()
		o, _ := finished(env, withAnnotation(v1.RetainAnnotation, "true"))
		expectReady(o, v1.ReasonWatching)
		prunedAfter(env)
		Expect(exists(o)).To(BeTrue())
		Expect(k8s.Patch(ctx(), o, client.RawPatch("application/merge-patch+json",
			[]byte(`{"metadata":{"annotations":{"`+v1.RetainAnnotation+`":null}}}`)))).To(Succeed())
		expectGone(o)
	})

	It("keeps orders Argo CD or Flux manage, until the provider opts in", func() {
		env := pruningAtOnce()
		flux, _ := finished(env, func(o *v1.VerificationOrder) {
			o.Labels = map[string]string{retention.FluxKustomizationLabel: "lending"}
		})
		argo, _ := finished(env, withAnnotation(retention.ArgoCDTrackingAnnotation, "lending:verification.ordersync.dev/VerificationOrder:ns/name"))
		expectReady(flux, v1.ReasonWatching)
		expectReady(argo, v1.ReasonWatching)
		prunedAfter(env)
		Expect(exists(flux)).To(BeTrue())
		Expect(exists(argo)).To(BeTrue())

		env.updateProvider(func(p *v1.VerificationProvider) { p.Spec.Retention.PruneGitOpsManaged = true })
		expectGone(flux)
		expectGone(argo)
	})

	It("keeps an order edited between its check and its delete", func() {
		env := pruningAtOnce()
		// An order of this test's own reconciler, which the suite's
		// manager does not see, finished as the order reconciler would
		// record it.
		o := env.order("o-edited", func(o *v1.VerificationOrder) { o.Labels = map[string]string{isolatedLabel: "true"} })
		o.Status = v1.VerificationOrderStatus{ObservedGeneration: o.Generation, OrderID: "o-edited", VendorState: env.Completed,
			State: "completed", LastObservedTime: ptr.To(metav1.Now())}
		for _, c := range []struct {
			t      string
			reason v1.Reason
		}{{v1.ConditionReady, v1.ReasonWatching}, {v1.ConditionSynced, v1.ReasonSynced}} {
			meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: c.t, Status: metav1.ConditionTrue, Reason: string(c.reason),
				Message: "recorded by the test", ObservedGeneration: o.Generation})
		}
		Expect(k8s.Status().Update(ctx(), o)).To(Succeed())

		r := &retention.Reconciler{Client: k8s, APIReader: editingReader{Client: k8s, edit: func(o *v1.VerificationOrder) {
			// Someone says keep it, right after retention read it.
			if o.Annotations == nil {
				o.Annotations = map[string]string{}
			}
			o.Annotations[v1.RetainAnnotation] = "true"
		}}}
		_, err := r.Reconcile(ctx(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
		Expect(err).NotTo(HaveOccurred())
		Expect(exists(o)).To(BeTrue(), "deleted despite the edit: the delete's preconditions must be what was checked")
		Expect(fetch(o).Annotations).To(HaveKeyWithValue(v1.RetainAnnotation, "true"))
	})
})

// editingReader reads through Client, then edits what it read, as someone
// would between retention's check and its delete.
type editingReader struct {
	client.Client
	edit func(*v1.VerificationOrder)
}

func (e editingReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := e.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	latest := obj.DeepCopyObject().(*v1.VerificationOrder)
	e.edit(latest)
	return e.Update(ctx, latest)
}

// prunedCount is verification_operator_orders_pruned_total for provider
// ("namespace/name") and reason.
func prunedCount(provider, reason string) float64 {
	GinkgoHelper()
	families, err := ctrlmetrics.Registry.Gather()
	Expect(err).NotTo(HaveOccurred())
	total := 0.0
	for _, f := range families {
		if f.GetName() != "verification_operator_orders_pruned_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["provider"] == provider && strings.EqualFold(labels["reason"], reason) {
				total += m.GetCounter().GetValue()
			}
		}
	}
	return total
}
