// Package overview summarizes providers and orders for `kubectl
// verification status`: each provider's account budget and poll interval,
// how many orders are in which state, and why the stalled ones are.
package overview

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/providers"
)

// none stands for a value nobody recorded yet.
const none = "-"

// Overview is what `status` shows.
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
	// Rate is the account's request budget, e.g. "10/s burst 10".
	Rate string
	// PollBudget is the share of Rate routine polls may use, e.g. "50%".
	PollBudget string
	// Orders is how many orders the account polls (status.orders).
	Orders int32
	// Poll is spec.pollInterval; Effective is status.effectivePollInterval,
	// and Stretched says it is longer: the polls would not fit the budget.
	Poll, Effective string
	Stretched       bool
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
		g := OrderGroup{Namespace: o.Namespace, Provider: cluster.ProviderOf(o).Name, State: cmp.Or(string(o.Status.State), none), Ready: none, Reason: none}
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

func compareGroups(a, b OrderGroup) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Provider, b.Provider),
		cmp.Compare(a.State, b.State), cmp.Compare(a.Ready, b.Ready), cmp.Compare(a.Reason, b.Reason))
}

func providerRow(p *v1.VerificationProvider, registry providers.Registry) ProviderRow {
	row := ProviderRow{Namespace: p.Namespace, Name: p.Name, Vendor: string(p.Spec.Vendor),
		Ready: none, Reason: none, Rate: none, PollBudget: none, Orders: p.Status.Orders, Poll: none, Effective: none}
	if c := meta.FindStatusCondition(p.Status.Conditions, v1.ConditionReady); c != nil {
		row.Ready, row.Reason = string(c.Status), c.Reason
	}
	if vendor, err := registry.Get(row.Vendor); err == nil {
		// The budget as the controller sets it: spec.rateLimit, else the
		// vendor's published limit.
		l := budget.LimitsOf(p, vendor)
		row.Rate = fmt.Sprintf("%s/s burst %d", strconv.FormatFloat(l.RequestsPerSecond, 'f', -1, 64), l.Burst)
	}
	if p.Spec.PollBudgetPercent != nil {
		row.PollBudget = fmt.Sprintf("%d%%", *p.Spec.PollBudgetPercent)
	}
	if p.Spec.PollInterval != nil {
		row.Poll = p.Spec.PollInterval.Duration.String()
	}
	if e := p.Status.EffectivePollInterval; e != nil {
		row.Effective = e.Duration.String()
		row.Stretched = p.Spec.PollInterval != nil && e.Duration > p.Spec.PollInterval.Duration
	}
	return row
}
