package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// ClusterVerificationProviderSpec is one vendor account that orders in the
// namespaces it selects may use, as cert-manager's ClusterIssuer and
// External Secrets' ClusterSecretStore serve many namespaces.
type ClusterVerificationProviderSpec struct {
	VerificationProviderSpec `json:",inline"`

	// namespaceSelector selects the namespaces whose VerificationOrders may
	// use this provider; {} selects every namespace. An order in another
	// namespace stalls with reason ProviderNotAllowed.
	// +required
	NamespaceSelector *metav1.LabelSelector `json:"namespaceSelector"`
}

// ClusterVerificationProvider is one vendor account, cluster-scoped, that
// VerificationOrders in the selected namespaces refer to with
// providerRef.kind ClusterVerificationProvider.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Cluster,shortName=cvp,categories=verification
// +kubebuilder:printcolumn:name="Vendor",type=string,JSONPath=`.spec.vendor`
// +kubebuilder:printcolumn:name="Environment",type=string,JSONPath=`.spec.environment`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type ClusterVerificationProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec ClusterVerificationProviderSpec `json:"spec"`
	// +optional
	Status VerificationProviderStatus `json:"status,omitempty"`
}

// ProviderSpec is the vendor account's spec, as both provider kinds have it.
func (p *ClusterVerificationProvider) ProviderSpec() *VerificationProviderSpec {
	return &p.Spec.VerificationProviderSpec
}

// ProviderStatus is the provider's status, as both provider kinds have it.
func (p *ClusterVerificationProvider) ProviderStatus() *VerificationProviderStatus { return &p.Status }

// ClusterVerificationProviderList is a list of ClusterVerificationProvider.
// +kubebuilder:object:root=true
type ClusterVerificationProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []ClusterVerificationProvider `json:"items"`
}

// Provider is either provider kind: one vendor account, its spec and status.
// +kubebuilder:object:generate=false
type Provider interface {
	metav1.Object
	runtime.Object
	ProviderSpec() *VerificationProviderSpec
	ProviderStatus() *VerificationProviderStatus
}

var (
	_ Provider = &VerificationProvider{}
	_ Provider = &ClusterVerificationProvider{}
)
