// Package retention deletes finished VerificationOrders, as a Job's
// ttlSecondsAfterFinished deletes finished Jobs (docs/design.md#retention).
//
// What it decides is pure and table-tested here: whether an order is
// finished and since when (Finished), and what retention applies to it
// (PolicyFor: the order's own TTL, its provider's, or a reason to keep it).
// The Reconciler acts on that: it never calls a vendor, re-reads an order
// past the cache before deleting it, and deletes with UID and
// resourceVersion preconditions, at a bounded rate.
package retention

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// Finished says whether nothing can ever change at o's vendor again, and
// since when: the order reconciler has looked at o's current spec and
// found its vendor order terminal (canceled, closed, completed, expired or
// failed), and the conditions say it settled there:
//
//   - Ready=True with reason Converged or Watching, or Ready=False and
//     Stalled=True with reason AlreadyTerminal (the vendor ended the order
//     otherwise than the spec asked: no action can change it), for o's
//     generation;
//   - Synced=True and no Reconciling: the last reconcile reached its
//     decision, so no credentials, provider or API error stands in between;
//   - no Stalled for any other reason (credentials, an unsupported state,
//     not found, claimed by another order, ...).
//
// The time is status.lastObservedTime: the read (or the action's answer)
// that found the order terminal, since a terminal order is never read
// again. It is never earlier than when the vendor ended the order, so a
// TTL counted from it is never short.
func Finished(o *v1.VerificationOrder) (at time.Time, ok bool) {
	s := &o.Status
	if !providers.State(s.State).Terminal() || s.LastObservedTime == nil || s.OrderID == "" {
		return time.Time{}, false
	}
	ready := meta.FindStatusCondition(s.Conditions, v1.ConditionReady)
	synced := meta.FindStatusCondition(s.Conditions, v1.ConditionSynced)
	stalled := meta.FindStatusCondition(s.Conditions, v1.ConditionStalled)
	if ready == nil || ready.ObservedGeneration != o.Generation || synced == nil || synced.Status != metav1.ConditionTrue ||
		meta.FindStatusCondition(s.Conditions, v1.ConditionReconciling) != nil {
		return time.Time{}, false
	}
	switch {
	case ready.Status == metav1.ConditionTrue && (ready.Reason == string(v1.ReasonConverged) || ready.Reason == string(v1.ReasonWatching)) && stalled == nil:
	case ready.Status == metav1.ConditionFalse && ready.Reason == string(v1.ReasonAlreadyTerminal) &&
		stalled != nil && stalled.Status == metav1.ConditionTrue && stalled.Reason == string(v1.ReasonAlreadyTerminal):
	default:
		return time.Time{}, false
	}
	return s.LastObservedTime.Time, true
}

// FinalReason is the Ready reason a finished order ended with: Converged,
// Watching or AlreadyTerminal (the pruned counter's reason label).
func FinalReason(o *v1.VerificationOrder) v1.Reason {
	if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c != nil {
		return v1.Reason(c.Reason)
	}
	return ""
}

// Policy is the retention that applies to one order.
type Policy struct {
	// TTL is how long after finishing the order is deleted, when Keep is
	// empty.
	TTL time.Duration
	// From names the field TTL comes from, for the log.
	From string
	// Keep says why the order is kept however long it has been finished;
	// empty when it is deleted TTL after it finished.
	Keep string
}

// Prunes says the order is deleted TTL after it finished.
func (p Policy) Prunes() bool { return p.Keep == "" }

// Where a TTL comes from.
const (
	FromOrder    = "spec.ttlSecondsAfterFinished"
	FromProvider = "provider spec.retention.ttlSecondsAfterFinished"
)

// Why an order is kept.
const (
	KeepNoTTL    = "no ttlSecondsAfterFinished on the order or its provider"
	KeepRetained = "annotation " + v1.RetainAnnotation + ` is "true"`
	KeepPaused   = "annotation " + v1.PausedAnnotation + ` is "true"`
)

// PolicyFor is the retention of order o under its provider's spec (nil
// when the provider is not known). In order:
//
//   - annotation retain "true" keeps the order, and so does paused "true"
//     (a person is looking at it, and deleting a paused Cancel-policy order
//     would hang on its finalizer);
//   - the TTL is the order's spec.ttlSecondsAfterFinished, else the
//     provider's spec.retention.ttlSecondsAfterFinished; neither keeps it;
//   - an order Argo CD or Flux manages (GitOpsTool) is kept unless the
//     provider sets spec.retention.pruneGitOpsManaged: the tool would
//     create it again. A reverification it manages is kept even then: the
//     object created again has neither status.orderID nor the reverified
//     annotation, so the order reconciler searches the vendor for the
//     reverification bought before (several calls, not one read), and one
//     it cannot find is bought again, and billed.
func PolicyFor(o *v1.VerificationOrder, provider *v1.VerificationProviderSpec) Policy {
	switch {
	case o.Annotations[v1.RetainAnnotation] == "true":
		return Policy{Keep: KeepRetained}
	case o.Annotations[v1.PausedAnnotation] == "true":
		return Policy{Keep: KeepPaused}
	}
	var retention v1.Retention
	if provider != nil && provider.Retention != nil {
		retention = *provider.Retention
	}
	p := Policy{From: FromOrder}
	ttl := o.Spec.TTLSecondsAfterFinished
	if ttl == nil {
		p.From, ttl = FromProvider, retention.TTLSecondsAfterFinished
	}
	if ttl == nil {
		return Policy{Keep: KeepNoTTL}
	}
	if tool, managed := GitOpsTool(o); managed {
		switch {
		case !retention.PruneGitOpsManaged:
			return Policy{Keep: fmt.Sprintf("%s manages it and the provider's spec.retention.pruneGitOpsManaged is false", tool)}
		case o.Spec.Reverification != nil:
			return Policy{Keep: fmt.Sprintf("%s manages it, and a spec.reverification created again searches the vendor for the one it bought (several calls) before it may buy another", tool)}
		}
	}
	p.TTL = time.Duration(max(*ttl, 0)) * time.Second
	return p
}

// The marks GitOps tools leave on the objects they apply. Argo CD tracks
// by annotation (its default since 3.0), or by a label: app.kubernetes.io/instance
// (the default before), or argocd.argoproj.io/instance (the key its docs
// suggest instead). Flux's kustomize-controller and helm-controller label
// what they apply with the name of their Kustomization or HelmRelease.
const (
	ArgoCDTrackingAnnotation = "argocd.argoproj.io/tracking-id"
	ArgoCDInstanceLabel      = "argocd.argoproj.io/instance"
	InstanceLabel            = "app.kubernetes.io/instance"
	FluxKustomizationLabel   = "kustomize.toolkit.fluxcd.io/name"
	FluxHelmReleaseLabel     = "helm.toolkit.fluxcd.io/name"
)

// GitOpsTool names the tool that manages o, if one does. A Helm release's
// app.kubernetes.io/instance reads as Argo CD's: either way something
// would create the order again, so it is kept unless the provider opts in.
func GitOpsTool(o *v1.VerificationOrder) (tool string, managed bool) {
	labels := o.Labels
	switch {
	case o.Annotations[ArgoCDTrackingAnnotation] != "", labels[ArgoCDInstanceLabel] != "", labels[InstanceLabel] != "":
		return "Argo CD", true
	case labels[FluxKustomizationLabel] != "", labels[FluxHelmReleaseLabel] != "":
		return "Flux", true
	}
	return "", false
}
