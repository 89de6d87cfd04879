// Package overview summarizes providers and orders for `kubectl
// verification status`: each provider's budget, whether its account is
// held to it, its poll interval and its retention, how many orders are in
// which state, and why the stalled ones are.
package overview

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers"
)

// Overview is what `status` shows. Values nobody recorded yet are zero
// (empty, 0, nil): each output says so its own way.
type Overview struct {
	Providers []ProviderRow
	Orders    []OrderGroup
	Stalls    []StallGroup
}

// ProviderRow is one provider.
type ProviderRow struct {
	Namespace, Name, Vendor string
	// Ready and Reason are its Ready condition's.
	Ready, Reason string
	// Limits is the request budget the provider declares (spec.rateLimit,
	// else the vendor's published limit); nil when the vendor is not built
	// in.
	Limits *budget.Limits
	// LimitsApplied, LimitsReason and LimitsMessage are its LimitsApplied
	// condition's: "True" when its vendor account is held to Limits;
	// "False" when another provider on the account declares stricter ones,
	// which the message names, with the limits in force.
	LimitsApplied, LimitsReason, LimitsMessage string
	// PollBudgetPercent is the share of Limits routine polls may use.
	PollBudgetPercent int32
	// Orders is how many orders the account polls (status.orders).
	Orders int32
	// Poll is spec.pollInterval; Effective is status.effectivePollInterval,
	// and Stretched says it is longer: the polls would not fit the budget.
	Poll, Effective time.Duration
	Stretched       bool
	// TTLSecondsAfterFinished is spec.retention.ttlSecondsAfterFinished:
	// nil when the provider keeps its finished orders.
	// PruneGitOpsManaged is spec.retention.pruneGitOpsManaged.
	TTLSecondsAfterFinished *int32
	PruneGitOpsManaged      bool
	// FinishedOrders is how many of its finished orders are still held
	// (status.finishedOrders).
	FinishedOrders int32
}

// OrderGroup counts the orders of one provider in one state and Ready
// condition.
type OrderGroup struct {
	Namespace, Provider, State, Ready, Reason string
	Count                                     int
}

// StallGroup counts the Stalled orders with one reason.
type StallGroup struct {
	Reason string
	// Orders are namespace/name, sorted.
	Orders []string
}

// Build summarizes providers and orders; registry gives each vendor's
// default rate limit.
func Build(provs []v1.VerificationProvider, orders []v1.VerificationOrder, registry providers.Registry) Overview {
	var ov Overview
	for i := range provs {
		ov.Providers = append(ov.Providers, providerRow(&provs[i], registry))
	}
	slices.SortFunc(ov.Providers, func(a, b ProviderRow) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	groups := map[OrderGroup]int{}
	stalls := map[string][]string{}
	for i := range orders {
		o := &orders[i]
		g := OrderGroup{Namespace: o.Namespace, Provider: cluster.ProviderOf(o).Name, State: string(o.Status.State)}
		if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c != nil {
			g.Ready, g.Reason = string(c.Status), c.Reason
		}
		groups[g]++
		if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled); c != nil && c.Status == metav1.ConditionTrue {
			stalls[c.Reason] = append(stalls[c.Reason], o.Namespace+"/"+o.Name)
		}
	}
	for _, g := range slices.SortedFunc(maps.Keys(groups), compareGroups) {
		g.Count = groups[g]
		ov.Orders = append(ov.Orders, g)
	}
	for reason, names := range stalls {
		slices.Sort(names)
		ov.Stalls = append(ov.Stalls, StallGroup{Reason: reason, Orders: names})
	}
	slices.SortFunc(ov.Stalls, func(a, b StallGroup) int {
		return cmp.Or(cmp.Compare(len(b.Orders), len(a.Orders)), cmp.Compare(a.Reason, b.Reason))
	})
	return ov
}

// TTL is how long after they finished the provider's orders are deleted;
// false when they are kept.
func (p ProviderRow) TTL() (time.Duration, bool) {
	if p.TTLSecondsAfterFinished == nil {
		return 0, false
	}
	return time.Duration(*p.TTLSecondsAfterFinished) * time.Second, true
}

func compareGroups(a, b OrderGroup) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Provider, b.Provider),
		cmp.Compare(a.State, b.State), cmp.Compare(a.Ready, b.Ready), cmp.Compare(a.Reason, b.Reason))
}

func providerRow(p *v1.VerificationProvider, registry providers.Registry) ProviderRow {
	row := ProviderRow{Namespace: p.Namespace, Name: p.Name, Vendor: string(p.Spec.Vendor), Orders: p.Status.Orders,
		PollBudgetPercent: ptr.Deref(p.Spec.PollBudgetPercent, 0), FinishedOrders: p.Status.FinishedOrders}
	if r := p.Spec.Retention; r != nil { // status says nothing of it: the spec is what applies
		row.PruneGitOpsManaged = r.PruneGitOpsManaged
		if r.TTLSecondsAfterFinished != nil {
			row.TTLSecondsAfterFinished = ptr.To(*r.TTLSecondsAfterFinished)
		}
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionReady); c != nil {
		row.Ready, row.Reason = string(c.Status), c.Reason
	}
	if vendor, err := registry.Get(row.Vendor); err == nil {
		// The budget as the controller reads the spec: spec.rateLimit,
		// else the vendor's published limit. Whether the account is held
		// to it the controller alone knows (it reads the Secrets, which
		// name the account): its LimitsApplied condition says.
		row.Limits = ptr.To(budget.LimitsOf(p, vendor))
	}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionLimitsApplied); c != nil {
		row.LimitsApplied, row.LimitsReason, row.LimitsMessage = string(c.Status), c.Reason, c.Message
	}
	if p.Spec.PollInterval != nil {
		row.Poll = p.Spec.PollInterval.Duration
	}
	if e := p.Status.EffectivePollInterval; e != nil {
		row.Effective = e.Duration
		row.Stretched = row.Poll > 0 && e.Duration > row.Poll
	}
	return row
}
