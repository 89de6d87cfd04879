// Package orderplan says what the operator will do about a VerificationOrder,
// from its spec and the observation its status records. It asks the
// operator's own plan (controllers/plan) with the vendor's rules from the
// providers registry, so the answer is the controller's, not a copy of it.
// It is pure: no client, no clock.
package orderplan

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Change is what the operator will do about one order.
type Change int

// The changes, in the order a plan lists them.
const (
	// NoChange: the order is where its spec wants it, or managementPolicy
	// ObserveOnly keeps the operator from acting.
	NoChange Change = iota
	// Create: the object does not exist yet (plan -f).
	Create
	// Cancel, Close and Reverify: the operator will make that vendor call.
	Cancel
	Close
	Reverify
	// Pending: the order has not been observed yet; what happens depends on
	// what the vendor reports.
	Pending
	// Blocked: Stalled or paused; nothing happens until a person acts.
	Blocked
	// Invalid: the API server refused the manifest (plan -f).
	Invalid
)

// Acts reports whether the change is a vendor call.
func (c Change) Acts() bool { return c == Cancel || c == Close || c == Reverify }

// Hold words: what keeps a Blocked order from moving.
const (
	HoldStalled = "Stalled"
	HoldPaused  = "Paused"
)

// Entry is one order in a plan.
type Entry struct {
	Namespace, Name string
	Change          Change
	// ProviderRef is spec.providerRef; empty for a refused manifest.
	ProviderRef v1.ProviderReference
	// Vendor is the provider's vendor; empty when the provider is unknown.
	Vendor string
	// OrderID is the vendor id the operator manages: status.orderID, else
	// spec.orderID; for a reverification not yet made, RequestID is set.
	OrderID string
	// RequestID and ReportID name the request a reverification reverifies.
	RequestID, ReportID string
	// Desired is spec.state.
	Desired v1.DesiredState
	// VendorState and State are the last observation, as status records it.
	VendorState string
	State       v1.ObservedState
	// ObservedTime is status.lastObservedTime; nil when never observed.
	ObservedTime *metav1.Time
	// Hold says what blocks a Blocked order (HoldStalled, HoldPaused); on a
	// Create, a Stalled that follows creation.
	Hold string
	// Reason and Message explain the entry: a condition's, or the plan's.
	Reason  v1.Reason
	Message string
}

// Key is namespace/name.
func (e Entry) Key() string { return e.Namespace + "/" + e.Name }
