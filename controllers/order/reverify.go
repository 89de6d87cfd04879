package order

import (
	"context"
	"fmt"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// Reverification lives here, so that the loop reads the same for every
// order: it asks for a target, observes it, plans and applies.
//
// A reverification creates a billable vendor object, so it must happen at
// most once per VerificationOrder, across crashes. The intent is written to
// status (an update that fails on a resourceVersion conflict, so two
// workers or two replicas cannot both proceed) before the call; the new id
// is written after. Intent without a result means the call may have
// reached the vendor: it is not repeated until the vendor has been asked
// whether it did. See docs/design.md#exactly-once.

// target is the vendor object a reconcile observes and acts on.
type target struct {
	client providers.Client
	id     string
	// reverify: the object is the completed request that spec.reverification
	// names; the request to manage has not been created yet.
	reverify bool
}

// target returns the order in spec.orderID; for a reverification, the
// request the vendor created, else the request to reverify. A reverification
// in doubt (intent recorded, no result) is resolved first: rep says what was
// learned, and done means the reconcile ends with it.
func (r *Reconciler) target(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, calls *callSlot) (t target, rep report, done bool) {
	src := o.Spec.Reverification
	if src == nil {
		return target{client: conn.Client, id: o.Spec.OrderID}, rep, false
	}
	rc := conn.Client.(providers.Reverifier).Reverified() // plan.Preflight refused vendors without it
	created := o.Status.OrderID
	if id, ok := reverifiedBefore(o); created == "" && ok {
		rep.reverified, created = id, id // status was lost; the annotation kept it
	}
	if created == "" && reverifyInDoubt(o) {
		if !calls.take() {
			rep.outcome = waitsForCall
			return t, rep, true
		}
		var found string
		found, rep, done = r.recoverReverification(ctx, o, conn)
		if done {
			return t, rep, true
		}
		created = found
	}
	if created != "" {
		return target{client: rc, id: created}, rep, false
	}
	return target{client: rc, id: src.VerificationRequestID, reverify: true}, rep, false
}

// reverifyInDoubt: an intent was recorded but no result.
func reverifyInDoubt(o *v1.VerificationOrder) bool {
	return o.Spec.Reverification != nil && o.Status.OrderID == "" && o.Status.ReverificationRequestedTime != nil
}

// recoverReverification asks the vendor whether the recorded reverify call
// created an object. Found: it is the request to manage. Not found: the call
// never landed, so the intent is withdrawn. Unknowable: stop and say what a
// person must check.
func (r *Reconciler) recoverReverification(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection) (found string, rep report, done bool) {
	src := o.Spec.Reverification
	since := o.Status.ReverificationRequestedTime.Time
	finder, ok := conn.Client.(providers.ReverificationFinder)
	if !ok {
		rep.outcome = stalled(v1.ReasonReverificationOutcomeUnknown, fmt.Sprintf(
			"A reverify call for request %s was sent at %s but its result was not recorded, and %s offers no way to look it up. Check the vendor for a request created from report %s; then recreate this object with spec.orderID set to it, or delete it.",
			src.VerificationRequestID, since.UTC().Format("2006-01-02T15:04:05Z"), conn.Vendor.Name, src.ReportID), plan.RecheckNever)
		rep.synced = true
		return "", rep, true
	}
	// The search reads the request and pages of a list in one go: each call
	// pays its own way.
	var obs providers.Observation
	var err error
	r.vendorCall(ctx, o, func() {
		obs, ok, err = finder.FindReverification(r.vendorContext(ctx, conn, 0), src.VerificationRequestID, since)
	})
	if ok {
		obs, err = providers.Checked(obs, err)
	}
	switch {
	case err != nil && providers.KindOf(err) == providers.KindOutcomeUnknown:
		rep.outcome = stalled(v1.ReasonReverificationOutcomeUnknown, fmt.Sprintf(
			"A reverify call for request %s may have reached %s without its result being recorded, and looking for it failed: %v. Check the vendor for a request created from report %s.",
			src.VerificationRequestID, conn.Vendor.Name, err, src.ReportID), plan.RecheckSlow)
		return "", rep, true
	case err != nil:
		rep.outcome = errorOutcome(err, conn.Vendor.Name, src.VerificationRequestID, providers.ActionNone)
		return "", rep, true
	case ok:
		rep.reverified = obs.ID
		return obs.ID, rep, false
	}
	if wait := reverifySettle - r.now().Sub(since); wait > 0 {
		// Not visible yet is not "never landed": the call may still be in
		// flight past our timeout, or another replica may be making it.
		rep.outcome = outcome{phase: phaseProgressing, reason: v1.ReasonReverifying, synced: true, recheck: plan.RecheckSoon, retryAfter: wait,
			message: fmt.Sprintf("A reverify call for request %s was sent at %s and %s does not show its result yet; the controller decides at %s whether it never landed.",
				src.VerificationRequestID, since.UTC().Format(time.RFC3339), conn.Vendor.Name, since.Add(reverifySettle).UTC().Format(time.RFC3339))}
		return "", rep, true
	}
	rep.withdrawIntent = true
	return "", rep, false
}

// reverifySettle is how long after a recorded intent a reverification not
// found at the vendor may still be in flight: longer than one call may take
// (vendorTimeout), with a margin for a slow vendor and a leader handover.
const reverifySettle = connection.VendorTimeout + 2*time.Minute

// reverify records the intent, then calls the vendor. Like the cancel
// intent (recordCancelIntent), the intent must land before the call. But
// first it looks at the vendor for a reverification of the same request
// made before, by an object since deleted and applied again (alreadyMade).
func (r *Reconciler) reverify(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, source *providers.Observation, rep *report) (providers.Observation, error) {
	if made, ok, err := r.alreadyMade(ctx, o, conn, source); ok || err != nil {
		rep.reverified, rep.adopted = made.ID, ok
		return made, err
	}
	now := metav1.NewTime(r.now())
	o.Status.ReverificationRequestedTime = &now
	if err := r.updateStatus(ctx, o); err != nil {
		return providers.Observation{}, fmt.Errorf("recording the reverification intent: %w", err)
	}
	src := o.Spec.Reverification
	var obs providers.Observation
	var err error
	r.vendorCall(ctx, o, func() {
		obs, err = conn.Client.(providers.Reverifier).Reverify(ctx, src.VerificationRequestID, src.ReportID)
	})
	if err == nil && obs.Check() != nil {
		// Created, but the answer does not say what: the intent stays, and
		// the lookup finds the new request.
		return providers.Observation{}, obs.Check()
	}
	if err != nil {
		// The vendor answered and refused: nothing was created, so the
		// intent is withdrawn and a later attempt is safe. Transient
		// failures (5xx, cut connections) may hide a success: keep it.
		rep.withdrawIntent = neverApplied(err)
		return providers.Observation{}, err
	}
	rep.reverified = obs.ID
	return obs, nil
}

// neverApplied: the vendor answered with a refusal, so it did not create
// anything.
func neverApplied(err error) bool {
	switch providers.KindOf(err) {
	case providers.KindRejected, providers.KindNotFound, providers.KindUnauthorized, providers.KindLegalHold, providers.KindRateLimited:
		return true
	}
	return false
}

// alreadyMade looks at the vendor, before the first reverify call of an
// object, for a reverification of the same request that was made earlier:
// an object deleted and applied again (a GitOps re-sync, a namespace
// re-created) has neither status nor annotation, but its reverification
// exists, and is billed. It is the search for a lost reverification, over
// everything created since the source request completed. Any answer but
// "none" stops the reverify call: found is adopted; an error (the vendor
// cannot tell) is the outcome, for a retry or a person.
func (r *Reconciler) alreadyMade(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection, source *providers.Observation) (made providers.Observation, found bool, err error) {
	finder, ok := conn.Client.(providers.ReverificationFinder)
	if !ok || o.Status.ReverificationRequestedTime != nil || noneMade(o) {
		return providers.Observation{}, false, nil // a retry of this object's own call: it looked before
	}
	var since time.Time
	if source != nil && source.CompletedAt != nil {
		since = *source.CompletedAt // a reverification cannot predate its source's completion
	}
	src := o.Spec.Reverification
	r.vendorCall(ctx, o, func() {
		made, found, err = finder.FindReverification(ctx, src.VerificationRequestID, since)
	})
	if found {
		made, err = providers.Checked(made, err)
	}
	return made, found && err == nil, err
}

// reverifiedBefore is the id the annotation keeps for the request o
// reverifies, if it names that request.
func reverifiedBefore(o *v1.VerificationOrder) (string, bool) {
	id, ok := annotatedReverification(o)
	return id, ok && id != noneAnnotated
}

// noneMade: a person checked the vendor after a search that could not tell,
// found no reverification of the request, and said so in the annotation.
func noneMade(o *v1.VerificationOrder) bool {
	id, ok := annotatedReverification(o)
	return ok && id == noneAnnotated
}

// noneAnnotated is the annotation's id for "none was made; reverify".
const noneAnnotated = "none"

// annotatedReverification is the id the annotation names for the request o
// reverifies.
func annotatedReverification(o *v1.VerificationOrder) (string, bool) {
	src, id, ok := strings.Cut(o.Annotations[v1.ReverifiedAnnotation], "/")
	if !ok || id == "" || o.Spec.Reverification == nil || src != o.Spec.Reverification.VerificationRequestID {
		return "", false
	}
	return id, true
}

// rememberReverification keeps the request o's reverification created in
// its annotation too, once status has it. A failure is only logged: status
// has the id, and the next reconcile tries again.
func (r *Reconciler) rememberReverification(ctx context.Context, o *v1.VerificationOrder) {
	src := o.Spec.Reverification
	if src == nil || o.Status.OrderID == "" {
		return
	}
	if id, ok := reverifiedBefore(o); ok && id == o.Status.OrderID {
		return
	}
	patch := client.MergeFrom(o.DeepCopy())
	metav1.SetMetaDataAnnotation(&o.ObjectMeta, v1.ReverifiedAnnotation, src.VerificationRequestID+"/"+o.Status.OrderID)
	if err := r.Patch(ctx, o, patch); err != nil {
		log.FromContext(ctx).Info("keeping the reverification's id in an annotation failed; retried on the next reconcile", "error", err.Error())
	}
}
