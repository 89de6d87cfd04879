package cluster

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

var t0 = time.Date(2026, 5, 4, 9, 30, 0, 0, time.UTC)

func at(d time.Duration) *metav1.Time { return &metav1.Time{Time: t0.Add(d)} }

func withReady(status metav1.ConditionStatus, reason string, transition time.Duration, generation int64) []metav1.Condition {
	return []metav1.Condition{{Type: v1.ConditionReady, Status: status, Reason: reason, LastTransitionTime: *at(transition), ObservedGeneration: generation}}
}

func TestRefreshed(t *testing.T) {
	before := v1.VerificationOrderStatus{LastObservedTime: at(0), Conditions: withReady("False", "Canceling", 0, 1)}
	for _, tc := range []struct {
		name   string
		before v1.VerificationOrderStatus
		after  v1.VerificationOrderStatus
		want   bool
	}{
		{"nothing moved", before, before, false},
		{"observed again", before, v1.VerificationOrderStatus{LastObservedTime: at(time.Second), Conditions: before.Conditions}, true},
		{"observed for the first time", v1.VerificationOrderStatus{}, v1.VerificationOrderStatus{LastObservedTime: at(0)}, true},
		{"an older observation", before, v1.VerificationOrderStatus{LastObservedTime: at(-time.Second), Conditions: before.Conditions}, false},
		{"Ready moved", before, v1.VerificationOrderStatus{LastObservedTime: at(0), Conditions: withReady("False", "OrderNotFound", time.Second, 1)}, true},
		{"Ready for a newer generation", before, v1.VerificationOrderStatus{LastObservedTime: at(0), Conditions: withReady("False", "Canceling", 0, 2)}, true},
		{"Ready appeared", v1.VerificationOrderStatus{}, v1.VerificationOrderStatus{Conditions: withReady("Unknown", "Pending", 0, 1)}, true},
		{"observed in the second of the request", v1.VerificationOrderStatus{LastObservedTime: at(time.Minute)}, v1.VerificationOrderStatus{LastObservedTime: at(time.Minute)}, true},
		{"observed the second before", v1.VerificationOrderStatus{LastObservedTime: at(time.Minute - time.Second)}, v1.VerificationOrderStatus{LastObservedTime: at(time.Minute - time.Second)}, false},
		{"other fields only", before, v1.VerificationOrderStatus{LastObservedTime: at(0), Conditions: before.Conditions, PlannedAction: "Cancel"}, false},
	} {
		r := Refresh{Order: v1.VerificationOrder{Status: tc.before}, Requested: t0.Add(time.Minute)}
		if got := r.Refreshed(&v1.VerificationOrder{Status: tc.after}); got != tc.want {
			t.Errorf("%s: Refreshed = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSkipped(t *testing.T) {
	order := func(mod func(*v1.VerificationOrder)) *v1.VerificationOrder {
		o := &v1.VerificationOrder{Spec: v1.VerificationOrderSpec{OrderID: "a"}}
		mod(o)
		return o
	}
	terminal := func(o *v1.VerificationOrder) {
		o.Status.OrderID, o.Status.State, o.Status.LastObservedTime = "a", "canceled", at(0)
	}
	for _, tc := range []struct {
		name  string
		order *v1.VerificationOrder
		want  string
	}{
		{"never observed", order(func(*v1.VerificationOrder) {}), ""},
		{"active", order(func(o *v1.VerificationOrder) { o.Status.State, o.Status.LastObservedTime = "active", at(0) }), ""},
		{"terminal", order(terminal), "canceled: the controller does not read a finished order again"},
		{"paused", order(func(o *v1.VerificationOrder) { o.Annotations = map[string]string{v1.PausedAnnotation: "true"} }),
			"paused: the controller makes no vendor calls"},
		{"a reverification not made yet reads the request again", order(func(o *v1.VerificationOrder) {
			o.Spec.OrderID, o.Spec.Reverification = "", &v1.Reverification{VerificationRequestID: "r", ReportID: "p"}
			o.Status.State, o.Status.LastObservedTime = "completed", at(0)
		}), ""},
	} {
		if got := skipped(tc.order); got != tc.want {
			t.Errorf("%s: skipped = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestRequestedAt(t *testing.T) {
	asked := t0.Add(1500 * time.Millisecond)
	o := &v1.VerificationOrder{}
	if got := requestedAt(o, asked); !got.Equal(t0.Add(time.Second)) {
		t.Errorf("without managedFields: %s, want the time asked, to the second", got)
	}
	o.ManagedFields = []metav1.ManagedFieldsEntry{
		{Manager: "kubectl-client-side-apply", Time: at(-time.Hour)},
		{Manager: FieldManager, Time: at(3 * time.Second)},
	}
	if got := requestedAt(o, asked); !got.Equal(t0.Add(3 * time.Second)) {
		t.Errorf("with managedFields: %s, want the API server's time of the plugin's entry", got)
	}
}
