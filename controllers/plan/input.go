package plan

import (
	"time"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// The plan's view of a VerificationOrder, built here once so that the
// controller and the kubectl plugin, which forecasts the controller, plan
// from the same Input: two copies of these rules drifted before.

// InputFor is the plan's Input for order o at vendor: everything but
// Observed, which the caller fills in from the vendor or from status
// (RecordedObservation), by its own rules. now serves only the vendors'
// time-bounded rules.
func InputFor(o *v1.VerificationOrder, vendor providers.Vendor, now time.Time) Input {
	return Input{
		Vendor:       vendor.Name,
		Desired:      Desired(o),
		Reverify:     reverifying(o),
		Capabilities: vendor.Capabilities,
		LastApplied:  MayHaveApplied(o),
		Now:          now,
	}
}

// reverifying: spec.reverification has not created its vendor object yet,
// so the object to observe is the request to reverify, not an order.
func reverifying(o *v1.VerificationOrder) bool {
	return o.Spec.Reverification != nil && o.Status.OrderID == ""
}

// Desired is o's spec.state; empty is active, the CRD's default, which an
// object read before defaulting (a manifest, a fake client) may lack.
func Desired(o *v1.VerificationOrder) v1.DesiredState {
	if o.Spec.State == "" {
		return v1.DesiredActive
	}
	return o.Spec.State
}

// MayHaveApplied is the last action that may have reached the vendor: the
// last one it accepted (status.lastAppliedAction), or a cancel whose answer
// was lost: status.cancelRequestedTime is recorded before the call and
// lastAppliedAction only after its answer, so the cancel may have landed.
// It matters where the vendor has no canceled state (txcloud's canceled
// orders read as expired).
func MayHaveApplied(o *v1.VerificationOrder) providers.Action {
	if o.Status.LastAppliedAction == "" && o.Status.CancelRequestedTime != nil {
		return providers.ActionCancel
	}
	return providers.Action(o.Status.LastAppliedAction)
}

// RecordedObservation is the vendor's last answer as o's status records
// it: the id, the vendor's word and the state made of it. false when status
// holds none: never observed (no lastObservedTime), or what it holds is not
// a usable answer (no vendorState, or not one the vendor could have given:
// Check), so the vendor must be read again first.
//
// It says nothing about whether the answer still stands in for reading the
// vendor: how fresh it must be, and whether it is of the object now
// targeted (a reverification's request is observed but not recorded), are
// the caller's rules.
func RecordedObservation(o *v1.VerificationOrder) (providers.Observation, bool) {
	s := o.Status
	if s.LastObservedTime == nil || s.VendorState == "" {
		return providers.Observation{}, false
	}
	obs := providers.Observation{ID: s.OrderID, VendorState: s.VendorState, State: providers.State(s.State)}
	if obs.Check() != nil {
		return providers.Observation{}, false
	}
	return obs, true
}
