package orderplan

import (
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// Forecast says what the operator will do next about order o, which
// exists, whose provider is p: the controller's plan from o's spec and the
// last observation its status records, unless a Stalled condition,
// the pause annotation, managementPolicy ObserveOnly or the provider stands
// in the way. now is for time-bounded vendor rules only.
func Forecast(o *v1.VerificationOrder, p Provider, now time.Time) Entry {
	e := describe(o, p)
	if c := stalled(o); c != nil {
		return blocked(e, HoldStalled, v1.Reason(c.Reason), c.Message)
	}
	if p.Unusable != "" {
		return blocked(e, HoldStalled, v1.ReasonProviderNotReady, p.Unusable)
	}
	return hold(fromPlan(e, o, p, now), o, p)
}

// ForecastNew says what creating order o would lead to: it is created, and
// then planned once observed. Only what no vendor state can satisfy is
// known before then (plan.Preflight): it is reported as a Stalled to come.
func ForecastNew(o *v1.VerificationOrder, p Provider, now time.Time) Entry {
	e := describe(o, p)
	e.Change = Create
	if p.Unusable != "" {
		e.Hold, e.Reason, e.Message = HoldStalled, v1.ReasonProviderNotReady, p.Unusable
	} else if d, refused := plan.Preflight(input(o, p, now)); refused {
		e.Hold, e.Reason, e.Message = HoldStalled, d.Reason, d.Message
	}
	return e
}

// Refused is a manifest the API server refused, with its answer.
func Refused(namespace, name string, err error) Entry {
	return Entry{Namespace: namespace, Name: name, Change: Invalid, Message: err.Error()}
}

func describe(o *v1.VerificationOrder, p Provider) Entry {
	e := Entry{Namespace: o.Namespace, Name: o.Name, ProviderRef: o.Spec.ProviderRef, Vendor: p.Vendor.Name, Desired: plan.Desired(o),
		OrderID: o.Status.OrderID, VendorState: o.Status.VendorState, State: o.Status.State, ObservedTime: o.Status.LastObservedTime}
	if e.OrderID == "" {
		e.OrderID = o.Spec.OrderID
	}
	if r := o.Spec.Reverification; r != nil && e.OrderID == "" {
		e.RequestID, e.ReportID = r.VerificationRequestID, r.ReportID
	}
	return e
}

// fromPlan asks the controller's plan.
func fromPlan(e Entry, o *v1.VerificationOrder, p Provider, now time.Time) Entry {
	in := input(o, p, now)
	d := plan.Plan(in)
	e.Reason, e.Message = d.Reason, d.Message
	switch d.Verdict {
	case plan.Act:
		e.Change = changeFor(d.Action)
	case plan.Stalled:
		e.Hold = HoldStalled
		e.Change = Blocked
	case plan.Converged:
		e.Change = NoChange
	default:
		// Wait: there is no observation to plan from.
		return unobserved(e, o, in.Reverify)
	}
	return e
}

// input is the plan's view of o, built by the controller's own code
// (plan.InputFor), with the observation status records, as the controller
// plans between polls. A reverification not made yet has none: its request
// to reverify is observed, but not recorded in status.
func input(o *v1.VerificationOrder, p Provider, now time.Time) plan.Input {
	in := plan.InputFor(o, p.Vendor, now)
	if obs, ok := plan.RecordedObservation(o); ok && !in.Reverify {
		in.Observed = &obs
	}
	return in
}

// unobserved is an order the plan cannot decide without an observation.
// A reverification not made yet is observed, but status keeps only what
// the controller planned from it (status.plannedAction), so that is used.
func unobserved(e Entry, o *v1.VerificationOrder, reverify bool) Entry {
	s := o.Status
	e.Change = Pending
	switch {
	case reverify && s.ReverificationRequestedTime != nil:
		e.Reason = v1.ReasonReverifying
		e.Message = fmt.Sprintf("A reverify call was sent at %s; the controller is confirming what it created before anything else.",
			s.ReverificationRequestedTime.UTC().Format(time.RFC3339))
	case reverify && s.LastObservedTime != nil && s.PlannedAction == v1.Action(providers.ActionReverify):
		e.Change = Reverify
		e.Reason = v1.ReasonReverifying
		e.Message = "The controller planned it when it last read the request (status.plannedAction)."
	default:
		e.Reason, e.Message = v1.ReasonPending, "not observed yet"
		if c := meta.FindStatusCondition(s.Conditions, v1.ConditionReady); c != nil && c.ObservedGeneration == o.Generation && c.Reason != string(v1.ReasonPending) {
			e.Message += fmt.Sprintf("; last attempt: %s: %s", c.Reason, c.Message)
		}
	}
	return e
}

// hold applies what keeps the operator from acting on an order its plan
// would act on.
func hold(e Entry, o *v1.VerificationOrder, p Provider) Entry {
	if !e.Change.Acts() && e.Change != Pending {
		return e
	}
	switch {
	case o.Annotations[v1.PausedAnnotation] == "true":
		return blocked(e, HoldPaused, v1.ReasonPaused, fmt.Sprintf(
			"annotation %s is \"true\": no vendor calls are made; %s once it is removed.", v1.PausedAnnotation, wouldDo(e)))
	case !e.Change.Acts():
		return e
	case p.NotReady != "":
		return blocked(e, HoldStalled, v1.ReasonProviderNotReady, fmt.Sprintf("%s; %s once it is fixed.", p.NotReady, wouldDo(e)))
	case o.Spec.ManagementPolicy == v1.ManagementObserveOnly:
		e.Message = fmt.Sprintf("managementPolicy is ObserveOnly, so nothing is done; the plan is to %s: %s", strings.ToLower(e.Change.String()), e.Message)
		e.Change, e.Reason = NoChange, v1.ReasonObserveOnly
	}
	return e
}

func wouldDo(e Entry) string {
	if e.Change == Pending {
		return "it is observed"
	}
	return "it would " + strings.ToLower(e.Change.String())
}

func blocked(e Entry, hold string, reason v1.Reason, message string) Entry {
	e.Change, e.Hold, e.Reason, e.Message = Blocked, hold, reason, message
	return e
}

// stalled is o's Stalled condition while it is True. It holds even when
// recorded for an older generation: spec.state only ever leaves active,
// and the plan never stalls an active order, so what stalls an order is
// either the vendor's state, which a spec change cannot move, or the
// vendor or provider refusing (OrderNotFound, CredentialsRejected, ...),
// which outlives it.
func stalled(o *v1.VerificationOrder) *metav1.Condition {
	c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionStalled)
	if c == nil || c.Status != metav1.ConditionTrue {
		return nil
	}
	return c
}

func changeFor(a providers.Action) Change {
	switch a {
	case providers.ActionCancel:
		return Cancel
	case providers.ActionClose:
		return Close
	default:
		return Reverify
	}
}
