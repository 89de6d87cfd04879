package commands

import (
	"context"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// observedAt is when the fixtures' controller last read the vendor: two
// hours ago, so an observation an hour after it is new, yet still older
// than a refresh requested now.
var observedAt = metav1.NewTime(time.Now().Add(-2 * time.Hour).Truncate(time.Second).UTC())

// createProvider creates a VerificationProvider, each mod changing it
// first, spec and status: the status is then recorded as the provider
// controller would, Ready unless a mod says otherwise.
func createProvider(t *testing.T, ns, name string, vendor v1.Vendor, mods ...func(*v1.VerificationProvider)) {
	t.Helper()
	p := &v1.VerificationProvider{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.VerificationProviderSpec{Vendor: vendor, CredentialsSecretRef: v1.SecretReference{Name: name + "-credentials"}},
	}
	p.Status.Conditions = []metav1.Condition{{Type: v1.ConditionReady, Status: metav1.ConditionTrue,
		Reason: string(v1.ReasonCredentialsValid), Message: "Secret holds well-formed credentials."}}
	for _, m := range mods {
		m(p)
	}
	status := p.Status.DeepCopy()
	create(t, p) // the API server keeps no status from a create
	p.Status = *status
	for i := range p.Status.Conditions {
		p.Status.Conditions[i].ObservedGeneration = p.Generation
		p.Status.Conditions[i].LastTransitionTime = metav1.Now()
	}
	updateStatus(t, p)
}

// createOrder creates a VerificationOrder; each mod changes it before.
func createOrder(t *testing.T, ns, name, provider, orderID string, state v1.DesiredState, mods ...func(*v1.VerificationOrder)) *v1.VerificationOrder {
	t.Helper()
	o := &v1.VerificationOrder{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: provider}, OrderID: orderID, State: state},
	}
	for _, m := range mods {
		m(o)
	}
	create(t, o)
	return o
}

// record writes the status the order controller would have recorded: what
// it observed, and its conditions for the current generation.
func record(t *testing.T, o *v1.VerificationOrder, mods ...func(*v1.VerificationOrder)) {
	t.Helper()
	o.Status.ObservedGeneration = o.Generation
	for _, m := range mods {
		m(o)
	}
	updateStatus(t, o)
}

func observed(vendorState string, state v1.ObservedState) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		o.Status.OrderID, o.Status.VendorState, o.Status.State = o.Spec.OrderID, vendorState, state
		o.Status.LastObservedTime = observedAt.DeepCopy()
	}
}

// condition sets a condition as the controller does: Ready always,
// Stalled and Reconciling only while True.
func condition(typ string, status metav1.ConditionStatus, reason v1.Reason, message string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		meta.SetStatusCondition(&o.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: string(reason),
			Message: message, ObservedGeneration: o.Generation})
	}
}

func ready(status metav1.ConditionStatus, reason v1.Reason, message string) func(*v1.VerificationOrder) {
	return condition(v1.ConditionReady, status, reason, message)
}

func stalled(reason v1.Reason, message string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) {
		ready(metav1.ConditionFalse, reason, message)(o)
		condition(v1.ConditionStalled, metav1.ConditionTrue, reason, message)(o)
	}
}

func labeled(labels map[string]string) func(*v1.VerificationOrder) {
	return func(o *v1.VerificationOrder) { o.Labels = labels }
}

func create(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Create(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

func updateStatus(t *testing.T, obj client.Object) {
	t.Helper()
	if err := k8s.Status().Update(context.Background(), obj); err != nil {
		t.Fatal(err)
	}
}

// latest reads o again.
func latest(t *testing.T, o *v1.VerificationOrder) *v1.VerificationOrder {
	t.Helper()
	fresh := &v1.VerificationOrder{}
	if err := k8s.Get(context.Background(), client.ObjectKeyFromObject(o), fresh); err != nil {
		t.Fatal(err)
	}
	return fresh
}
