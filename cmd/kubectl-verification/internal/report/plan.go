package report

import (
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/orderplan"
)

// Plan is `plan -o json|yaml`: every order planned, in the order the table
// lists them, unchanged ones included (the table needs -v for those), and
// the counts of the table's last line.
type Plan struct {
	metav1.TypeMeta `json:",inline"`
	Items           []PlanItem  `json:"items"`
	Summary         PlanSummary `json:"summary"`
}

// PlanItem is what the operator will do about one order. It holds values
// only (no pointer, slice or map), which Plan.DeepCopyObject relies on.
type PlanItem struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ProviderRef is the order's spec.providerRef; absent for a manifest
	// the API server refused.
	ProviderRef ProviderRef `json:"providerRef,omitzero"`
	// Vendor is the provider's spec.vendor; absent when the provider was
	// not found.
	Vendor string `json:"vendor,omitempty"`
	// OrderID is the vendor's order: status.orderID, else spec.orderID.
	OrderID string `json:"orderID,omitempty"`
	// Reverification is the request a reverification not made yet names.
	Reverification Reverification `json:"reverification,omitzero"`
	// Desired is spec.state.
	Desired string `json:"desired,omitempty"`
	// Observed is the last observation status records; absent before the
	// first.
	Observed Observation `json:"observed,omitzero"`
	// Action is what happens next: Cancel, Close or Reverify (a vendor
	// call), Create (plan -f: the object is new), Pending (not observed
	// yet), Blocked (see Hold), Invalid (plan -f: refused by the API
	// server), or NoChange.
	Action string `json:"action"`
	// Hold is what blocks a Blocked order: Stalled or Paused. On a Create,
	// a Stalled that will follow creation.
	Hold string `json:"hold,omitempty"`
	// Reason and Message explain the action: the condition's, or the
	// plan's, words.
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message,omitempty"`
}

// ProviderRef is an order's spec.providerRef.
type ProviderRef struct {
	Kind string `json:"kind,omitempty"`
	Name string `json:"name"`
}

// Reverification is an order's spec.reverification.
type Reverification struct {
	VerificationRequestID string `json:"verificationRequestID"`
	ReportID              string `json:"reportID,omitempty"`
}

// Observation is what the controller last saw at the vendor.
type Observation struct {
	// VendorState is the vendor's word, State the operator's state made of
	// it (status.vendorState, status.state).
	VendorState string `json:"vendorState,omitempty"`
	State       string `json:"state,omitempty"`
	// Time is status.lastObservedTime.
	Time metav1.Time `json:"time,omitzero"`
}

// PlanSummary counts the items by action; every count is always present.
// Its fields are orderplan.Summary's, so one converts to the other.
type PlanSummary struct {
	Create    int `json:"create"`
	Cancel    int `json:"cancel"`
	Close     int `json:"close"`
	Reverify  int `json:"reverify"`
	Blocked   int `json:"blocked"`
	Pending   int `json:"pending"`
	Invalid   int `json:"invalid"`
	Unchanged int `json:"unchanged"`
}

// PlanOf is the report of a plan's entries.
func PlanOf(entries []orderplan.Entry) *Plan {
	p := &Plan{Items: make([]PlanItem, 0, len(entries)), Summary: PlanSummary(orderplan.Summarize(entries))}
	for _, e := range orderplan.Sorted(entries) {
		p.Items = append(p.Items, planItem(e))
	}
	return p
}

func planItem(e orderplan.Entry) PlanItem {
	item := PlanItem{Namespace: e.Namespace, Name: e.Name,
		ProviderRef: ProviderRef{Kind: string(e.ProviderRef.Kind), Name: e.ProviderRef.Name},
		Vendor:      e.Vendor, OrderID: e.OrderID,
		Reverification: Reverification{VerificationRequestID: e.RequestID, ReportID: e.ReportID},
		Desired:        string(e.Desired),
		Observed:       Observation{VendorState: e.VendorState, State: string(e.State)},
		Action:         e.Change.String(), Hold: e.Hold, Reason: string(e.Reason), Message: e.Message}
	if e.ObservedTime != nil {
		item.Observed.Time = *e.ObservedTime
	}
	return item
}

// DeepCopyObject copies p: its items hold values only.
func (p *Plan) DeepCopyObject() runtime.Object {
	out := *p
	out.Items = slices.Clone(p.Items)
	return &out
}
