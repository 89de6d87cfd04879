package main

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
)

// namespace is where the sandbox puts everything (docs/sandbox.md).
const namespace = "sandbox"

// createProviders creates namespace sandbox and, per vendor, the Secret
// and the VerificationProvider startVendors built.
func createProviders(ctx context.Context, c client.Client, vendors []*fixture.Account) error {
	if err := c.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}); err != nil {
		return fmt.Errorf("create namespace %s: %w", namespace, err)
	}
	for _, v := range vendors {
		if err := v.Create(ctx, c); err != nil {
			return err
		}
	}
	return nil
}

// waitProvidersReady waits until the operator has accepted every provider's
// credentials, so that orders applied next reconcile at once rather than
// stalling on a provider the cache has not seen yet.
func waitProvidersReady(ctx context.Context, c client.Client, vendors []*fixture.Account) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for _, v := range vendors {
		var last *metav1.Condition
		err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			p := &v1.VerificationProvider{}
			if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: v.Name}, p); err != nil {
				return false, nil
			}
			last = meta.FindStatusCondition(p.Status.Conditions, v1.ConditionReady)
			return last != nil && last.Status == metav1.ConditionTrue, nil
		})
		if err != nil {
			if last != nil {
				return fmt.Errorf("VerificationProvider %s is not Ready (%s: %s)", v.Name, last.Reason, last.Message)
			}
			return fmt.Errorf("VerificationProvider %s has no Ready condition: is the operator running? %w", v.Name, err)
		}
	}
	return nil
}

// seedOrder creates an order at the vendor in the given state word.
func seedOrder(v *fixture.Account, state string) (string, error) {
	id, err := v.Sim.CreateOrder(state)
	if err != nil {
		return "", fmt.Errorf("seed a %s order in state %q: %w", v.Name, state, err)
	}
	return id, nil
}

// extraOrder is a plain VerificationOrder (state active) over a vendor order
// in some state, so that `kubectl get vo` shows a spread next to the samples.
type extraOrder struct {
	name, vendor, vendorState string
}

// extraOrders: per vendor, an open order (the one "things to try" moves),
// one the vendor completed, and one the vendor canceled (txcloud has no
// canceled status).
func extraOrders(vendors []*fixture.Account) []extraOrder {
	var out []extraOrder
	for _, v := range vendors {
		out = append(out,
			extraOrder{v.Name + "-open", v.Name, v.Cancelable},
			extraOrder{v.Name + "-completed", v.Name, v.Completed})
		if v.Canceled != "" {
			out = append(out, extraOrder{v.Name + "-canceled-by-vendor", v.Name, v.Canceled})
		}
	}
	return out
}

// createExtraOrders seeds the vendor orders behind extraOrders and applies a
// VerificationOrder for each; it returns the vendor order ids by name.
func createExtraOrders(ctx context.Context, c client.Client, vendors []*fixture.Account) (map[string]string, error) {
	ids := map[string]string{}
	for _, e := range extraOrders(vendors) {
		id, err := seedOrder(vendorByName(vendors, e.vendor), e.vendorState)
		if err != nil {
			return nil, err
		}
		o := &v1.VerificationOrder{
			ObjectMeta: metav1.ObjectMeta{Name: e.name, Namespace: namespace},
			Spec: v1.VerificationOrderSpec{
				ProviderRef: v1.ProviderReference{Name: e.vendor}, OrderID: id, State: v1.DesiredActive,
			},
		}
		if err := c.Create(ctx, o); err != nil {
			return nil, fmt.Errorf("create VerificationOrder %s: %w", e.name, err)
		}
		ids[e.name] = id
	}
	return ids, nil
}
