// Package v1alpha1 contains the VerificationOrder and VerificationProvider
// API, group verification.ordersync.dev.
// +kubebuilder:object:generate=true
// +groupName=verification.ordersync.dev
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

var (
	// GroupVersion is the API group and version of these types.
	GroupVersion = schema.GroupVersion{Group: "verification.ordersync.dev", Version: "v1alpha1"}

	// SchemeBuilder registers the types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

// addKnownTypes registers the kinds of this group-version, and the meta types
// (ListOptions and the like) every group-version needs, with s.
func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&VerificationOrder{}, &VerificationOrderList{},
		&VerificationProvider{}, &VerificationProviderList{},
		&ClusterVerificationProvider{}, &ClusterVerificationProviderList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
