package orderplan

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers/registry"
)

var now = time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)

// provider is the named vendor's provider, Ready, with the registry's rules.
func provider(t *testing.T, vendor string) Provider {
	t.Helper()
	return ProviderFrom(&v1.VerificationProvider{
		ObjectMeta: metav1.ObjectMeta{Name: vendor},
		Spec:       v1.VerificationProviderSpec{Vendor: v1.Vendor(vendor)},
	}, registry.Default())
}

// order is generation 2 of an order wanting desired, changed by each mod.
func order(desired v1.DesiredState, mods ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	o := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "o", Generation: 2},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: "p"}, OrderID: "ord-1", State: desired},
	}
	for _, m := range mods {
		m(o)
	}
	return o
}

// observed records what the controller last saw: the vendor's word and
// the state it made of it.
func observed(vendorState string, state v1.ObservedState) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		o.Status.OrderID, o.Status.VendorState, o.Status.State = o.Spec.OrderID, vendorState, state
		o.Status.LastObservedTime = &metav1.Time{Time: now.Add(-time.Minute)}
	}
}

func condition(typ string, status metav1.ConditionStatus, reason v1.Reason, message string, generation int64) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		o.Status.Conditions = append(o.Status.Conditions, metav1.Condition{
			Type: typ, Status: status, Reason: string(reason), Message: message, ObservedGeneration: generation})
	}
}

// cancelAnswerLost records a cancel sent whose answer never came:
// status.cancelRequestedTime is written before the call, and
// lastAppliedAction only once the vendor answers.
func cancelAnswerLost(o *v1.VerificationOrder) {
	o.Status.CancelRequestedTime = &metav1.Time{Time: now.Add(-2 * time.Minute)}
}

func annotated(key, value string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { o.Annotations = map[string]string{key: value} }
}

func reverification(mods ...func(*v1.VerificationOrder)) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		o.Spec.OrderID = ""
		o.Spec.Reverification = &v1.Reverification{VerificationRequestID: "vr-1", ReportID: "rp-1"}
		for _, m := range mods {
			m(o)
		}
	}
}

func TestForecast(t *testing.T) {
	notReady := provider(t, "truework")
	notReady.NotReady = `VerificationProvider "p" is not Ready (SecretNotFound): Secret "s" was not found`
	for _, tc := range []struct {
		name     string
		order    *v1.VerificationOrder
		provider Provider
		change   Change
		hold     string
		reason   v1.Reason
		message  string // a part of the message
		without  string // not a part of it
	}{
		{name: "cancel an active order",
			order:    order(v1.DesiredCanceled, observed("processing", "active")),
			provider: provider(t, "truework"), change: Cancel, reason: v1.ReasonCanceling, message: "The order is processing at truework"},
		{name: "close an opened order",
			order:    order(v1.DesiredClosed, observed("opened", "active")),
			provider: provider(t, "accountchek"), change: Close, reason: v1.ReasonClosing},
		{name: "converged",
			order:    order(v1.DesiredCanceled, observed("canceled", "canceled"), condition(v1.ConditionReady, "True", v1.ReasonConverged, "", 2)),
			provider: provider(t, "truework"), change: NoChange, reason: v1.ReasonConverged},
		{name: "active only watches a finished order",
			order:    order(v1.DesiredActive, observed("completed", "completed")),
			provider: provider(t, "truework"), change: NoChange, reason: v1.ReasonWatching},
		{name: "txcloud: an expired order this operator canceled reads as canceled",
			order: order(v1.DesiredCanceled, observed("expired", "canceled"),
				func(o *v1.VerificationOrder) { o.Status.LastAppliedAction = "Cancel" }),
			provider: provider(t, "txcloud"), change: NoChange, reason: v1.ReasonConverged},
		{name: "txcloud: the expiry that follows this operator's cancel is its cancel, whatever status.state says",
			order: order(v1.DesiredCanceled, observed("expired", "expired"),
				func(o *v1.VerificationOrder) { o.Status.LastAppliedAction = "Cancel" }),
			provider: provider(t, "txcloud"), change: NoChange, reason: v1.ReasonConverged},
		{name: "txcloud: the expiry that follows a cancel whose answer was lost (status.cancelRequestedTime) is its cancel",
			order:    order(v1.DesiredCanceled, observed("expired", "expired"), cancelAnswerLost),
			provider: provider(t, "txcloud"), change: NoChange, reason: v1.ReasonConverged},
		{name: "the plan stalls: the vendor ended the order first",
			order:    order(v1.DesiredCanceled, observed("expired", "expired")),
			provider: provider(t, "txcloud"), change: Blocked, hold: HoldStalled, reason: v1.ReasonAlreadyTerminal, message: "had already ended the order as expired"},
		{name: "the plan stalls: the vendor refuses from this state",
			order:    order(v1.DesiredCanceled, observed("inprogress", "active")),
			provider: provider(t, "accountchek"), change: Blocked, hold: HoldStalled, reason: v1.ReasonIllegalTransition},
		{name: "the plan stalls before any observation: the vendor cannot close",
			order:    order(v1.DesiredClosed),
			provider: provider(t, "truework"), change: Blocked, hold: HoldStalled, reason: v1.ReasonUnsupportedState, message: "truework does not support state: closed"},
		{name: "a Stalled condition is taken as recorded",
			order: order(v1.DesiredCanceled, observed("processing", "active"),
				condition(v1.ConditionStalled, "True", v1.ReasonOrderNotFound, "truework has no order", 2)),
			provider: provider(t, "truework"), change: Blocked, hold: HoldStalled, reason: v1.ReasonOrderNotFound, message: "truework has no order"},
		{name: "a Stalled condition outlives a spec change: the order is still not found",
			order: order(v1.DesiredCanceled, observed("processing", "active"),
				condition(v1.ConditionStalled, "True", v1.ReasonOrderNotFound, "truework has no order", 1)),
			provider: provider(t, "truework"), change: Blocked, hold: HoldStalled, reason: v1.ReasonOrderNotFound, message: "truework has no order"},
		{name: "a Stalled condition no longer True is not",
			order: order(v1.DesiredCanceled, observed("processing", "active"),
				condition(v1.ConditionStalled, "False", v1.ReasonOrderNotFound, "truework has no order", 2)),
			provider: provider(t, "truework"), change: Cancel, reason: v1.ReasonCanceling},
		{name: "never observed",
			order:    order(v1.DesiredCanceled),
			provider: provider(t, "truework"), change: Pending, reason: v1.ReasonPending, message: "not observed yet"},
		{name: "never observed, the last attempt failed",
			order:    order(v1.DesiredCanceled, condition(v1.ConditionReady, "Unknown", v1.ReasonVendorUnavailable, "Could not reach truework", 2)),
			provider: provider(t, "truework"), change: Pending, reason: v1.ReasonPending, message: "not observed yet; last attempt: VendorUnavailable: Could not reach truework"},
		{name: "never observed, the last attempt was for an older spec",
			order:    order(v1.DesiredCanceled, condition(v1.ConditionReady, "Unknown", v1.ReasonVendorUnavailable, "Could not reach truework", 1)),
			provider: provider(t, "truework"), change: Pending, reason: v1.ReasonPending, message: "not observed yet", without: "last attempt"},
		{name: "paused: an action waits",
			order:    order(v1.DesiredCanceled, observed("processing", "active"), annotated(v1.PausedAnnotation, "true")),
			provider: provider(t, "truework"), change: Blocked, hold: HoldPaused, reason: v1.ReasonPaused, message: "it would cancel once it is removed"},
		{name: "paused: a new order is never observed",
			order:    order(v1.DesiredCanceled, annotated(v1.PausedAnnotation, "true")),
			provider: provider(t, "truework"), change: Blocked, hold: HoldPaused, reason: v1.ReasonPaused, message: "it is observed once it is removed"},
		{name: "paused, nothing to do",
			order:    order(v1.DesiredCanceled, observed("canceled", "canceled"), annotated(v1.PausedAnnotation, "true")),
			provider: provider(t, "truework"), change: NoChange, reason: v1.ReasonConverged},
		{name: "ObserveOnly plans but never acts",
			order: order(v1.DesiredCanceled, observed("processing", "active"),
				func(o *v1.VerificationOrder) { o.Spec.ManagementPolicy = v1.ManagementObserveOnly }),
			provider: provider(t, "truework"), change: NoChange, reason: v1.ReasonObserveOnly, message: "the plan is to cancel"},
		{name: "the provider is missing",
			order:    order(v1.DesiredCanceled, observed("processing", "active")),
			provider: MissingProvider(`VerificationProvider "p" in namespace "ns"`), change: Blocked, hold: HoldStalled, reason: v1.ReasonProviderNotReady,
			message: `VerificationProvider "p" in namespace "ns" was not found`},
		{name: "the provider's vendor is not built in",
			order:    order(v1.DesiredCanceled, observed("processing", "active")),
			provider: ProviderFrom(&v1.VerificationProvider{Spec: v1.VerificationProviderSpec{Vendor: "equifax"}}, registry.Default()),
			change:   Blocked, hold: HoldStalled, reason: v1.ReasonProviderNotReady, message: `vendor "equifax" is not built into this operator`},
		{name: "the provider is not Ready: an action waits",
			order:    order(v1.DesiredCanceled, observed("processing", "active")),
			provider: notReady, change: Blocked, hold: HoldStalled, reason: v1.ReasonProviderNotReady, message: "SecretNotFound"},
		{name: "the provider is not Ready: nothing to do anyway",
			order:    order(v1.DesiredCanceled, observed("canceled", "canceled")),
			provider: notReady, change: NoChange, reason: v1.ReasonConverged},
		{name: "reverification: planned when the request was last read",
			order: order(v1.DesiredActive, reverification(func(o *v1.VerificationOrder) {
				o.Status.LastObservedTime, o.Status.PlannedAction = &metav1.Time{Time: now}, "Reverify"
			})),
			provider: provider(t, "truework"), change: Reverify, reason: v1.ReasonReverifying},
		{name: "reverification: never observed",
			order:    order(v1.DesiredActive, reverification()),
			provider: provider(t, "truework"), change: Pending, reason: v1.ReasonPending},
		{name: "reverification: a call is being confirmed",
			order: order(v1.DesiredActive, reverification(func(o *v1.VerificationOrder) {
				o.Status.LastObservedTime, o.Status.PlannedAction = &metav1.Time{Time: now}, "Reverify"
				o.Status.ReverificationRequestedTime = &metav1.Time{Time: now}
			})),
			provider: provider(t, "truework"), change: Pending, reason: v1.ReasonReverifying, message: "A reverify call was sent at 2026-05-04T12:00:00Z"},
		{name: "reverification at a vendor without it",
			order:    order(v1.DesiredActive, reverification()),
			provider: provider(t, "truv"), change: Blocked, hold: HoldStalled, reason: v1.ReasonUnsupportedState, message: "truv does not support reverification"},
		{name: "reverification made: the new request is planned like any order",
			order: order(v1.DesiredCanceled, reverification(func(o *v1.VerificationOrder) {
				o.Status.OrderID, o.Status.VendorState, o.Status.State = "vr-2", "processing", "active"
				o.Status.LastObservedTime = &metav1.Time{Time: now}
			})),
			provider: provider(t, "truework"), change: Cancel, reason: v1.ReasonCanceling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := Forecast(tc.order, tc.provider, now)
			if e.Change != tc.change || e.Hold != tc.hold || e.Reason != tc.reason || !strings.Contains(e.Message, tc.message) ||
				tc.without != "" && strings.Contains(e.Message, tc.without) {
				t.Errorf("got %s %q %s %q;\nwant %s %q %s with %q", e.Change, e.Hold, e.Reason, e.Message, tc.change, tc.hold, tc.reason, tc.message)
			}
		})
	}
}

func TestForecastNew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		order    *v1.VerificationOrder
		provider Provider
		reason   v1.Reason
		message  string
	}{
		{name: "created, then planned once observed", order: order(v1.DesiredCanceled), provider: provider(t, "truework")},
		{name: "created, then stalled: the vendor cannot close", order: order(v1.DesiredClosed), provider: provider(t, "truework"),
			reason: v1.ReasonUnsupportedState, message: "truework does not support state: closed"},
		{name: "created, then stalled: no provider", order: order(v1.DesiredCanceled), provider: MissingProvider(`VerificationProvider "p" in namespace "ns"`),
			reason: v1.ReasonProviderNotReady, message: "was not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := ForecastNew(tc.order, tc.provider, now)
			wantHold := ""
			if tc.reason != "" {
				wantHold = HoldStalled
			}
			if e.Change != Create || e.Hold != wantHold || e.Reason != tc.reason || !strings.Contains(e.Message, tc.message) {
				t.Errorf("got %s %q %s %q; want Create %q %s with %q", e.Change, e.Hold, e.Reason, e.Message, wantHold, tc.reason, tc.message)
			}
		})
	}
}

func TestProviderFrom(t *testing.T) {
	for _, tc := range []struct {
		ready    metav1.ConditionStatus
		notReady string
	}{
		{"", ""},
		{metav1.ConditionTrue, ""},
		{metav1.ConditionUnknown, ""},
		{metav1.ConditionFalse, `VerificationProvider "truework" is not Ready (SecretNotFound): Secret "s" was not found.`},
	} {
		p := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "truework"}, Spec: v1.VerificationProviderSpec{Vendor: "truework"}}
		if tc.ready != "" {
			p.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: tc.ready, Reason: "SecretNotFound", Message: `Secret "s" was not found.`}}
		}
		got := ProviderFrom(p, registry.Default())
		if got.Vendor.Name != "truework" || got.Unusable != "" || got.NotReady != tc.notReady || !got.Vendor.Capabilities.Supports("Cancel") {
			t.Errorf("Ready %q: got %+v, want NotReady %q", tc.ready, got, tc.notReady)
		}
	}
}

// The plugin forecasts what the controller plans: an order the controller
// may have canceled (a cancel whose answer was lost) is planned from the
// controller's own input, not a copy that lacks that rule.
func TestForecastPlansAsTheController(t *testing.T) {
	for _, tc := range []struct {
		name  string
		order *v1.VerificationOrder
	}{
		{"a cancel whose answer was lost", order(v1.DesiredCanceled, observed("expired", "expired"), cancelAnswerLost)},
		{"a cancel the vendor accepted", order(v1.DesiredCanceled, observed("expired", "expired"),
			func(o *v1.VerificationOrder) { o.Status.LastAppliedAction = "Cancel" })},
		{"no cancel of this operator's", order(v1.DesiredCanceled, observed("expired", "expired"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vendor, err := registry.Default().Get("txcloud")
			if err != nil {
				t.Fatal(err)
			}
			// What the controller plans from the observation status records.
			in := plan.InputFor(tc.order, vendor, now)
			obs, ok := plan.RecordedObservation(tc.order)
			if !ok {
				t.Fatal("status records an observation")
			}
			in.Observed = &obs
			want := plan.Plan(in)
			if e := Forecast(tc.order, provider(t, "txcloud"), now); e.Reason != want.Reason || e.Message != want.Message {
				t.Errorf("forecast %s %q,\nthe controller plans %s %q", e.Reason, e.Message, want.Reason, want.Message)
			}
		})
	}
}
