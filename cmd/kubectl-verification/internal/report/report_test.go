package report

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/orderplan"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/overview"
)

// sharesNothing reports the first field of t, at any depth, that a copy
// of a t would share with the original (a pointer, slice, map, ...): the
// DeepCopyObject methods copy items as values.
func sharesNothing(t reflect.Type, path string) error {
	switch {
	case t == reflect.TypeFor[time.Time](): // its *Location is never changed
		return nil
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			if err := sharesNothing(t.Field(i).Type, path+"."+t.Field(i).Name); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice, t.Kind() == reflect.Map, t.Kind() == reflect.Interface,
		t.Kind() == reflect.Func, t.Kind() == reflect.Chan, t.Kind() == reflect.UnsafePointer:
		return errors.New(path + " is a " + t.Kind().String() + ": copy it in DeepCopyObject, or make it a value")
	}
	return nil
}

func TestItemsAreValues(t *testing.T) {
	for _, typ := range []reflect.Type{reflect.TypeFor[PlanItem](), reflect.TypeFor[PlanSummary](),
		reflect.TypeFor[ProviderStatus](), reflect.TypeFor[OrderGroup]()} {
		if err := sharesNothing(typ, typ.Name()); err != nil {
			t.Error(err)
		}
	}
}

func TestDeepCopySharesNothing(t *testing.T) {
	plan := &Plan{Items: []PlanItem{{Name: "a", Action: "Cancel"}}, Summary: PlanSummary{Cancel: 1}}
	planCopy := plan.DeepCopyObject().(*Plan)
	if !cmp.Equal(plan, planCopy) {
		t.Errorf("the copy differs:\n%s", cmp.Diff(plan, planCopy))
	}
	planCopy.Items[0].Action = "Close"
	if plan.Items[0].Action != "Cancel" {
		t.Error("the plan's copy shares its items")
	}

	ov := &Overview{Providers: []ProviderStatus{{Name: "p"}}, Orders: []OrderGroup{{Provider: "p", Count: 1}},
		Stalls: []StallGroup{{Reason: "AlreadyTerminal", Count: 1, Orders: []string{"ns/a"}}}}
	ovCopy := ov.DeepCopyObject().(*Overview)
	if !cmp.Equal(ov, ovCopy) {
		t.Errorf("the copy differs:\n%s", cmp.Diff(ov, ovCopy))
	}
	ovCopy.Providers[0].Name, ovCopy.Orders[0].Count, ovCopy.Stalls[0].Orders[0] = "q", 2, "ns/b"
	if ov.Providers[0].Name != "p" || ov.Orders[0].Count != 1 || ov.Stalls[0].Orders[0] != "ns/a" {
		t.Errorf("the overview's copy shares its lists: %+v", ov)
	}
}

func TestPlanOf(t *testing.T) {
	observedAt := metav1.NewTime(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))
	entries := []orderplan.Entry{
		orderplan.Refused("ns", "bad", errors.New("spec.state: Unsupported value")),
		{Namespace: "ns", Name: "new", Change: orderplan.Create, ProviderRef: v1.ProviderReference{Kind: v1.KindVerificationProvider, Name: "tw"},
			Vendor: "truework", OrderID: "tw-1", Desired: v1.DesiredClosed, Hold: orderplan.HoldStalled, Reason: v1.ReasonUnsupportedState,
			Message: "truework does not support state: closed."},
		{Namespace: "ns", Name: "open", Change: orderplan.Cancel, ProviderRef: v1.ProviderReference{Kind: v1.KindVerificationProvider, Name: "tw"},
			Vendor: "truework", OrderID: "tw-2", Desired: v1.DesiredCanceled, VendorState: "processing", State: "active",
			ObservedTime: &observedAt, Reason: v1.ReasonCanceling, Message: "canceling"},
	}
	got := PlanOf(entries)
	tw := ProviderRef{Kind: "VerificationProvider", Name: "tw"}
	want := &Plan{
		Items: []PlanItem{
			{Namespace: "ns", Name: "new", ProviderRef: tw, Vendor: "truework", OrderID: "tw-1", Desired: "closed",
				Action: "Create", Hold: "Stalled", Reason: "UnsupportedState", Message: "truework does not support state: closed."},
			{Namespace: "ns", Name: "open", ProviderRef: tw, Vendor: "truework", OrderID: "tw-2", Desired: "canceled",
				Observed: Observation{VendorState: "processing", State: "active", Time: observedAt},
				Action:   "Cancel", Reason: "Canceling", Message: "canceling"},
			{Namespace: "ns", Name: "bad", Action: "Invalid", Message: "spec.state: Unsupported value"},
		},
		Summary: PlanSummary{Create: 1, Cancel: 1, Invalid: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PlanOf (-want +got):\n%s", diff)
	}
	// What is not known is left out, not written empty.
	data, err := json.Marshal(got.Items[2])
	if want := `{"namespace":"ns","name":"bad","action":"Invalid","message":"spec.state: Unsupported value"}`; err != nil || string(data) != want {
		t.Errorf("a refused manifest: %s (%v), want %s", data, err, want)
	}
	if data, _ := json.Marshal(PlanOf(nil)); !strings.Contains(string(data), `"items":[]`) {
		t.Errorf("an empty plan: %s", data)
	}
}

func TestOverviewOf(t *testing.T) {
	ov := overview.Overview{Stalls: []overview.StallGroup{{Reason: "AlreadyTerminal", Orders: []string{"ns/a", "ns/b", "ns/c", "ns/d"}}}}
	got := OverviewOf(ov)
	want := &Overview{Providers: []ProviderStatus{}, Orders: []OrderGroup{},
		Stalls: []StallGroup{{Reason: "AlreadyTerminal", Count: 4, Orders: []string{"ns/a", "ns/b", "ns/c", "ns/d"}}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("OverviewOf (-want +got):\n%s", diff)
	}
}

func TestRetentionOfAProvider(t *testing.T) {
	ttl := int32(0)
	ov := overview.Overview{Providers: []overview.ProviderRow{
		{Name: "keeps", PruneGitOpsManaged: true, FinishedOrders: 7},
		{Name: "at-once", TTLSecondsAfterFinished: &ttl},
	}}
	got := OverviewOf(ov).Providers
	want := []ProviderStatus{
		{Name: "keeps", Retention: Retention{Keep: true, PruneGitOpsManaged: true}, FinishedOrders: 7},
		{Name: "at-once", Retention: Retention{TTLAfterFinished: "0s"}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("providers (-want +got):\n%s", diff)
	}
	// A TTL of 0 is said, not left out; the count always is.
	data, err := json.Marshal(got[1])
	if err != nil || !strings.Contains(string(data), `"retention":{"keep":false,"ttlAfterFinished":"0s","pruneGitOpsManaged":false},"finishedOrders":0`) {
		t.Errorf("a provider pruning at once: %s (%v)", data, err)
	}
}
