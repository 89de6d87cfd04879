package report

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/overview"
	"github.com/ordersync/verification-operator/providers"
)

// Overview is `status -o json|yaml`: the providers, the orders counted by
// provider, state and Ready condition, and the Stalled orders by reason.
// Values nobody recorded yet are absent.
type Overview struct {
	metav1.TypeMeta `json:",inline"`
	Providers       []ProviderStatus `json:"providers"`
	Orders          []OrderGroup     `json:"orders"`
	Stalls          []StallGroup     `json:"stalls"`
}

// ProviderStatus is one provider's account budget, polling and retention.
// It holds values only, which Overview.DeepCopyObject relies on.
type ProviderStatus struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Vendor    string `json:"vendor"`
	// Ready and Reason are its Ready condition's.
	Ready  string `json:"ready,omitempty"`
	Reason string `json:"reason,omitempty"`
	// RateLimit is the request budget the provider declares
	// (spec.rateLimit, else the vendor's published limit); absent when the
	// vendor is not built into this plugin. Its vendor account is held to
	// it unless LimitsApplied says otherwise.
	RateLimit RateLimit `json:"rateLimit,omitzero"`
	// LimitsApplied is its LimitsApplied condition: True when its vendor
	// account is held to RateLimit; False (AccountLimitsDiffer) when
	// another provider on the account declares stricter limits, which the
	// message names, with the limits in force. Absent until the controller
	// says.
	LimitsApplied LimitsApplied `json:"limitsApplied,omitzero"`
	// PollBudgetPercent is the share of it routine polls may use.
	PollBudgetPercent int32 `json:"pollBudgetPercent,omitempty"`
	// Orders is how many orders the account polls (status.orders).
	Orders int32 `json:"orders"`
	// PollInterval is spec.pollInterval; EffectivePollInterval is
	// status.effectivePollInterval, and Stretched says it is longer: the
	// polls would not fit the budget at PollInterval.
	PollInterval          metav1.Duration `json:"pollInterval,omitzero"`
	EffectivePollInterval metav1.Duration `json:"effectivePollInterval,omitzero"`
	Stretched             bool            `json:"stretched"`
	// Retention is how long its finished orders are kept
	// (spec.retention).
	Retention Retention `json:"retention"`
	// FinishedOrders is how many of its finished orders are still held
	// (status.finishedOrders).
	FinishedOrders int32 `json:"finishedOrders"`
}

// RateLimit is a request budget.
type RateLimit struct {
	RequestsPerSecond float64 `json:"requestsPerSecond"`
	Burst             int     `json:"burst"`
	// RequestsPerDay is the account's daily quota; absent when it has none.
	RequestsPerDay int `json:"requestsPerDay,omitempty"`
	// MaxInFlight caps the account's calls in flight at once.
	MaxInFlight int `json:"maxInFlight"`
}

// Retention is a provider's spec.retention.
type Retention struct {
	// Keep says the provider sets no TTL: its finished orders are kept
	// (an order's own spec.ttlSecondsAfterFinished aside).
	Keep bool `json:"keep"`
	// TTLAfterFinished is spec.retention.ttlSecondsAfterFinished as a
	// duration (as "24h0m0s"; "0s": at once): how long after it finished
	// an order is deleted. Absent with Keep.
	TTLAfterFinished string `json:"ttlAfterFinished,omitempty"`
	// PruneGitOpsManaged is spec.retention.pruneGitOpsManaged: orders
	// Argo CD or Flux manage are pruned too.
	PruneGitOpsManaged bool `json:"pruneGitOpsManaged"`
}

// LimitsApplied is a provider's LimitsApplied condition.
type LimitsApplied struct {
	Status  string `json:"status"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// OrderGroup counts the orders of one provider in one observed state and
// Ready condition. Its fields are overview.OrderGroup's, so one converts
// to the other.
type OrderGroup struct {
	Namespace string `json:"namespace"`
	Provider  string `json:"provider"`
	State     string `json:"state,omitempty"`
	Ready     string `json:"ready,omitempty"`
	Reason    string `json:"reason,omitempty"`
	Count     int    `json:"count"`
}

// StallGroup is the Stalled orders with one reason, most common first.
type StallGroup struct {
	Reason string `json:"reason"`
	Count  int    `json:"count"`
	// Orders are namespace/name, sorted; all of them, where the table
	// names three.
	Orders []string `json:"orders"`
}

// OverviewOf is the report of an overview.
func OverviewOf(ov overview.Overview) *Overview {
	out := &Overview{Providers: make([]ProviderStatus, 0, len(ov.Providers)), Orders: make([]OrderGroup, 0, len(ov.Orders)),
		Stalls: make([]StallGroup, 0, len(ov.Stalls))}
	for _, p := range ov.Providers {
		out.Providers = append(out.Providers, providerStatus(p))
	}
	for _, g := range ov.Orders {
		out.Orders = append(out.Orders, OrderGroup(g))
	}
	for _, s := range ov.Stalls {
		out.Stalls = append(out.Stalls, StallGroup{Reason: s.Reason, Count: len(s.Orders), Orders: slices.Clone(s.Orders)})
	}
	return out
}

func providerStatus(p overview.ProviderRow) ProviderStatus {
	out := ProviderStatus{Namespace: p.Namespace, Name: p.Name, Vendor: p.Vendor, Ready: p.Ready, Reason: p.Reason,
		PollBudgetPercent: p.PollBudgetPercent, Orders: p.Orders, FinishedOrders: p.FinishedOrders,
		PollInterval:          metav1.Duration{Duration: p.Poll},
		EffectivePollInterval: metav1.Duration{Duration: p.Effective}, Stretched: p.Stretched}
	out.Retention = Retention{Keep: true, PruneGitOpsManaged: p.PruneGitOpsManaged}
	if ttl, ok := p.TTL(); ok {
		out.Retention.Keep, out.Retention.TTLAfterFinished = false, ttl.String()
	}
	if l := p.Limits; l != nil {
		out.RateLimit = RateLimit{RequestsPerSecond: l.RequestsPerSecond, Burst: l.Burst, RequestsPerDay: l.RequestsPerDay,
			MaxInFlight: cmp.Or(l.MaxInFlight, providers.DefaultMaxInFlight)} // what the budget reads an unset one as
	}
	if p.LimitsApplied != "" {
		out.LimitsApplied = LimitsApplied{Status: p.LimitsApplied, Reason: p.LimitsReason, Message: p.LimitsMessage}
	}
	return out
}

// DeepCopyObject copies o: only a stall's orders are shared otherwise.
func (o *Overview) DeepCopyObject() runtime.Object {
	out := *o
	out.Providers = slices.Clone(o.Providers)
	out.Orders = slices.Clone(o.Orders)
	out.Stalls = slices.Clone(o.Stalls)
	for i := range out.Stalls {
		out.Stalls[i].Orders = slices.Clone(o.Stalls[i].Orders)
	}
	return &out
}
