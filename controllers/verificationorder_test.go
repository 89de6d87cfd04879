package controllers_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

var _ = Describe("VerificationOrder against each vendor simulator", Ordered, func() {
	for _, vendor := range simulators.All() {
		Context(vendor.Name, func() {
			It("observes an active order and reports Ready", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := expectReady(env.order(id), v1.ReasonConverged)
				Expect(o.Status.State).To(BeEquivalentTo("active"))
				Expect(o.Status.VendorState).To(Equal(env.Cancelable))
				Expect(o.Status.OrderID).To(Equal(id))
				Expect(o.Status.PlannedAction).To(BeEmpty())
				Expect(o.Status.LastObservedTime).NotTo(BeNil())
				if vendor.Parts {
					// Parts of an order (Truework requests, Truv employers) have states of their own.
					Expect(o.Status.Requests).To(ConsistOf(HaveField("VendorState", env.Cancelable)))
					Expect(o.Status.Requests[0].ID).NotTo(BeEmpty())
				} else {
					Expect(o.Status.Requests).To(BeEmpty())
				}
				expectCondition(o, v1.ConditionSynced, metav1.ConditionTrue, v1.ReasonSynced)
				Expect(reconcileAgain(o).RequeueAfter).To(BeNumerically(">", 0), "an active order is polled")
				Expect(env.mutatingCalls(id)).To(BeZero())
			})

			It("cancels an active order with exactly one cancel call", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := expectReady(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonConverged)
				Expect(o.Status.State).To(BeEquivalentTo("canceled"))
				Expect(o.Status.LastAppliedAction).To(BeEquivalentTo("Cancel"))
				Expect(env.vendorState(id)).NotTo(Equal(env.Cancelable))
				// Canceled is terminal: the order is not polled any more.
				Expect(reconcileAgain(o).RequeueAfter).To(BeZero(), "a terminal order is not polled")
				Expect(env.mutatingCalls(id)).To(Equal(1))
			})

			if vendor.Canceled != "" {
				It("converges with no call when the vendor already canceled the order", func() {
					env := startVendor(vendor.Name, nil)
					id := env.vendorOrder(vendor.Canceled)
					o := expectReady(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonConverged)
					Expect(o.Status.State).To(BeEquivalentTo("canceled"))
					reconcileAgain(o)
					Expect(env.mutatingCalls(id)).To(BeZero())
				})
			}

			It("stalls with AlreadyTerminal, without a call, when the vendor already completed the order", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Completed)
				o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonAlreadyTerminal)
				Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady).Reason).To(BeEquivalentTo(v1.ReasonAlreadyTerminal))
				Expect(o.Status.PlannedAction).To(BeEmpty())
				reconcileAgain(o)
				Expect(env.mutatingCalls(id)).To(BeZero())
			})

			It("stalls with OrderNotFound for an order the vendor does not have", func() {
				env := startVendor(vendor.Name, nil)
				o := expectStalled(env.order("no-such-order", wantState(v1.DesiredCanceled)), v1.ReasonOrderNotFound)
				expectCondition(o, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonOrderNotFound)
			})

			It("stalls with CredentialsRejected and heals without a restart once the Secret is fixed", func() {
				env := startVendor(vendor.Name, vendor.BadCredentials)
				id := env.vendorOrder(env.Cancelable)
				o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonCredentialsRejected)
				Expect(env.mutatingCalls(id)).To(BeZero())

				secret := env.Secret.DeepCopy()
				Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(secret), secret)).To(Succeed())
				secret.StringData = vendor.Credentials
				Expect(k8s.Update(ctx(), secret)).To(Succeed())
				// The Stalled recheck is 10 minutes: only the Secret watch can heal it this fast.
				o = expectReady(o, v1.ReasonConverged)
				Expect(o.Status.State).To(BeEquivalentTo("canceled"))
				Expect(env.mutatingCalls(id)).To(Equal(1))
			})

			for _, fault := range []struct {
				status int
				reason v1.Reason
			}{{429, v1.ReasonRateLimited}, {503, v1.ReasonVendorUnavailable}} {
				It("shows Reconciling on HTTP "+itoa(fault.status)+" and converges once the vendor recovers", func() {
					env := startVendor(vendor.Name, nil)
					id := env.vendorOrder(env.Cancelable)
					env.Sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{fault.status}, RetryAfterSeconds: 1})
					o := env.order(id, wantState(v1.DesiredCanceled))
					o = expectCondition(o, v1.ConditionReconciling, metav1.ConditionTrue, fault.reason)
					expectCondition(o, v1.ConditionSynced, metav1.ConditionFalse, fault.reason)
					Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled)).To(BeNil())

					env.Sim.SetFaults(simkit.Faults{})
					o = expectReady(o, v1.ReasonConverged)
					Expect(o.Status.State).To(BeEquivalentTo("canceled"))
					Expect(env.mutatingCalls(id)).To(Equal(1))
				})
			}

			It("makes no vendor call at all while paused, and resumes when unpaused", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := env.order(id, wantState(v1.DesiredCanceled), withAnnotation(v1.PausedAnnotation, "true"))
				o = expectCondition(o, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPaused)
				expectCondition(o, v1.ConditionReady, metav1.ConditionUnknown, v1.ReasonPaused)
				reconcileAgain(o)
				Expect(env.Sim.Calls(id)).To(BeEmpty())

				delete(o.Annotations, v1.PausedAnnotation)
				Expect(k8s.Update(ctx(), o)).To(Succeed())
				expectReady(o, v1.ReasonConverged)
				Expect(env.mutatingCalls(id)).To(Equal(1))
			})

			It("with ObserveOnly, plans Cancel but never calls it", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := env.order(id, wantState(v1.DesiredCanceled), func(o *v1.VerificationOrder) {
					o.Spec.ManagementPolicy = v1.ManagementObserveOnly
				})
				o = expectReady(o, v1.ReasonObserveOnly)
				Expect(o.Status.PlannedAction).To(BeEquivalentTo("Cancel"))
				Expect(o.Status.State).To(BeEquivalentTo("active"))
				reconcileAgain(o)
				Expect(env.mutatingCalls(id)).To(BeZero())
				Expect(env.vendorState(id)).To(Equal(env.Cancelable))
			})

			It("with deletionPolicy Cancel, cancels at the vendor before the object goes", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := env.order(id, func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
				o = expectReady(o, v1.ReasonConverged)
				Expect(controllerutil.ContainsFinalizer(o, v1.CancelFinalizer)).To(BeTrue())
				Expect(env.mutatingCalls(id)).To(BeZero())

				Expect(k8s.Delete(ctx(), o)).To(Succeed())
				expectGone(o)
				Expect(env.mutatingCalls(id)).To(Equal(1))
				Expect(env.vendorState(id)).NotTo(Equal(env.Cancelable))
			})

			It("with deletionPolicy Orphan, leaves the vendor order alone", func() {
				env := startVendor(vendor.Name, nil)
				id := env.vendorOrder(env.Cancelable)
				o := expectReady(env.order(id), v1.ReasonConverged)
				Expect(o.Finalizers).To(BeEmpty())
				mark := reconciles.mark(o)
				Expect(k8s.Delete(ctx(), o)).To(Succeed())
				expectGone(o)
				reconciles.waitPast(o, mark) // the reconciler has seen the deletion
				Expect(env.mutatingCalls(id)).To(BeZero())
				Expect(env.vendorState(id)).To(Equal(env.Cancelable))
			})
		})
	}

	It("follows the vendor when the order moves there", func() {
		env := startVendor("accountchek", nil)
		id := env.vendorOrder("opened")
		o := expectReady(env.order(id), v1.ReasonConverged)
		Expect(env.Sim.SetOrderState(id, "inprogress")).To(Succeed())
		Eventually(func() string { return fetch(o).Status.VendorState }).Should(Equal("inprogress"))
		Expect(env.Sim.SetOrderState(id, "closed")).To(Succeed())
		o = expectReady(o, v1.ReasonWatching)
		Expect(o.Status.State).To(BeEquivalentTo("closed"))
	})

	It("reports a missing provider as ProviderNotReady and heals when it is created", func() {
		env := startVendor("truework", nil)
		id := env.vendorOrder("processing")
		o := env.order(id, func(o *v1.VerificationOrder) { o.Spec.ProviderRef.Name = "later" })
		expectStalled(o, v1.ReasonProviderNotReady)
		p := env.Provider.DeepCopy()
		p.ObjectMeta = metav1.ObjectMeta{Name: "later", Namespace: env.NS}
		Expect(k8s.Create(ctx(), p)).To(Succeed())
		expectReady(o, v1.ReasonConverged)
	})

	// Runs last in this ordered container: every scenario above has put
	// vendor responses full of PII through the operator by now.
	It("leaks no PII the simulators served into status, events or logs", func() {
		var pii []string
		for _, v := range simulators.All() {
			Expect(v.PII).NotTo(BeEmpty(), "%s simulator declares no PII: the check would prove nothing", v.Name)
			pii = append(pii, v.PII...)
		}
		var orders v1.VerificationOrderList
		Expect(k8s.List(ctx(), &orders)).To(Succeed())
		Expect(orders.Items).NotTo(BeEmpty())
		statuses, err := json.Marshal(orders.Items)
		Expect(err).NotTo(HaveOccurred())
		var events eventsv1.EventList
		Expect(k8s.List(ctx(), &events)).To(Succeed())
		Expect(events.Items).NotTo(BeEmpty())
		eventText, err := json.Marshal(events.Items)
		Expect(err).NotTo(HaveOccurred())
		logs := logBuffer.String()
		Expect(logs).NotTo(BeEmpty())
		for _, value := range pii {
			Expect(string(statuses)).NotTo(ContainSubstring(value), "PII in a VerificationOrder")
			Expect(string(eventText)).NotTo(ContainSubstring(value), "PII in an event")
			Expect(logs).NotTo(ContainSubstring(value), "PII in the operator's log")
		}
	})
})

func expectGone(o *v1.VerificationOrder) {
	GinkgoHelper()
	Eventually(func() bool {
		err := k8s.Get(ctx(), client.ObjectKeyFromObject(o), &v1.VerificationOrder{})
		return apierrors.IsNotFound(err)
	}).Should(BeTrue(), "the VerificationOrder was not deleted")
}

func itoa(i int) string { return strconv.Itoa(i) }

var _ = Describe("kstatus", func() {
	kstatusOf := func(o *v1.VerificationOrder) kstatus.Status {
		GinkgoHelper()
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1.GroupVersion.WithKind("VerificationOrder"))
		Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(o), u)).To(Succeed())
		res, err := kstatus.Compute(u)
		Expect(err).NotTo(HaveOccurred())
		return res.Status
	}
	// kstatusOfOrNothing is kstatusOf for a goroutine that may not assert.
	kstatusOfOrNothing := func(o *v1.VerificationOrder) kstatus.Status {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(v1.GroupVersion.WithKind("VerificationOrder"))
		if k8s.Get(ctx(), client.ObjectKeyFromObject(o), u) != nil {
			return ""
		}
		res, err := kstatus.Compute(u)
		if err != nil {
			return ""
		}
		return res.Status
	}
	It("reads a new order whose first vendor call is slow as InProgress while it is in flight, then Current", func() {
		env := startVendor("accountchek", nil)
		// A provider the manager has not seen yet stalls the order for a
		// moment (kstatus Failed), which is not what this spec is about.
		env.waitProviderReady()
		id := env.vendorOrder("opened")
		created, inProgress := make(chan *v1.VerificationOrder, 1), make(chan bool, 1)
		hooks.Before("GET", "/v1/accountchekorders/"+id, func() {
			// Hold the call until the order reads InProgress (the Pending
			// write comes a second into the reconcile), or give up.
			o, seen := <-created, false
			for deadline := time.Now().Add(30 * time.Second); !seen && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				seen = kstatusOfOrNothing(o) == kstatus.InProgressStatus
			}
			inProgress <- seen
		})
		o := env.order(id)
		created <- o
		expectReady(o, v1.ReasonConverged)
		Expect(<-inProgress).To(BeTrue(), "the order never read InProgress while its first vendor call was in flight")
		Expect(kstatusOf(o)).To(Equal(kstatus.CurrentStatus))
	})
	It("reads a new order that waits for its account's budget as InProgress, with no vendor call", func() {
		env := startVendor("accountchek", nil)
		env.updateProvider(func(p *v1.VerificationProvider) {
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerDay: 1} // the first order's one call is the day's
		})
		first := env.vendorOrder("opened")
		expectReady(env.order(first), v1.ReasonConverged)
		waiting := env.vendorOrder("opened")
		o := expectCondition(env.order(waiting), v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonPending)
		Expect(kstatusOf(o)).To(Equal(kstatus.InProgressStatus))
		Expect(env.Sim.Calls(waiting)).To(BeEmpty())
	})
	It("reads a Stalled order as Failed", func() {
		env := startVendor("accountchek", nil)
		o := expectStalled(env.order(env.vendorOrder("closed"), wantState(v1.DesiredCanceled)), v1.ReasonAlreadyTerminal)
		Expect(kstatusOf(o)).To(Equal(kstatus.FailedStatus))
	})
})

var _ = Describe("Metrics", func() {
	It("count vendor calls and orders by closed label sets, never ids, names or namespaces; budgets by provider", func() {
		env := startVendor("accountchek", nil)
		id := env.vendorOrder("opened")
		o := expectReady(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonConverged)

		families, err := ctrlmetrics.Registry.Gather()
		Expect(err).NotTo(HaveOccurred())
		allowed := map[string]string{
			"vendor": "^(" + strings.Join(append(registry.Default().Names(), "unknown"), "|") + ")$",
			"method": "^(get|put|patch|post)$",
			"code":   "^[1-5][0-9][0-9]$",
			"state":  "^(|active|canceled|closed|completed|expired|failed)$",
			"reason": "^([A-Z][A-Za-z]+|timeout|refused|reset|tls|dns|other)?$", // condition reasons; why a call got no answer
			"ready":  "^(true|false)$",
			"result": "^(accepted|unknown|forged|replayed|oversized|invalid|unavailable)$",
			// Budget gauges, unanswered calls and pruned orders name the
			// provider (platform config, not an order's); nothing else may.
			"provider": "^" + env.Provider.Namespace + "/" + env.Provider.Name + "$|^[a-z0-9-]+/[a-z0-9.-]+$",
		}
		values := map[string]float64{}
		for _, f := range families {
			if !strings.HasPrefix(f.GetName(), "verification_operator_") {
				continue
			}
			for _, m := range f.GetMetric() {
				key := make([]string, 0, len(m.GetLabel()))
				for _, l := range m.GetLabel() {
					Expect(allowed).To(HaveKey(l.GetName()), "metric %s", f.GetName())
					Expect(l.GetValue()).To(MatchRegexp(allowed[l.GetName()]), "metric %s label %s", f.GetName(), l.GetName())
					Expect(l.GetValue()).NotTo(Or(ContainSubstring(id), ContainSubstring(o.Name)), "metric %s", f.GetName())
					if l.GetName() == "provider" {
						Expect(f.GetName()).To(Or(HavePrefix("verification_operator_budget_"), Equal("verification_operator_polls_stretched"),
							Equal("verification_operator_vendor_unanswered_total"), Equal("verification_operator_orders_pruned_total")))
					} else {
						Expect(l.GetValue()).NotTo(ContainSubstring(o.Namespace), "metric %s", f.GetName())
					}
					key = append(key, l.GetName()+"="+l.GetValue())
				}
				values[f.GetName()+"{"+strings.Join(key, ",")+"}"] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
		Expect(values).To(HaveKeyWithValue("verification_operator_vendor_requests_total{code=200,method=patch,vendor=accountchek}", BeNumerically(">=", 1)))
		Expect(values).To(HaveKeyWithValue("verification_operator_orders{reason=Converged,state=canceled,vendor=accountchek}", BeNumerically(">=", 1)))
		Expect(values).To(HaveKeyWithValue("verification_operator_provider_ready{ready=true,vendor=accountchek}", BeNumerically(">=", 1)))
		provider := "provider=" + env.Provider.Namespace + "/" + env.Provider.Name + ",vendor=accountchek}"
		for _, gauge := range []string{"budget_queue_depth", "budget_wait_seconds", "budget_paused", "polls_stretched"} {
			Expect(values).To(HaveKeyWithValue("verification_operator_"+gauge+"{"+provider, BeZero()), "an idle account")
		}
	})
})

var _ = Describe("Rate limiting", func() {
	It("keeps every worker together within the provider's rate limit", func() {
		// Truework allows 10 requests/s per key (the simulator answers 429
		// beyond it). The provider asks for 5/s: if the workers did not share
		// one token bucket, 8 of them would exceed 10/s at once.
		env := startVendor("truework", nil)
		Eventually(func() error {
			p := &v1.VerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(env.Provider), p)).To(Succeed())
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 5, Burst: 5}
			p.Spec.PollInterval = &metav1.Duration{Duration: time.Minute}
			return k8s.Update(ctx(), p)
		}).Should(Succeed())
		const n = 40
		start := time.Now()
		orders := make([]*v1.VerificationOrder, 0, n)
		for range n {
			orders = append(orders, env.order(env.vendorOrder("processing"), wantState(v1.DesiredCanceled)))
		}
		for _, o := range orders {
			Eventually(func() v1.ObservedState { return fetch(o).Status.State }, 2*time.Minute).Should(BeEquivalentTo("canceled"))
		}
		AddReportEntry("rate-limited throughput", fmt.Sprintf("%d orders observed and canceled in %s at 5 requests/s", n, time.Since(start).Round(time.Second)))
		for _, s := range env.Sim.Stats() {
			Expect(s.Status).NotTo(Equal(429), "the simulator rate-limited %s %s %d times", s.Method, s.Pattern, s.Count)
		}
	})
})
