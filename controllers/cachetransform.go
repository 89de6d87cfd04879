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
// annotation, which are often most of an object's size, and has orders
// share the strings that repeat from one order to the next. Every entry
// point sets it (cache.Options.DefaultTransform).
func TrimForCache(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
		if a := o.GetAnnotations(); a != nil {
			if _, ok := a[lastApplied]; ok {
				trimmed := make(map[string]string, len(a)-1)
				for k, v := range a {
					if k != lastApplied {
						trimmed[k] = v
					}
				}
				o.SetAnnotations(trimmed)
			}
		}
	}
	if o, ok := obj.(*v1.VerificationOrder); ok {
		shareRepeatedStrings(o)
	}
	return obj, nil
}

// shareRepeatedStrings makes o's strings that most orders have in common
// (kind, namespace, provider, states, condition types, reasons and
// messages) point at one copy each. The decoder gives every order its own
// copy of each; shared, they are a third less heap per order held (about
// 1,300 → 900 bytes, TestSharedStringsAreSmaller). Strings that are o's
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
	if o.Status.OrderID == o.Spec.OrderID {
		o.Status.OrderID = o.Spec.OrderID
	}
}

func share(s *string) {
	if *s != "" {
		*s = unique.Make(*s).Value()
	}
}
