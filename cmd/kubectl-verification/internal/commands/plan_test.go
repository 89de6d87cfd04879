package commands

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// mixedOrders creates, in a new namespace, one order of each kind a plan
// tells apart, with the status the controller would have recorded.
func mixedOrders(t *testing.T) string {
	t.Helper()
	ns := newNamespace(t, "lending")
	createProvider(t, ns, "truework", v1.VendorTruework)
	createProvider(t, ns, "accountchek", v1.VendorAccountChek)

	o := createOrder(t, ns, "loan-4411-employment", "truework", "8f3c21d0-0a3e-4b6c-9d1e-7f00aa11bb22", v1.DesiredCanceled)
	record(t, o, observed("processing", "active"), ready(metav1.ConditionFalse, v1.ReasonCanceling, "The order is processing at truework; canceling it."))

	o = createOrder(t, ns, "loan-4412-assets", "accountchek", "AC-20931", v1.DesiredClosed)
	record(t, o, observed("opened", "active"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is active at accountchek (opened)."))

	o = createOrder(t, ns, "loan-4413-reverify", "truework", "", v1.DesiredActive, func(o *v1.VerificationOrder) {
		o.Spec.Reverification = &v1.Reverification{VerificationRequestID: "vr-5521", ReportID: "rp-5521"}
	})
	record(t, o, func(o *v1.VerificationOrder) {
		o.Status.LastObservedTime, o.Status.PlannedAction = observedAt.DeepCopy(), v1.Action("Reverify")
	}, ready(metav1.ConditionFalse, v1.ReasonReverifying, "Request vr-5521 is completed; reverifying it at truework."))

	o = createOrder(t, ns, "loan-4414-employment", "truework", "tw-31f0", v1.DesiredCanceled)
	record(t, o, observed("canceled", "canceled"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is canceled at truework."))

	o = createOrder(t, ns, "loan-4415-employment", "truework", "tw-77aa", v1.DesiredCanceled)
	record(t, o, observed("completed", "completed"), stalled(v1.ReasonAlreadyTerminal,
		"Wanted canceled, but truework had already ended the order as completed (completed); no action can change a terminal order. Set state to match or delete this object."))

	createOrder(t, ns, "loan-4416-income", "truework", "tw-9c2e", v1.DesiredCanceled)

	o = createOrder(t, ns, "loan-4417-income", "accountchek", "AC-20950", v1.DesiredCanceled, func(o *v1.VerificationOrder) {
		o.Annotations = map[string]string{v1.PausedAnnotation: "true"}
	})
	record(t, o, observed("building", "active"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is active at accountchek (building)."))
	return ns
}

func TestPlanShowsWhatTheOperatorWillDo(t *testing.T) {
	ns := mixedOrders(t)
	r := plugin("plan", "-n", ns)
	t.Logf("plan -n %s:\n%s", ns, r.stdout)
	want := strings.ReplaceAll(`~ NS/loan-4411-employment: cancel (truework order 8f3c21d0-0a3e-4b6c-9d1e-7f00aa11bb22, observed processing (active))
~ NS/loan-4412-assets: close (accountchek order AC-20931, observed opened (active))
~ NS/loan-4413-reverify: reverify (truework request vr-5521, report rp-5521)
? NS/loan-4416-income: pending (truework order tw-9c2e, wants canceled): not observed yet
! NS/loan-4415-employment: Stalled AlreadyTerminal: Wanted canceled, but truework had already ended the order as completed (completed); no action can change a terminal order. Set state to match or delete this object.
! NS/loan-4417-income: Paused: annotation verification.ordersync.dev/paused is "true": no vendor calls are made; it would cancel once it is removed.

Plan: 1 to cancel, 1 to close, 1 to reverify, 2 blocked, 1 pending, 1 unchanged.
`, "NS", ns)
	if r.code != 0 || r.stdout != want || r.stderr != "" {
		t.Errorf("plan -n %s: exit %d\n%s\nwant:\n%s\nstderr: %s", ns, r.code, r.stdout, want, r.stderr)
	}

	r = plugin("plan", "-n", ns, "-v", "--detailed-exitcode")
	converged := fmt.Sprintf("  %s/loan-4414-employment: Converged: The order is canceled at truework.\n\nPlan:", ns)
	if r.code != 2 || !strings.Contains(r.stdout, converged) {
		t.Errorf("plan -v --detailed-exitcode: exit %d (want 2), output without %q:\n%s%s", r.code, converged, r.stdout, r.stderr)
	}
}

func TestPlanDetailedExitCodeWithoutChanges(t *testing.T) {
	ns := newNamespace(t, "quiet")
	createProvider(t, ns, "truework", v1.VendorTruework)
	o := createOrder(t, ns, "done", "truework", "tw-1", v1.DesiredCanceled)
	record(t, o, observed("canceled", "canceled"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is canceled at truework."))
	r := plugin("plan", "-n", ns, "--detailed-exitcode")
	if r.code != 0 || r.stdout != "Plan: 0 to cancel, 0 to close, 0 to reverify, 0 blocked, 1 unchanged.\n" {
		t.Errorf("exit %d, output %q", r.code, r.stdout)
	}
}

// keys are the namespace/name of each order a plan lists.
func keys(planOutput string) []string {
	var out []string
	for line := range strings.Lines(planOutput) {
		if k, _, ok := strings.Cut(line[min(2, len(line)):], ": "); ok && !strings.HasPrefix(line, "Plan:") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func TestPlanSelectsOrders(t *testing.T) {
	ns, other := newNamespace(t, "select"), newNamespace(t, "select")
	run := ns // a label value no other test's orders carry, for -A
	for _, n := range []string{ns, other} {
		createProvider(t, n, "truework", v1.VendorTruework)
		createProvider(t, n, "truv", v1.VendorTruv)
	}
	createOrder(t, ns, "a-truework", "truework", "tw-1", v1.DesiredCanceled, labeled(map[string]string{"team": "a", "run": run}))
	createOrder(t, ns, "a-truv", "truv", "tv-1", v1.DesiredCanceled, labeled(map[string]string{"team": "a", "run": run}))
	createOrder(t, ns, "b-truework", "truework", "tw-2", v1.DesiredCanceled, labeled(map[string]string{"team": "b", "run": run}))
	createOrder(t, other, "a-elsewhere", "truework", "tw-3", v1.DesiredCanceled, labeled(map[string]string{"team": "a", "run": run}))

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"-n", ns}, []string{ns + "/a-truework", ns + "/a-truv", ns + "/b-truework"}},
		{[]string{"-n", ns, "-l", "team=a"}, []string{ns + "/a-truework", ns + "/a-truv"}},
		{[]string{"-n", ns, "--provider", "truework"}, []string{ns + "/a-truework", ns + "/b-truework"}},
		{[]string{"-A", "-l", "run=" + run + ",team=a"}, []string{ns + "/a-truework", ns + "/a-truv", other + "/a-elsewhere"}},
		{[]string{"-A", "-l", "run=" + run, "--provider", "truv"}, []string{ns + "/a-truv"}},
		{[]string{"-n", ns, "b-truework", "a-truv"}, []string{ns + "/a-truv", ns + "/b-truework"}},
	} {
		r := plugin(append([]string{"plan"}, tc.args...)...)
		if got := keys(r.stdout); r.code != 0 || !slices.Equal(got, tc.want) {
			t.Errorf("plan %s: exit %d, orders %q, want %q\n%s%s", strings.Join(tc.args, " "), r.code, got, tc.want, r.stdout, r.stderr)
		}
	}

	r := plugin("plan", "-n", ns, "a-truework", "nope")
	if r.code != 1 || !strings.Contains(r.stderr, `no VerificationOrder nope in namespace "`+ns+`"`) {
		t.Errorf("plan of a missing order: exit %d, stderr %q", r.code, r.stderr)
	}
	r = plugin("plan", "-A", "a-truework")
	if r.code != 1 || !strings.Contains(r.stderr, "order names need one namespace") {
		t.Errorf("plan -A NAME: exit %d, stderr %q", r.code, r.stderr)
	}
}
