package controllers_test

import (
	"context"
	"errors"
	"slices"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	clocktesting "k8s.io/utils/clock/testing"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/order"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
	truework "github.com/ordersync/verification-operator/providers/truework/simulator"
	txsim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

var _ = Describe("Vendor operations beyond cancel", func() {
	Context("AccountChek close", func() {
		for _, from := range []string{"opened", "inprogress"} {
			It("closes an order that is "+from+" with exactly one PATCH", func() {
				env := startVendor("accountchek", nil)
				id := env.vendorOrder(from)
				o := expectReady(env.order(id, wantState(v1.DesiredClosed)), v1.ReasonConverged)
				Expect(o.Status.State).To(BeEquivalentTo("closed"))
				Expect(env.vendorState(id)).To(Equal("closed"))
				Expect(o.Status.LastAppliedAction).To(BeEquivalentTo("Close"))
				reconcileAgain(o)
				Expect(env.mutatingCalls(id)).To(Equal(1))
			})
		}

		It("waits, without a call, while an order is still building", func() {
			env := startVendor("accountchek", nil)
			id := env.vendorOrder("building")
			o := expectStalled(env.order(id, wantState(v1.DesiredClosed)), v1.ReasonIllegalTransition)
			Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled).Message).To(ContainSubstring("opened, inprogress"))
			Expect(env.mutatingCalls(id)).To(BeZero())
			// Once the vendor finishes building, the poll sees it and closes.
			Expect(env.Sim.SetOrderState(id, "opened")).To(Succeed())
			expectReady(o, v1.ReasonConverged)
			Expect(env.vendorState(id)).To(Equal("closed"))
		})

		It("shows the vendor's 422 messages, without PII, when the vendor refuses", func() {
			env := startVendor("accountchek", nil)
			id := env.vendorOrder("opened")
			// The borrower starts the order between our observation and
			// our cancel: AccountChek refuses the cancel with 422.
			hooks.Before("PATCH", "/v1/accountchekorders/"+id, func() {
				Expect(env.Sim.SetOrderState(id, "inprogress")).To(Succeed())
			})
			o := env.order(id, wantState(v1.DesiredCanceled))
			Eventually(func(g Gomega) {
				var list eventsv1.EventList
				g.Expect(k8s.List(ctx(), &list, client.InNamespace(env.NS))).To(Succeed())
				notes := []string{}
				for _, e := range list.Items {
					if e.Reason == string(v1.ReasonIllegalTransition) && e.Regarding.Name == o.Name {
						notes = append(notes, e.Note)
					}
				}
				g.Expect(notes).To(ContainElement(And(
					ContainSubstring("The AccountChekOrder could not be updated."),
					ContainSubstring("status: An AccountChekOrder with status 'inprogress' cannot be canceled"))))
			}).Should(Succeed())
			o = expectStalled(o, v1.ReasonIllegalTransition)
			Expect(env.mutatingCalls(id)).To(Equal(1))
			Expect(env.vendorState(id)).To(Equal("inprogress"))
		})
	})

	It("stalls with LegalHold when Truework answers 451 for a frozen SSN", func() {
		env := startVendor("truework", nil)
		id := env.vendorOrder("processing")
		Expect(env.Sim.(*truework.Server).Freeze(id)).To(Succeed())
		o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonLegalHold)
		expectCondition(o, v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonLegalHold)
		Expect(env.mutatingCalls(id)).To(BeZero())
	})

	It("remembers across a restart that it canceled a txcloud verification, which txcloud then calls expired", func() {
		env := startVendor("txcloud", nil)
		id := env.vendorOrder("pending")
		o := env.order(id, wantState(v1.DesiredCanceled), isolated)
		key := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)}
		_, err := newIsolatedReconciler(k8s).Reconcile(ctx(), key)
		Expect(err).NotTo(HaveOccurred())
		Expect(env.vendorState(id)).To(Equal("expired"))

		// A new process knows only what status says.
		_, err = newIsolatedReconciler(k8s).Reconcile(ctx(), key)
		Expect(err).NotTo(HaveOccurred())
		o = expectReady(o, v1.ReasonConverged)
		Expect(o.Status.State).To(BeEquivalentTo("canceled"))
		Expect(o.Status.VendorState).To(Equal("expired"))
		Expect(env.mutatingCalls(id)).To(Equal(1))
	})

	It("cancels orders that wait longer for their call than the poll interval", func() {
		// 6 cancels at 1 call/s: each order's cancel is due several
		// seconds after its read, more than the 2s poll interval. The
		// cancel must act on that read, not spend its call reading again.
		env := startVendor("txcloud", nil)
		env.updateProvider(func(p *v1.VerificationProvider) { p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1} })
		ids := make([]string, 6)
		orders := make([]*v1.VerificationOrder, 6)
		for i := range ids {
			ids[i] = env.vendorOrder("pending")
			orders[i] = env.order(ids[i], wantState(v1.DesiredCanceled))
		}
		for i, o := range orders {
			expectReady(o, v1.ReasonConverged)
			Expect(env.mutatingCalls(ids[i])).To(Equal(1))
		}
	})

	It("reads a txcloud verification its lost cancel expired as canceled, after the crash that lost the answer", func() {
		env := startVendor("txcloud", nil)
		id := env.vendorOrder("pending")
		o := env.order(id, wantState(v1.DesiredCanceled), isolated)
		key := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)}
		// The cancel lands, and the process dies before it records the answer.
		landed := func() bool { return env.vendorState(id) == "expired" }
		crashing := newIsolatedReconciler(&failWritesOnceVendorMoved{Client: k8s, moved: landed})
		_, _ = crashing.Reconcile(ctx(), key)
		Expect(env.vendorState(id)).To(Equal("expired"))
		Expect(fetch(o).Status.LastAppliedAction).To(BeEmpty(), "the answer was lost")

		// The next process comes after the poll interval, so it reads the
		// verification first, and finds it expired.
		later := newIsolatedReconciler(k8s)
		later.Connector.Clients.Budgets.Clock = clocktesting.NewFakeClock(time.Now().Add(time.Hour))
		_, err := later.Reconcile(ctx(), key)
		Expect(err).NotTo(HaveOccurred())
		o = expectReady(o, v1.ReasonConverged)
		Expect(o.Status.State).To(BeEquivalentTo("canceled"))
		Expect(o.Status.CancelRequestedTime).NotTo(BeNil())
		Expect(env.mutatingCalls(id)).To(Equal(1))
	})

	It("withdraws the cancel intent when txcloud refuses the cancel", func() {
		env := startVendor("txcloud", nil)
		id := env.vendorOrder("pending")
		// The verification moves to review as the cancel is sent: txcloud
		// refuses it, and the read that follows finds it in review.
		hooks.Before("POST", "/v1/identity/verifications/"+id+"/cancel", func() {
			Expect(env.Sim.(*txsim.Server).SetOrderState(id, "review")).To(Succeed())
		})
		o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonIllegalTransition)
		Expect(env.mutatingCalls(id)).To(Equal(1))
		Expect(o.Status.CancelRequestedTime).To(BeNil(), "no cancel of ours landed")
	})

	It("stops repeating a cancel the vendor accepts but ignores, with VendorIgnoredAction", func() {
		env := startVendor("accountchek", nil)
		id := env.vendorOrder("opened")
		// AccountChek answers the PATCH with 200 and the order, unchanged.
		hooks.Rewrite("PATCH", "/v1/accountchekorders/"+id, "GET")
		o := expectStalled(env.order(id, wantState(v1.DesiredCanceled)), v1.ReasonVendorIgnoredAction)
		Expect(o.Status.AppliedCount).To(BeEquivalentTo(5))
		Expect(o.Status.LastAppliedAction).To(BeEquivalentTo("Cancel"))
		Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled).Message).To(ContainSubstring("5 times"))
		reads := env.Sim.CountCalls(id, "GET")
		// One observation, then 5 cancels (sent as reads) each acting on the
		// fresh answer of the one before, and the observation that stalled.
		Expect(reads).To(Equal(7))
		reconcileAgain(o)
		Expect(env.Sim.CountCalls(id, "GET")).To(Equal(reads+1), "looking again only observes")
	})

	It("keeps the result of a txcloud cancel when someone edits the order during the call", func() {
		env := startVendor("txcloud", nil)
		id := env.vendorOrder("pending")
		var o *v1.VerificationOrder
		// A label edit while the cancel is in flight makes the status write
		// that follows it conflict.
		hooks.Before("POST", "/v1/identity/verifications/"+id+"/cancel", func() {
			Eventually(func() error {
				latest := fetch(o)
				latest.Labels = map[string]string{"edited": "during-the-call"}
				return k8s.Update(ctx(), latest)
			}).Should(Succeed())
		})
		o = env.order(id, wantState(v1.DesiredCanceled))
		o = expectReady(o, v1.ReasonConverged)
		Expect(o.Labels).To(HaveKeyWithValue("edited", "during-the-call"))
		Expect(o.Status.LastAppliedAction).To(BeEquivalentTo("Cancel"))
		Expect(o.Status.State).To(BeEquivalentTo("canceled"))
		Expect(env.mutatingCalls(id)).To(Equal(1))
	})

	It("cancels a deletionPolicy Cancel order when its whole namespace is deleted, Secret and provider first", func() {
		env := startVendor("truv", nil)
		id := env.vendorOrder("sent")
		o := env.order(id, func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		expectReady(o, v1.ReasonConverged)
		Eventually(func() []string {
			p := &v1.VerificationProvider{}
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(env.Provider), p)).To(Succeed())
			return p.Finalizers
		}).Should(ContainElement(v1.ProviderInUseFinalizer), "the provider is marked in use")

		// envtest runs no namespace controller: delete what it would, in
		// the order that hurts most.
		Expect(k8s.Delete(ctx(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: env.NS}})).To(Succeed())
		Expect(k8s.Delete(ctx(), env.Secret)).To(Succeed())
		Expect(k8s.Delete(ctx(), env.Provider)).To(Succeed())
		Expect(k8s.Delete(ctx(), o)).To(Succeed())

		expectGone(o)
		Expect(env.vendorState(id)).To(Equal("canceled"), "canceled with the last good credentials")
		Expect(env.mutatingCalls(id)).To(Equal(1))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx(), client.ObjectKeyFromObject(env.Provider), &v1.VerificationProvider{}))
		}).Should(BeTrue(), "the provider goes once its last Cancel order has")
	})

	It("keeps a provider that Cancel orders use until they are gone", func() {
		env := startVendor("accountchek", nil)
		id := env.vendorOrder("opened")
		o := env.order(id, func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		expectReady(o, v1.ReasonConverged)
		Eventually(func() []string { return fetchProvider(env.Provider).Finalizers }).Should(ContainElement(v1.ProviderInUseFinalizer))
		Expect(k8s.Delete(ctx(), env.Provider)).To(Succeed())
		Eventually(func() string {
			c := meta.FindStatusCondition(fetchProvider(env.Provider).Status.Conditions, v1.ConditionReady)
			return c.Reason
		}).Should(BeEquivalentTo(v1.ReasonInUse))

		Expect(k8s.Delete(ctx(), o)).To(Succeed())
		expectGone(o)
		Expect(env.vendorState(id)).To(Equal("canceled"))
		Eventually(func() bool {
			return apierrors.IsNotFound(k8s.Get(ctx(), client.ObjectKeyFromObject(env.Provider), &v1.VerificationProvider{}))
		}).Should(BeTrue())
	})

	It("holds a deletionPolicy Cancel deletion while the vendor is down, and cancels once it is back", func() {
		env := startVendor("truv", nil)
		id := env.vendorOrder("sent")
		o := env.order(id, func(o *v1.VerificationOrder) { o.Spec.DeletionPolicy = v1.DeletionCancel })
		expectReady(o, v1.ReasonConverged)

		env.Sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
		Expect(k8s.Delete(ctx(), o)).To(Succeed())
		expectCondition(o, v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonVendorUnavailable)
		reconciles.waitPast(o, reconciles.mark(o)) // another failed attempt
		Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(o), &v1.VerificationOrder{})).To(Succeed(), "the deletion waits")

		env.Sim.SetFaults(simkit.Faults{})
		expectGone(o)
		Expect(env.vendorState(id)).To(Equal("canceled"))
		Expect(env.acceptedMutatingCalls(id)).To(Equal(1), "attempts answered 503 were not applied")
	})

	Context("unsupported requests", func() {
		for _, vendor := range vendorsWithout(providers.ActionClose) {
			It("refuses state: closed on "+vendor+" with UnsupportedState and no vendor call", func() {
				env := startVendor(vendor, nil)
				id := env.vendorOrder(env.Cancelable)
				o := expectStalled(env.order(id, wantState(v1.DesiredClosed)), v1.ReasonUnsupportedState)
				msg := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled).Message
				Expect(msg).To(ContainSubstring("does not support state: closed"))
				Expect(msg).To(ContainSubstring("Cancel (from "))
				reconcileAgain(o)
				Expect(env.Sim.Calls(id)).To(BeEmpty())
			})
		}
		for _, vendor := range vendorsWithout(providers.ActionReverify) {
			It("refuses a reverification on "+vendor+" with UnsupportedState and no vendor call", func() {
				env := startVendor(vendor, nil)
				id := env.vendorOrder(env.Completed)
				o := expectStalled(env.order("", reverification(id, "report-1")), v1.ReasonUnsupportedState)
				Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled).Message).To(ContainSubstring("does not support reverification"))
				reconcileAgain(o)
				Expect(env.Sim.Calls(id)).To(BeEmpty())
			})
		}
	})

	Context("Truework reverification", func() {
		var (
			env *vendorEnv
			sim *truework.Server
		)
		BeforeEach(func() {
			env = startVendor("truework", nil)
			sim = env.Sim.(*truework.Server)
		})
		completedRequest := func() (requestID, reportID string) {
			GinkgoHelper()
			order := env.vendorOrder("completed")
			requestID = sim.RequestIDs(order)[0]
			return requestID, sim.ReportID(requestID)
		}

		It("reverifies once, records the new request, and can then cancel it", func() {
			req, report := completedRequest()
			o := expectReady(env.order("", reverification(req, report)), v1.ReasonConverged)
			Expect(sim.Reverifications(req)).To(HaveLen(1))
			newID := sim.Reverifications(req)[0]
			Expect(o.Status.OrderID).To(Equal(newID))
			Expect(o.Status.VendorState).To(Equal("pending-approval"))
			Expect(o.Status.LastAppliedAction).To(BeEquivalentTo("Reverify"))

			Eventually(func() error {
				latest := fetch(o)
				latest.Spec.State = v1.DesiredCanceled
				return k8s.Update(ctx(), latest)
			}).Should(Succeed())
			o = expectReady(o, v1.ReasonConverged)
			Expect(o.Status.State).To(BeEquivalentTo("canceled"))
			Expect(env.vendorState(newID)).To(Equal("canceled"))
			reconcileAgain(o)
			Expect(sim.Reverifications(req)).To(HaveLen(1))
		})

		It("reverifies on an account whose budget allows one call at a time", func() {
			// Each reconcile has one call: the one that read the request
			// must leave the next one to the reverify, not read it again.
			env.updateProvider(func(p *v1.VerificationProvider) { p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 1, Burst: 1} })
			req, report := completedRequest()
			o := expectReady(env.order("", reverification(req, report)), v1.ReasonConverged)
			Expect(sim.Reverifications(req)).To(HaveLen(1))
			Expect(o.Status.OrderID).To(Equal(sim.Reverifications(req)[0]))
		})

		It("refuses a request completed more than 90 days ago, without calling reverify", func() {
			// Complete the request 91 days ago on the vendor's clock, which
			// then agrees with the operator's again.
			sim.Clock.Advance(-91 * 24 * time.Hour)
			req, report := completedRequest()
			sim.Clock.Advance(91 * 24 * time.Hour)
			o := expectStalled(env.order("", reverification(req, report)), v1.ReasonReverificationWindowClosed)
			Expect(o.Status.OrderID).To(BeEmpty())
			reconcileAgain(o)
			Expect(sim.Reverifications(req)).To(BeEmpty())
		})

		It("refuses a request that is not completed, without calling reverify", func() {
			order := env.vendorOrder("processing")
			req := sim.RequestIDs(order)[0]
			o := expectStalled(env.order("", reverification(req, "no-report")), v1.ReasonNotReverifiable)
			reconcileAgain(o)
			Expect(sim.Reverifications(req)).To(BeEmpty())
		})

		It("calls reverify at most once when the process dies before recording the result", func() {
			req, report := completedRequest()
			o := env.order("", reverification(req, report), isolated)
			key := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)}

			// First life: the vendor answers 201, then the status write
			// that would record the new id fails, as if the process died.
			crashing := newIsolatedReconciler(&failResultWrites{Client: k8s})
			_, err := crashing.Reconcile(ctx(), key)
			Expect(err).To(MatchError(ContainSubstring("simulated crash")))
			Expect(sim.Reverifications(req)).To(HaveLen(1))
			Expect(fetch(o).Status.ReverificationRequestedTime).NotTo(BeNil(), "the intent was recorded before the call")
			Expect(fetch(o).Status.OrderID).To(BeEmpty(), "the result was lost")

			// Second life: a fresh reconciler with an empty client cache.
			restarted := newIsolatedReconciler(k8s)
			Eventually(func() *v1.VerificationOrder {
				_, err := restarted.Reconcile(ctx(), key)
				Expect(err).NotTo(HaveOccurred())
				return fetch(o)
			}).Should(HaveField("Status.OrderID", sim.Reverifications(req)[0]))
			expectReady(o, v1.ReasonConverged)
			for range 3 {
				_, err := restarted.Reconcile(ctx(), key)
				Expect(err).NotTo(HaveOccurred())
			}
			Expect(sim.Reverifications(req)).To(HaveLen(1), "reverify was called again")
		})

		It("waits for a recent intent to settle, then reverifies when it never reached the vendor", func() {
			req, report := completedRequest()
			o := env.order("", reverification(req, report), isolated)
			// An intent with no call behind it: the process died between
			// recording the intent and calling the vendor.
			recorded := time.Now()
			Eventually(func() error {
				latest := fetch(o)
				latest.Status.ReverificationRequestedTime = &metav1.Time{Time: recorded}
				return k8s.Status().Update(ctx(), latest)
			}).Should(Succeed())
			r := newIsolatedReconciler(k8s)
			clock := clocktesting.NewFakeClock(recorded.Add(time.Minute)) // within the settle time: it may still be in flight
			r.Connector.Clients.Budgets.Clock = clock
			res, err := r.Reconcile(ctx(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
			Expect(err).NotTo(HaveOccurred())
			Expect(res.RequeueAfter).To(BeNumerically("~", 90*time.Second, time.Second), "looks again when the intent has settled")
			Expect(sim.Reverifications(req)).To(BeEmpty(), "no second call while the first may be in flight")
			expectCondition(o, v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonReverifying)

			clock.SetTime(recorded.Add(3 * time.Minute))
			Eventually(func() string {
				_, err := r.Reconcile(ctx(), ctrl.Request{NamespacedName: client.ObjectKeyFromObject(o)})
				Expect(err).NotTo(HaveOccurred())
				return fetch(o).Status.OrderID
			}).ShouldNot(BeEmpty())
			Expect(sim.Reverifications(req)).To(HaveLen(1))
			Expect(fetch(o).Status.OrderID).To(Equal(sim.Reverifications(req)[0]))
		})
	})
})

// vendorsWithout names the simulated vendors that lack action.
func vendorsWithout(action providers.Action) []string {
	var names []string
	for _, sim := range simulators.All() {
		if v, err := registry.Default().Get(sim.Name); err == nil && !v.Capabilities.Supports(action) {
			names = append(names, sim.Name)
		}
	}
	Expect(names).NotTo(BeEmpty())
	return names
}

func reverification(requestID, reportID string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		o.Spec.OrderID = ""
		o.Spec.Reverification = &v1.Reverification{VerificationRequestID: requestID, ReportID: reportID}
	}
}

// isolated hides an order from the suite's manager, so only the test's own
// reconciler acts on it.
func isolated(o *v1.VerificationOrder) {
	if o.Labels == nil {
		o.Labels = map[string]string{}
	}
	o.Labels[isolatedLabel] = "true"
}

func newIsolatedReconciler(c client.Client) *order.Reconciler {
	r := &order.Reconciler{
		Client:    c,
		Claims:    scanClaims(c),
		Connector: &connection.Connector{Cached: c, Live: k8s, Registry: registry.Default(), Clients: &connection.ClientCache{}},
		Recorder:  events.NewFakeRecorder(100),
	}
	r.Backoff = workqueueBackoff()
	return r
}

// scanClaims answers the claims through c, which reads the API server
// and so has no claims index: it lists every order and keeps those that
// claim key.
func scanClaims(c client.Reader) index.Claims {
	return func(ctx context.Context, key string) ([]v1.VerificationOrder, error) {
		var list v1.VerificationOrderList
		if err := c.List(ctx, &list); err != nil {
			return nil, err
		}
		var claimants []v1.VerificationOrder
		for _, o := range list.Items {
			if slices.Contains(index.ClaimKeys(&o), key) {
				claimants = append(claimants, o)
			}
		}
		return claimants, nil
	}
}

// failWritesOnceVendorMoved fails every status write once moved says the
// vendor applied the call: a crash right after the vendor's answer.
type failWritesOnceVendorMoved struct {
	client.Client
	moved func() bool
}

func (f *failWritesOnceVendorMoved) Status() client.SubResourceWriter {
	return movedStatus{f.Client.Status(), f.moved}
}

type movedStatus struct {
	client.SubResourceWriter
	moved func() bool
}

func (s movedStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if s.moved() {
		return errors.New("simulated crash: status write lost")
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}

// failResultWrites fails every status write that records a reverification's
// result, which is where a crash after the vendor's 201 would lose it.
type failResultWrites struct{ client.Client }

func (f *failResultWrites) Status() client.SubResourceWriter {
	return failingStatus{f.Client.Status()}
}

type failingStatus struct{ client.SubResourceWriter }

func (s failingStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	if o, ok := obj.(*v1.VerificationOrder); ok && o.Status.OrderID != "" {
		return errors.New("simulated crash: status write lost")
	}
	return s.SubResourceWriter.Update(ctx, obj, opts...)
}
