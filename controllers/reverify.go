package controllers

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// A reverification creates a billable vendor object, so it must happen at
// most once per VerificationOrder, across crashes. The intent is written to
// status (an update that fails on a resourceVersion conflict, so two
// workers or two replicas cannot both proceed) before the call; the new id
// is written after. Intent without a result means the call may have
// reached the vendor: it is not repeated until the vendor has been asked
// whether it did.

// reverify records the intent, then calls the vendor.
func (r *VerificationOrderReconciler) reverify(ctx context.Context, o *v1.VerificationOrder, vc *vendorClient) (providers.Observation, error) {
	now := metav1.NewTime(r.now())
	o.Status.ReverificationRequestedTime = &now
	if err := r.Status().Update(ctx, o); err != nil {
		return providers.Observation{}, fmt.Errorf("recording the reverification intent: %w", err)
	}
	src := o.Spec.Reverification
	obs, err := vc.client.(providers.Reverifier).Reverify(ctx, src.VerificationRequestID, src.ReportID)
	if err != nil {
		if neverApplied(err) {
			// The vendor answered and refused: nothing was created, so
			// the intent is withdrawn and a later attempt is safe.
			o.Status.ReverificationRequestedTime = nil
		}
		return providers.Observation{}, err
	}
	o.Status.OrderID = obs.ID
	return obs, nil
}

// reverifyInDoubt: an intent was recorded but no result.
func reverifyInDoubt(o *v1.VerificationOrder) bool {
	return o.Spec.Reverification != nil && o.Status.OrderID == "" && o.Status.ReverificationRequestedTime != nil
}

// recoverReverification asks the vendor whether the recorded reverify call
// created an object. Found: record it and carry on. Not found: the call
// never landed, so the intent is withdrawn. Unknowable: stop and say what
// a person must check.
func (r *VerificationOrderReconciler) recoverReverification(ctx context.Context, o *v1.VerificationOrder, vc *vendorClient) (outcome, bool) {
	src := o.Spec.Reverification
	since := o.Status.ReverificationRequestedTime.Time
	finder, ok := vc.client.(providers.ReverificationFinder)
	if !ok {
		return stalled(v1.ReasonReverifyOutcomeUnknown, fmt.Sprintf(
			"A reverify call for request %s was sent at %s but its result was not recorded, and %s offers no way to look it up. Check the vendor for a request created from report %s; then recreate this object with spec.orderID set to it, or delete it.",
			src.VerificationRequestID, since.UTC().Format("2006-01-02T15:04:05Z"), vc.vendor.Name, src.ReportID), true, recheckNever), false
	}
	obs, found, err := finder.FindReverification(ctx, src.VerificationRequestID, since)
	switch {
	case err != nil && providers.KindOf(err) == providers.KindRejected:
		return stalled(v1.ReasonReverifyOutcomeUnknown, fmt.Sprintf(
			"A reverify call for request %s may have reached %s without its result being recorded, and looking for it failed: %v. Check the vendor for a request created from report %s.",
			src.VerificationRequestID, vc.vendor.Name, err, src.ReportID), false, recheckSlow), false
	case err != nil:
		return errorOutcome(err, vc.vendor.Name, src.VerificationRequestID), false
	case found:
		o.Status.OrderID = obs.ID
	default:
		o.Status.ReverificationRequestedTime = nil
	}
	return outcome{}, true
}

// neverApplied: the vendor answered with a refusal, so it did not create
// anything. Transient failures (5xx, cut connections) may hide a success.
func neverApplied(err error) bool {
	switch providers.KindOf(err) {
	case providers.KindRejected, providers.KindNotFound, providers.KindUnauthorized, providers.KindLegalHold, providers.KindRateLimited:
		return true
	}
	return false
}
