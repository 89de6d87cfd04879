package commands

import (
	"strings"
	"testing"
	"time"

	. "github.com/onsi/gomega"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
)

// refreshRequested waits until o carries a refresh annotation, and
// returns the time it names.
func refreshRequested(t *testing.T, o *v1.VerificationOrder) time.Time {
	t.Helper()
	var at time.Time
	NewWithT(t).Eventually(func(g Gomega) {
		value := latest(t, o).Annotations[cluster.RefreshAnnotation]
		var err error
		at, err = time.Parse(time.RFC3339Nano, value)
		g.Expect(err).NotTo(HaveOccurred(), "annotation %q", value)
	}, 30*time.Second, 20*time.Millisecond).Should(Succeed())
	return at
}

// observeAgain records a new observation, as the controller would after
// the refresh: the vendor now says vendorState.
func observeAgain(t *testing.T, o *v1.VerificationOrder, vendorState string, state v1.ObservedState, mods ...func(*v1.VerificationOrder)) {
	t.Helper()
	fresh := latest(t, o)
	fresh.Status.VendorState, fresh.Status.State = vendorState, state
	fresh.Status.LastObservedTime = &metav1.Time{Time: observedAt.Add(time.Hour)}
	record(t, fresh, mods...)
}

// orderBeingCanceled creates, in a new namespace, a truework order that
// wants canceled and was last observed processing, with extra status mods.
func orderBeingCanceled(t *testing.T, mods ...func(*v1.VerificationOrder)) (string, *v1.VerificationOrder) {
	t.Helper()
	ns := newNamespace(t, "refresh")
	createProvider(t, ns, "truework", v1.VendorTruework)
	o := createOrder(t, ns, "loan-1", "truework", "tw-1", v1.DesiredCanceled)
	record(t, o, append([]func(*v1.VerificationOrder){observed("processing", "active")}, mods...)...)
	return ns, o
}

func TestRefreshAnnotates(t *testing.T) {
	ns, o := orderBeingCanceled(t)
	done := createOrder(t, ns, "loan-2", "truework", "tw-2", v1.DesiredCanceled)
	record(t, done, observed("canceled", "canceled"))

	before := time.Now()
	r := plugin("refresh", "-n", ns)
	want := ns + "/loan-1: refresh requested\n" +
		ns + "/loan-2: refresh requested; not observed again (canceled: the controller does not read a finished order again)\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("refresh: exit %d\n%s%s\nwant:\n%s", r.code, r.stdout, r.stderr, want)
	}
	for _, order := range []*v1.VerificationOrder{o, done} {
		if at := refreshRequested(t, order); at.Before(before.Add(-time.Second)) {
			t.Errorf("%s: refresh requested at %s, before the command ran (%s)", order.Name, at, before)
		}
	}
	// A second refresh changes the annotation again, so it triggers another reconcile.
	first := latest(t, o).Annotations[cluster.RefreshAnnotation]
	if r := plugin("refresh", "-n", ns, "loan-1"); r.code != 0 || latest(t, o).Annotations[cluster.RefreshAnnotation] == first {
		t.Errorf("a second refresh left the annotation at %s (exit %d)", first, r.code)
	}
}

func TestRefreshWaitsForTheObservation(t *testing.T) {
	ns, o := orderBeingCanceled(t, ready(metav1.ConditionFalse, v1.ReasonCanceling, "canceling"))

	done := start("refresh", "-n", ns, "loan-1", "--wait")
	refreshRequested(t, o)
	select {
	case r := <-done:
		t.Fatalf("refresh --wait returned before the order was observed again: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	default:
	}
	observeAgain(t, o, "canceled", "canceled", ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is canceled at truework."))

	r := finished(t, done)
	want := ns + "/loan-1: refresh requested\n" + ns + "/loan-1: observed canceled (canceled) at " + observedAt.Add(time.Hour).Format(time.RFC3339) + "; Ready True Converged\n"
	if r.code != 0 || r.stdout != want {
		t.Errorf("refresh --wait: exit %d\n%s%s\nwant:\n%s", r.code, r.stdout, r.stderr, want)
	}
}

func TestRefreshWaitsForAChangedReadyCondition(t *testing.T) {
	ns, o := orderBeingCanceled(t, ready(metav1.ConditionFalse, v1.ReasonCanceling, "canceling"))

	done := start("refresh", "-n", ns, "loan-1", "--wait")
	refreshRequested(t, o)
	// The vendor could not be read: no new observation, but a new Ready.
	fresh := latest(t, o)
	record(t, fresh, stalled(v1.ReasonOrderNotFound, "truework has no order \"tw-1\" visible to these credentials."))

	if r := finished(t, done); r.code != 0 || !strings.Contains(r.stdout, "Ready False OrderNotFound") {
		t.Errorf("refresh --wait: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestRefreshWaitTimesOut(t *testing.T) {
	ns, _ := orderBeingCanceled(t)
	terminal := createOrder(t, ns, "loan-2", "truework", "tw-2", v1.DesiredCanceled)
	record(t, terminal, observed("canceled", "canceled"))

	r := plugin("refresh", "-n", ns, "--wait", "--timeout", "300ms")
	if r.code != 1 || r.stderr != ns+"/loan-1: not observed again within 300ms\n" {
		t.Errorf("refresh --wait with nobody observing: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Nothing to wait for: a terminal order is not read again.
	if r := plugin("refresh", "-n", ns, "loan-2", "--wait", "--timeout", "1h"); r.code != 0 {
		t.Errorf("refresh --wait of a terminal order: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestPlanRefreshPlansFromTheNewObservation(t *testing.T) {
	ns, o := orderBeingCanceled(t)

	if r := plugin("plan", "-n", ns); !strings.Contains(r.stdout, "Plan: 1 to cancel") {
		t.Fatalf("before the refresh, plan:\n%s%s", r.stdout, r.stderr)
	}
	done := start("plan", "-n", ns, "--refresh")
	refreshRequested(t, o)
	// Meanwhile the borrower's employer canceled the order at the vendor.
	observeAgain(t, o, "canceled", "canceled")

	r := finished(t, done)
	if want := "Plan: 0 to cancel, 0 to close, 0 to reverify, 0 blocked, 1 unchanged.\n"; r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("plan --refresh: exit %d\n%s%s\nwant:\n%s", r.code, r.stdout, r.stderr, want)
	}

	// Now terminal, loan-1 is not read again: the next refresh does not wait for it.
	unobserved := createOrder(t, ns, "loan-2", "truework", "tw-2", v1.DesiredCanceled)
	record(t, unobserved, observed("processing", "active"))
	r = plugin("plan", "-n", ns, "--refresh", "--timeout", "200ms")
	t.Logf("plan -n %s --refresh --timeout 200ms:\n%s%s", ns, r.stderr, r.stdout)
	warning := "warning: " + ns + "/loan-2 was not observed again within 200ms; planned from its last observation (" + observedAt.Format(time.RFC3339) + ")\n"
	if r.stderr != warning || !strings.Contains(r.stdout, "Plan: 1 to cancel") {
		t.Errorf("plan --refresh with nobody observing: want only the warning %q\n%s%s", warning, r.stdout, r.stderr)
	}
}

func TestRefreshWaitEndsForADeletedOrder(t *testing.T) {
	ns, o := orderBeingCanceled(t)
	done := start("refresh", "-n", ns, "loan-1", "--wait")
	refreshRequested(t, o)
	if err := k8s.Delete(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	if r := finished(t, done); r.code != 0 || r.stdout != ns+"/loan-1: refresh requested\n" {
		t.Errorf("refresh --wait of an order deleted meanwhile: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
