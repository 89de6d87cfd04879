package overview

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers/registry"
)

func metaDuration(d time.Duration) *metav1.Duration { return &metav1.Duration{Duration: d} }

func readyCondition(status metav1.ConditionStatus, reason v1.Reason) []metav1.Condition {
	return []metav1.Condition{{Type: v1.ConditionReady, Status: status, Reason: string(reason)}}
}

func TestProviderRows(t *testing.T) {
	provider := func(vendor v1.Vendor, mod func(*v1.VerificationProvider)) v1.VerificationProvider {
		p := v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: string(vendor)},
			Spec: v1.VerificationProviderSpec{Vendor: vendor, PollInterval: metaDuration(5 * time.Minute), PollBudgetPercent: ptr.To[int32](50)}}
		mod(&p)
		return p
	}
	for _, tc := range []struct {
		name string
		p    v1.VerificationProvider
		want ProviderRow
	}{
		{"the vendor's published rate; polls fit", provider("truv", func(p *v1.VerificationProvider) {
			p.Status.Conditions = readyCondition(metav1.ConditionTrue, v1.ReasonCredentialsValid)
			p.Status.Orders, p.Status.EffectivePollInterval = 4, metaDuration(5*time.Minute)
		}), ProviderRow{Namespace: "ns", Name: "truv", Vendor: "truv", Ready: "True", Reason: "CredentialsValid",
			Limits: &budget.Limits{RequestsPerSecond: 5, Burst: 10, PollShare: 0.5}, PollBudgetPercent: 50, Orders: 4,
			Poll: 5 * time.Minute, Effective: 5 * time.Minute}},
		{"spec.rateLimit, burst defaulting to the rate; polls stretched", provider("truework", func(p *v1.VerificationProvider) {
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 3}
			p.Status.Orders, p.Status.EffectivePollInterval = 900, metaDuration(25*time.Minute)
		}), ProviderRow{Namespace: "ns", Name: "truework", Vendor: "truework",
			Limits: &budget.Limits{RequestsPerSecond: 3, Burst: 3, PollShare: 0.5}, PollBudgetPercent: 50, Orders: 900,
			Poll: 5 * time.Minute, Effective: 25 * time.Minute, Stretched: true}},
		{"retention: a TTL, GitOps-managed orders too; finished orders held", provider("truework", func(p *v1.VerificationProvider) {
			p.Spec.Retention = &v1.Retention{TTLSecondsAfterFinished: ptr.To[int32](86400), PruneGitOpsManaged: true}
			p.Status.FinishedOrders = 12
		}), ProviderRow{Namespace: "ns", Name: "truework", Vendor: "truework",
			Limits: &budget.Limits{RequestsPerSecond: 10, Burst: 10, PollShare: 0.5}, PollBudgetPercent: 50, Poll: 5 * time.Minute,
			TTLSecondsAfterFinished: ptr.To[int32](86400), PruneGitOpsManaged: true, FinishedOrders: 12}},
		{"retention without a TTL keeps them", provider("truework", func(p *v1.VerificationProvider) {
			p.Spec.Retention = &v1.Retention{PruneGitOpsManaged: true}
			p.Status.FinishedOrders = 3
		}), ProviderRow{Namespace: "ns", Name: "truework", Vendor: "truework",
			Limits: &budget.Limits{RequestsPerSecond: 10, Burst: 10, PollShare: 0.5}, PollBudgetPercent: 50, Poll: 5 * time.Minute,
			PruneGitOpsManaged: true, FinishedOrders: 3}},
		{"its account held to another provider's stricter limits", provider("truework", func(p *v1.VerificationProvider) {
			p.Spec.RateLimit = &v1.RateLimit{RequestsPerSecond: 1000, MaxInFlight: 20}
			p.Status.Conditions = append(readyCondition(metav1.ConditionTrue, v1.ReasonCredentialsValid), metav1.Condition{
				Type: v1.ConditionLimitsApplied, Status: metav1.ConditionFalse, Reason: string(v1.ReasonAccountLimitsDiffer), Message: "held to 10"})
		}), ProviderRow{Namespace: "ns", Name: "truework", Vendor: "truework", Ready: "True", Reason: "CredentialsValid",
			Limits:        &budget.Limits{RequestsPerSecond: 1000, Burst: 1000, MaxInFlight: 20, PollShare: 0.5},
			LimitsApplied: "False", LimitsReason: "AccountLimitsDiffer", LimitsMessage: "held to 10",
			PollBudgetPercent: 50, Poll: 5 * time.Minute}},
		{"a vendor not built in; nothing recorded", provider("equifax", func(p *v1.VerificationProvider) {
			p.Spec.PollInterval, p.Spec.PollBudgetPercent = nil, nil
			p.Status.Conditions = readyCondition(metav1.ConditionFalse, v1.ReasonUnknownVendor)
		}), ProviderRow{Namespace: "ns", Name: "equifax", Vendor: "equifax", Ready: "False", Reason: "UnknownVendor"}},
	} {
		got := Build([]v1.VerificationProvider{tc.p}, nil, registry.Default()).Providers
		if diff := cmp.Diff([]ProviderRow{tc.want}, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tc.name, diff)
		}
	}
}

func TestOrderCounts(t *testing.T) {
	order := func(name, provider string, state v1.ObservedState, conditions ...metav1.Condition) v1.VerificationOrder {
		return v1.VerificationOrder{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: name},
			Spec:   v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: provider}},
			Status: v1.VerificationOrderStatus{State: state, Conditions: conditions}}
	}
	converged := metav1.Condition{Type: v1.ConditionReady, Status: "True", Reason: string(v1.ReasonConverged)}
	stalledBy := func(reason v1.Reason) []metav1.Condition {
		return []metav1.Condition{
			{Type: v1.ConditionReady, Status: "False", Reason: string(reason)},
			{Type: v1.ConditionStalled, Status: "True", Reason: string(reason)},
		}
	}
	orders := make([]v1.VerificationOrder, 0, 10)
	for _, name := range []string{"i5", "i2", "i4", "i1", "i3"} {
		orders = append(orders, order(name, "accountchek", "active", stalledBy(v1.ReasonIllegalTransition)...))
	}
	orders = append(orders,
		order("a1", "truv", "active", converged), order("a2", "truv", "active", converged),
		order("w1", "truework", "canceled", converged),
		order("t1", "truework", "completed", stalledBy(v1.ReasonAlreadyTerminal)...),
		order("n1", "truework", ""),
		order("s1", "truework", "", stalledBy(v1.ReasonOrderNotFound)...),
	)
	ov := Build(nil, orders, registry.Default())
	wantGroups := []OrderGroup{
		{"ns", "accountchek", "active", "False", "IllegalTransition", 5},
		{"ns", "truework", "", "", "", 1},
		{"ns", "truework", "", "False", "OrderNotFound", 1},
		{"ns", "truework", "canceled", "True", "Converged", 1},
		{"ns", "truework", "completed", "False", "AlreadyTerminal", 1},
		{"ns", "truv", "active", "True", "Converged", 2},
	}
	if diff := cmp.Diff(wantGroups, ov.Orders); diff != "" {
		t.Errorf("order groups (-want +got):\n%s", diff)
	}
	// The most common reason first, then by name.
	wantStalls := []StallGroup{
		{"IllegalTransition", []string{"ns/i1", "ns/i2", "ns/i3", "ns/i4", "ns/i5"}},
		{"AlreadyTerminal", []string{"ns/t1"}},
		{"OrderNotFound", []string{"ns/s1"}},
	}
	if diff := cmp.Diff(wantStalls, ov.Stalls); diff != "" {
		t.Errorf("stalls (-want +got):\n%s", diff)
	}
	var b strings.Builder
	if err := ov.Render(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"IllegalTransition  5      ns/i1, ns/i2, ns/i3 and 2 more\n", "OrderNotFound      1      ns/s1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Render does not show %q:\n%s", want, b.String())
		}
	}
}

func TestRetentionColumn(t *testing.T) {
	for _, tc := range []struct {
		row  ProviderRow
		want string
	}{
		{ProviderRow{}, "keep"},
		{ProviderRow{PruneGitOpsManaged: true}, "keep"},
		{ProviderRow{TTLSecondsAfterFinished: ptr.To[int32](0)}, "0s"},
		{ProviderRow{TTLSecondsAfterFinished: ptr.To[int32](90)}, "1m30s"},
		{ProviderRow{TTLSecondsAfterFinished: ptr.To[int32](86400), PruneGitOpsManaged: true}, "24h0m0s (GitOps too)"},
	} {
		if got := retention(tc.row); got != tc.want {
			t.Errorf("retention of %+v: %q, want %q", tc.row, got, tc.want)
		}
	}
}
