package retention

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var finishedAt = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// finishedOrder is an order the order reconciler found completed, with
// state active wanted: Ready=True Watching for its generation.
func finishedOrder(changes ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	o := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: "lending", Name: "loan-1", Generation: 2},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "truework"}, OrderID: "o-1"},
		Status: v1.VerificationOrderStatus{ObservedGeneration: 2, OrderID: "o-1", VendorState: "completed", State: "completed",
			LastObservedTime: &metav1.Time{Time: finishedAt}},
	}
	setCondition(o, v1.ConditionReady, metav1.ConditionTrue, v1.ReasonWatching)
	setCondition(o, v1.ConditionSynced, metav1.ConditionTrue, v1.ReasonSynced)
	for _, change := range changes {
		change(o)
	}
	return o
}

func setCondition(o *v1.VerificationOrder, t string, s metav1.ConditionStatus, reason v1.Reason) {
	meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: t, Status: s, Reason: string(reason), ObservedGeneration: o.Generation})
}

func state(s v1.ObservedState) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { o.Status.State = s }
}

func condition(t string, s metav1.ConditionStatus, reason v1.Reason) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { setCondition(o, t, s, reason) }
}

// stalledFor is an order stalled for reason: Ready=False and Stalled=True.
func stalledFor(reason v1.Reason) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		setCondition(o, v1.ConditionReady, metav1.ConditionFalse, reason)
		setCondition(o, v1.ConditionStalled, metav1.ConditionTrue, reason)
	}
}

func TestFinished(t *testing.T) {
	for _, c := range []struct {
		name    string
		changes []func(*v1.VerificationOrder)
		want    bool
	}{
		{name: "completed at the vendor, state active watching it", want: true},
		{name: "canceled as wanted", changes: []func(*v1.VerificationOrder){state("canceled"), condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)}, want: true},
		{name: "closed as wanted", changes: []func(*v1.VerificationOrder){state("closed"), condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)}, want: true},
		{name: "expired at the vendor", changes: []func(*v1.VerificationOrder){state("expired")}, want: true},
		{name: "failed at the vendor", changes: []func(*v1.VerificationOrder){state("failed")}, want: true},
		{name: "the vendor ended it otherwise than wanted (AlreadyTerminal)", changes: []func(*v1.VerificationOrder){stalledFor(v1.ReasonAlreadyTerminal)}, want: true},

		{name: "active", changes: []func(*v1.VerificationOrder){state("active"), condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonConverged)}},
		{name: "never observed", changes: []func(*v1.VerificationOrder){state(""), func(o *v1.VerificationOrder) { o.Status.LastObservedTime = nil }}},
		{name: "no time of observation", changes: []func(*v1.VerificationOrder){func(o *v1.VerificationOrder) { o.Status.LastObservedTime = nil }}},
		{name: "no vendor order id", changes: []func(*v1.VerificationOrder){func(o *v1.VerificationOrder) { o.Status.OrderID = "" }}},
		{name: "no conditions", changes: []func(*v1.VerificationOrder){func(o *v1.VerificationOrder) { o.Status.Conditions = nil }}},
		{name: "a spec change not yet looked at", changes: []func(*v1.VerificationOrder){func(o *v1.VerificationOrder) { o.Generation = 3 }}},
		{name: "canceling", changes: []func(*v1.VerificationOrder){state("active"),
			condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonCanceling), condition(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonCanceling)}},
		{name: "terminal, but a retry under way (Reconciling)", changes: []func(*v1.VerificationOrder){
			condition(v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonReconcileError), condition(v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonReconcileError)}},
		{name: "terminal, but paused (Synced=False)", changes: []func(*v1.VerificationOrder){condition(v1.ConditionSynced, metav1.ConditionFalse, v1.ReasonPaused)}},
		{name: "terminal, read as ObserveOnly", changes: []func(*v1.VerificationOrder){condition(v1.ConditionReady, metav1.ConditionTrue, v1.ReasonObserveOnly)}},
		{name: "Ready=True beside a Stalled", changes: []func(*v1.VerificationOrder){condition(v1.ConditionStalled, metav1.ConditionTrue, v1.ReasonOrderClaimed)}},
		{name: "AlreadyTerminal in Ready without Stalled", changes: []func(*v1.VerificationOrder){condition(v1.ConditionReady, metav1.ConditionFalse, v1.ReasonAlreadyTerminal)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			at, ok := Finished(finishedOrder(c.changes...))
			if ok != c.want {
				t.Fatalf("finished: %v, want %v", ok, c.want)
			}
			if ok && !at.Equal(finishedAt) {
				t.Errorf("finished at %s, want status.lastObservedTime %s", at, finishedAt)
			}
		})
	}
	// Terminal at the vendor as last recorded, and stalled since for any
	// other reason: never finished.
	for _, reason := range []v1.Reason{v1.ReasonCredentialsRejected, v1.ReasonProviderNotReady, v1.ReasonProviderNotAllowed,
		v1.ReasonUnsupportedState, v1.ReasonOrderNotFound, v1.ReasonOrderClaimed, v1.ReasonLegalHold, v1.ReasonSignatureInvalid,
		v1.ReasonVendorRejectedRequest, v1.ReasonVendorRedirected, v1.ReasonIllegalTransition, v1.ReasonVendorIgnoredAction,
		v1.ReasonReverificationOutcomeUnknown, v1.ReasonNotReverifiable, v1.ReasonReverificationWindowClosed} {
		if _, ok := Finished(finishedOrder(stalledFor(reason))); ok {
			t.Errorf("stalled with %s: finished", reason)
		}
	}
}

func TestFinalReason(t *testing.T) {
	if got := FinalReason(finishedOrder(stalledFor(v1.ReasonAlreadyTerminal))); got != v1.ReasonAlreadyTerminal {
		t.Errorf("got %q", got)
	}
	if got := FinalReason(&v1.VerificationOrder{}); got != "" {
		t.Errorf("no Ready: got %q", got)
	}
}

func TestPolicyFor(t *testing.T) {
	ttl := func(seconds int32) func(*v1.VerificationOrder) {
		return func(o *v1.VerificationOrder) { o.Spec.TTLSecondsAfterFinished = ptr.To(seconds) }
	}
	annotated := func(k, v string) func(*v1.VerificationOrder) {
		return func(o *v1.VerificationOrder) { o.Annotations = map[string]string{k: v} }
	}
	labeled := func(k, v string) func(*v1.VerificationOrder) {
		return func(o *v1.VerificationOrder) { o.Labels = map[string]string{k: v} }
	}
	retention := func(seconds *int32, gitops bool) *v1.VerificationProviderSpec {
		return &v1.VerificationProviderSpec{Vendor: v1.VendorTruework,
			Retention: &v1.Retention{TTLSecondsAfterFinished: seconds, PruneGitOpsManaged: gitops}}
	}
	hour, zero := ptr.To[int32](3600), ptr.To[int32](0)
	for _, c := range []struct {
		name     string
		order    func(*v1.VerificationOrder)
		provider *v1.VerificationProviderSpec
		want     Policy
	}{
		{name: "no retention anywhere: kept, as before retention", provider: &v1.VerificationProviderSpec{}, want: Policy{Keep: KeepNoTTL}},
		{name: "a retention without a TTL", provider: retention(nil, true), want: Policy{Keep: KeepNoTTL}},
		{name: "the provider unknown, the order without a TTL", want: Policy{Keep: KeepNoTTL}},
		{name: "the provider's TTL", provider: retention(hour, false), want: Policy{TTL: time.Hour, From: FromProvider}},
		{name: "the provider's 0: at once", provider: retention(zero, false), want: Policy{From: FromProvider}},
		{name: "the order's TTL overrides the provider's", order: ttl(60), provider: retention(hour, false), want: Policy{TTL: time.Minute, From: FromOrder}},
		{name: "the order's 0 overrides the provider's", order: ttl(0), provider: retention(hour, false), want: Policy{From: FromOrder}},
		{name: "the order's TTL where the provider has none", order: ttl(60), provider: &v1.VerificationProviderSpec{}, want: Policy{TTL: time.Minute, From: FromOrder}},
		{name: "the order's TTL, the provider unknown", order: ttl(60), want: Policy{TTL: time.Minute, From: FromOrder}},
		{name: "retain exempts", order: annotated(v1.RetainAnnotation, "true"), provider: retention(zero, true), want: Policy{Keep: KeepRetained}},
		{name: "retain exempts from the order's own TTL", order: func(o *v1.VerificationOrder) { ttl(0)(o); annotated(v1.RetainAnnotation, "true")(o) },
			provider: retention(zero, true), want: Policy{Keep: KeepRetained}},
		{name: "retain other than \"true\" does not", order: annotated(v1.RetainAnnotation, "yes"), provider: retention(zero, false), want: Policy{From: FromProvider}},
		{name: "paused keeps", order: annotated(v1.PausedAnnotation, "true"), provider: retention(zero, true), want: Policy{Keep: KeepPaused}},
		{name: "Argo CD, annotation tracking", order: annotated(ArgoCDTrackingAnnotation, "app:verification.ordersync.dev/VerificationOrder:lending/loan-1"),
			provider: retention(zero, false), want: Policy{Keep: "Argo CD manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "Argo CD, label tracking", order: labeled(InstanceLabel, "lending"), provider: retention(zero, false),
			want: Policy{Keep: "Argo CD manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "Argo CD, its suggested label", order: labeled(ArgoCDInstanceLabel, "lending"), provider: retention(zero, false),
			want: Policy{Keep: "Argo CD manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "Flux Kustomization", order: labeled(FluxKustomizationLabel, "lending"), provider: retention(zero, false),
			want: Policy{Keep: "Flux manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "Flux HelmRelease", order: labeled(FluxHelmReleaseLabel, "lending"), provider: retention(zero, false),
			want: Policy{Keep: "Flux manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "GitOps-managed with its own TTL: still the provider's opt-in", order: func(o *v1.VerificationOrder) { ttl(0)(o); labeled(FluxKustomizationLabel, "x")(o) },
			provider: retention(nil, false), want: Policy{Keep: "Flux manages it and the provider's spec.retention.pruneGitOpsManaged is false"}},
		{name: "GitOps-managed, the provider opts in", order: labeled(FluxKustomizationLabel, "lending"), provider: retention(hour, true), want: Policy{TTL: time.Hour, From: FromProvider}},
		{name: "a GitOps-managed reverification, even opted in", order: func(o *v1.VerificationOrder) {
			labeled(FluxKustomizationLabel, "lending")(o)
			o.Spec.OrderID, o.Spec.Reverification = "", &v1.Reverification{VerificationRequestID: "r-1", ReportID: "rep-1"}
		}, provider: retention(zero, true), want: Policy{Keep: "Flux manages it, and a spec.reverification created again searches the vendor for the one it bought (several calls) before it may buy another"}},
		{name: "a reverification nothing manages", order: func(o *v1.VerificationOrder) {
			o.Spec.OrderID, o.Spec.Reverification = "", &v1.Reverification{VerificationRequestID: "r-1", ReportID: "rep-1"}
		}, provider: retention(zero, true), want: Policy{From: FromProvider}},
		{name: "GitOps-managed, no TTL", order: labeled(FluxKustomizationLabel, "lending"), provider: retention(nil, true), want: Policy{Keep: KeepNoTTL}},
		{name: "an empty GitOps mark is none", order: labeled(InstanceLabel, ""), provider: retention(zero, false), want: Policy{From: FromProvider}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := finishedOrder()
			if c.order != nil {
				c.order(o)
			}
			got := PolicyFor(o, c.provider)
			if got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
			if got.Prunes() != (c.want.Keep == "") {
				t.Errorf("Prunes: %v", got.Prunes())
			}
		})
	}
}
