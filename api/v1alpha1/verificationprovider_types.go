package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Vendor names a verification vendor.
// +kubebuilder:validation:Enum=truework;truv;accountchek;txcloud
type Vendor string

// The supported vendors.
const (
	VendorTruework    Vendor = "truework"
	VendorTruv        Vendor = "truv"
	VendorAccountChek Vendor = "accountchek"
	VendorTxCloud     Vendor = "txcloud"
)

// Environment picks the vendor's base URL and which credentials are valid.
// +kubebuilder:validation:Enum=sandbox;production
type Environment string

// The vendor environments.
const (
	EnvironmentSandbox    Environment = "sandbox"
	EnvironmentProduction Environment = "production"
)

// VerificationProviderSpec is one vendor account.
// +kubebuilder:validation:XValidation:rule="self.vendor == oldSelf.vendor",message="vendor is immutable; create a new VerificationProvider for another vendor"
// +kubebuilder:validation:XValidation:rule="!has(self.endpoint) || self.environment != 'production' || !self.endpoint.startsWith('http://')",message="environment production needs an https endpoint: credentials never travel in clear",fieldPath=".endpoint"
type VerificationProviderSpec struct {
	// vendor is the verification vendor this account belongs to.
	// +required
	Vendor Vendor `json:"vendor"`

	// environment picks the vendor's base URL and the credential format
	// expected (for example tw_sk_test_ keys are sandbox-only).
	// +kubebuilder:default=sandbox
	// +optional
	Environment Environment `json:"environment,omitempty"`

	// endpoint overrides the vendor's base URL, e.g. to go through a proxy
	// or to a simulator. It must use https, except to a loopback host (a
	// local simulator) outside production: credentials never travel in
	// clear.
	// +kubebuilder:validation:MaxLength=2048
	// +kubebuilder:validation:XValidation:rule="self == '' || isURL(self) && (url(self).getScheme() == 'https' || url(self).getScheme() == 'http')",message="endpoint must be an absolute http or https URL"
	// +kubebuilder:validation:XValidation:rule="!self.startsWith('http://') || self.matches('^http://(localhost|127[.][0-9]+[.][0-9]+[.][0-9]+|[[]::1[]])(:[0-9]+)?(/.*)?$')",message="endpoint must use https; plain http is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1])"
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// credentialsSecretRef names a Secret in the provider's namespace with
	// the vendor's credentials: truework apiKey; truv clientID, accessSecret;
	// accountchek username, password, optional integratorID; txcloud apiKey.
	// +required
	CredentialsSecretRef SecretReference `json:"credentialsSecretRef"`

	// rateLimit is the budget of calls to the vendor shared by every order
	// using this provider. Defaults to the vendor's published limit.
	// +optional
	RateLimit *RateLimit `json:"rateLimit,omitempty"`

	// pollInterval is how often an order that is not yet terminal is
	// observed again.
	// +kubebuilder:default="5m"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1s')",message="pollInterval must be at least 1s"
	// +optional
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`

	// pollBudgetPercent is the share of the rate limit that routine polls
	// may use, so that cancels always have headroom. When the orders'
	// polls would need more, each order is polled less often than
	// pollInterval (status.effectivePollInterval says how often).
	// +kubebuilder:default=50
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	PollBudgetPercent *int32 `json:"pollBudgetPercent,omitempty"`
}

// SecretReference names a Secret in the same namespace.
type SecretReference struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// RateLimit is a token bucket.
type RateLimit struct {
	// requestsPerSecond is the sustained rate of calls.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +required
	RequestsPerSecond int32 `json:"requestsPerSecond"`

	// burst is how many calls may go at once; defaults to requestsPerSecond.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Burst int32 `json:"burst,omitempty"`
}

// VerificationProviderStatus is what the controller found.
type VerificationProviderStatus struct {
	// observedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// orders is how many orders of this provider's vendor account are
	// polled routinely (not terminal).
	// +optional
	Orders int32 `json:"orders,omitempty"`

	// effectivePollInterval is how often each of those orders is polled:
	// spec.pollInterval, or longer when the polls would otherwise use more
	// than spec.pollBudgetPercent of the rate limit.
	// +optional
	EffectivePollInterval *metav1.Duration `json:"effectivePollInterval,omitempty"`

	// conditions: Ready is True when the Secret exists and holds
	// well-formed credentials for the vendor and environment.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VerificationProvider is one vendor account that VerificationOrders in the
// same namespace refer to.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vp,categories=verification
// +kubebuilder:printcolumn:name="Vendor",type=string,JSONPath=`.spec.vendor`
// +kubebuilder:printcolumn:name="Environment",type=string,JSONPath=`.spec.environment`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VerificationProvider struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec VerificationProviderSpec `json:"spec"`
	// +optional
	Status VerificationProviderStatus `json:"status,omitempty"`
}

// VerificationProviderList is a list of VerificationProvider.
// +kubebuilder:object:root=true
type VerificationProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VerificationProvider `json:"items"`
}
