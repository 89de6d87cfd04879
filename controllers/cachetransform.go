package controllers

import (
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// lastApplied is kubectl's copy of the applied manifest.
const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TrimForCache is the informer cache's transform: it drops what the
// controllers never read, managed fields and kubectl's last-applied
// annotation, which are often most of an object's size, has label and
// annotation keys (and label values) share one copy each, and has orders
// share the strings that repeat from one order to the next and hold their
// lists in arrays of their own length. Every entry point sets it
// (cache.Options.DefaultTransform).
func TrimForCache(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			o.SetAnnotations(sharedKeys(a, false))
		}
		if l := o.GetLabels(); l != nil {
			o.SetLabels(sharedKeys(l, true))
		}
	}
	if o, ok := obj.(*v1.VerificationOrder); ok {
		shareRepeatedStrings(o)
		clipLists(o)
	}
	return obj, nil
}

// sharedKeys is m without kubectl's last-applied annotation, its keys (and
// its values too if values) shared: the same few keys are on every object
// a GitOps tool applies. Annotation values are often the object's own (a
// tracking id), and are left: sharing those would only add to the table of
// shared values.
func sharedKeys(m map[string]string, values bool) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == lastApplied {
			continue
		}
		if values {
			share(&v)
		}
		share(&k)
		out[k] = v
	}
	return out
}

// shareRepeatedStrings makes o's strings that most orders have in common
// (kind, namespace, provider, states, condition types, reasons and
// messages) point at one copy each. The decoder gives every order its own
// copy of each; shared, they are a third less heap per order held (about
// 1,380 → 900 bytes, BenchmarkCachedOrderHeap). Strings that are o's
// alone (name, uid, ids) are left: sharing those would only add to the
// table of shared values.
func shareRepeatedStrings(o *v1.VerificationOrder) {
	for _, s := range []*string{&o.APIVersion, &o.Kind, &o.Namespace, &o.Spec.ProviderRef.Name,
		(*string)(&o.Spec.ProviderRef.Kind), (*string)(&o.Spec.State), (*string)(&o.Spec.DeletionPolicy),
		(*string)(&o.Spec.ManagementPolicy), &o.Status.VendorState, (*string)(&o.Status.State),
		(*string)(&o.Status.PlannedAction), (*string)(&o.Status.LastAppliedAction)} {
		share(s)
	}
	for i := range o.Finalizers {
		share(&o.Finalizers[i])
	}
	for i := range o.Status.Conditions {
		c := &o.Status.Conditions[i]
		share(&c.Type)
		share((*string)(&c.Status))
		share(&c.Reason)
		share(&c.Message)
	}
	for i := range o.Status.Requests {
		share(&o.Status.Requests[i].VendorState)
	}
	if o.Status.OrderID == o.Spec.OrderID {
		o.Status.OrderID = o.Spec.OrderID
	}
}

// clipLists gives o's lists arrays of their own length. The decoder grows
// a list 1, 2, 4, ... entries, so an order with three conditions (a
// stalled one: Ready, Stalled, Synced) held an array of four, 96 bytes
// more than it needs (TestCachedOrdersListsAreTheirOwnLength).
func clipLists(o *v1.VerificationOrder) {
	o.Status.Conditions = clip(o.Status.Conditions)
	o.Status.Requests = clip(o.Status.Requests)
	o.Finalizers = clip(o.Finalizers)
	o.OwnerReferences = clip(o.OwnerReferences)
}

func clip[T any](s []T) []T {
	if len(s) == cap(s) {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

func share(s *string) {
	if *s != "" {
		*s = unique.Make(*s).Value()
	}
}
