package plan

import (
	"reflect"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// anOrder is an order at ord-1, changed by each mod.
func anOrder(mods ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	o := &v1.VerificationOrder{Spec: v1.VerificationOrderSpec{OrderID: "ord-1"}}
	for _, m := range mods {
		m(o)
	}
	return o
}

var stamp = &metav1.Time{Time: now.Add(-time.Minute)}

func TestDesired(t *testing.T) {
	for _, tc := range []struct {
		spec, want v1.DesiredState
	}{
		{"", v1.DesiredActive},
		{v1.DesiredActive, v1.DesiredActive},
		{v1.DesiredCanceled, v1.DesiredCanceled},
		{v1.DesiredClosed, v1.DesiredClosed},
	} {
		if got := Desired(anOrder(func(o *v1.VerificationOrder) { o.Spec.State = tc.spec })); got != tc.want {
			t.Errorf("spec.state %q: %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestMayHaveApplied(t *testing.T) {
	for _, tc := range []struct {
		name            string
		lastApplied     v1.Action
		cancelRequested *metav1.Time
		want            providers.Action
	}{
		{"nothing applied", "", nil, providers.ActionNone},
		{"the last action the vendor accepted", "Close", nil, providers.ActionClose},
		{"a cancel whose answer was lost", "", stamp, providers.ActionCancel},
		{"an accepted action outranks a cancel intent", "Reverify", stamp, providers.ActionReverify},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := anOrder(func(o *v1.VerificationOrder) {
				o.Status.LastAppliedAction, o.Status.CancelRequestedTime = tc.lastApplied, tc.cancelRequested
			})
			if got := MayHaveApplied(o); got != tc.want {
				t.Errorf("%q, want %q", got, tc.want)
			}
		})
	}
}

func TestInputFor(t *testing.T) {
	vendor := providers.Vendor{Name: "truework", Capabilities: reverifiable}
	reverification := &v1.Reverification{VerificationRequestID: "vr-1", ReportID: "rp-1"}
	base := Input{Vendor: "truework", Desired: v1.DesiredActive, Capabilities: reverifiable, Now: now}
	for _, tc := range []struct {
		name string
		mod  func(*v1.VerificationOrder)
		want func(*Input)
	}{
		{"an order never observed", nil, nil},
		{"spec.state", func(o *v1.VerificationOrder) { o.Spec.State = v1.DesiredCanceled },
			func(in *Input) { in.Desired = v1.DesiredCanceled }},
		{"a reverification not made yet", func(o *v1.VerificationOrder) { o.Spec.OrderID, o.Spec.Reverification = "", reverification },
			func(in *Input) { in.Reverify = true }},
		{"a reverification made: its new order is planned like any", func(o *v1.VerificationOrder) {
			o.Spec.OrderID, o.Spec.Reverification, o.Status.OrderID = "", reverification, "vr-2"
		}, nil},
		{"a cancel whose answer was lost", func(o *v1.VerificationOrder) { o.Status.CancelRequestedTime = stamp },
			func(in *Input) { in.LastApplied = providers.ActionCancel }},
		{"an observation status records is left to the caller: Observed stays nil", func(o *v1.VerificationOrder) {
			o.Status.OrderID, o.Status.VendorState, o.Status.State, o.Status.LastObservedTime = "ord-1", "processing", "active", stamp
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := anOrder()
			if tc.mod != nil {
				tc.mod(o)
			}
			want := base
			if tc.want != nil {
				tc.want(&want)
			}
			if got := InputFor(o, vendor, now); !reflect.DeepEqual(got, want) {
				t.Errorf("%+v,\nwant %+v", got, want)
			}
		})
	}
}

func TestRecordedObservation(t *testing.T) {
	observed := func(o *v1.VerificationOrder) {
		o.Status.OrderID, o.Status.VendorState, o.Status.State, o.Status.LastObservedTime = "ord-1", "processing", "active", stamp
	}
	for _, tc := range []struct {
		name string
		mods []func(*v1.VerificationOrder)
		want *providers.Observation
	}{
		{"never observed", nil, nil},
		{"observed", []func(*v1.VerificationOrder){observed},
			&providers.Observation{ID: "ord-1", VendorState: "processing", State: providers.StateActive}},
		{"a terminal order, however long ago", []func(*v1.VerificationOrder){observed, func(o *v1.VerificationOrder) {
			o.Status.VendorState, o.Status.State, o.Status.LastObservedTime = "canceled", "canceled", &metav1.Time{}
		}}, &providers.Observation{ID: "ord-1", VendorState: "canceled", State: providers.StateCanceled}},
		{"no lastObservedTime: never observed, whatever else status holds", []func(*v1.VerificationOrder){observed,
			func(o *v1.VerificationOrder) { o.Status.LastObservedTime = nil }}, nil},
		{"no vendorState", []func(*v1.VerificationOrder){observed,
			func(o *v1.VerificationOrder) { o.Status.VendorState = "" }}, nil},
		{"no order id", []func(*v1.VerificationOrder){observed,
			func(o *v1.VerificationOrder) { o.Status.OrderID = "" }}, nil},
		{"a vendor word no vendor gives", []func(*v1.VerificationOrder){observed,
			func(o *v1.VerificationOrder) { o.Status.VendorState = strings.Repeat("x", providers.MaxWordLen+1) }}, nil},
		{"a reverification: whether the answer is of the object now targeted is the caller's rule", []func(*v1.VerificationOrder){observed,
			func(o *v1.VerificationOrder) {
				o.Spec.Reverification = &v1.Reverification{VerificationRequestID: "vr-1"}
			}},
			&providers.Observation{ID: "ord-1", VendorState: "processing", State: providers.StateActive}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := RecordedObservation(anOrder(tc.mods...))
			switch {
			case tc.want == nil && ok:
				t.Errorf("%+v, want none", got)
			case tc.want != nil && (!ok || !reflect.DeepEqual(got, *tc.want)):
				t.Errorf("%+v (%v), want %+v", got, ok, *tc.want)
			}
		})
	}
}

// The rule MayHaveApplied adds, as the plan sees it: at a vendor whose
// canceled orders read as expired, an expired order after a cancel whose
// answer was lost is this operator's cancel, not the vendor's expiry.
func TestALostCancelConverges(t *testing.T) {
	txcloud := providers.Vendor{Name: "txcloud", Capabilities: cancelReadsExpired}
	o := anOrder(func(o *v1.VerificationOrder) {
		o.Spec.State = v1.DesiredCanceled
		o.Status.OrderID, o.Status.VendorState, o.Status.State, o.Status.LastObservedTime = "ord-1", "expired", "expired", stamp
		o.Status.CancelRequestedTime = stamp
	})
	in := InputFor(o, txcloud, now)
	obs, ok := RecordedObservation(o)
	if !ok {
		t.Fatal("status records an observation")
	}
	in.Observed = &obs
	if d := Plan(in); d.Verdict != Converged || d.State != providers.StateCanceled {
		t.Errorf("%s %s (%s), want Converged canceled", d.Verdict, d.State, d.Reason)
	}
}
