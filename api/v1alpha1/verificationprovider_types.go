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
// +kubebuilder:validation:XValidation:rule="!has(self.vendorAPIVersion) || self.vendor == 'truework'",message="vendorAPIVersion applies to truework only",fieldPath=".vendorAPIVersion"
// +kubebuilder:validation:XValidation:rule="!has(self.responseSignatures) || self.vendor == 'truework'",message="responseSignatures applies to truework only (the other vendors do not sign responses)",fieldPath=".responseSignatures"
// +kubebuilder:validation:XValidation:rule="!has(self.webhook) || self.vendor != 'accountchek'",message="accountchek has no webhooks",fieldPath=".webhook"
// +kubebuilder:validation:XValidation:rule="!has(self.endpoint) || self.environment != 'production' || !isURL(self.endpoint) || url(self.endpoint).getScheme() == 'https'",message="environment production needs an https endpoint: credentials never travel in clear",fieldPath=".endpoint"
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
	// The scheme and host compare case-insensitively (url() lowers the
	// scheme). User info, a query or a fragment would swallow or redirect
	// the vendor's path.
	// +kubebuilder:validation:XValidation:rule="self == '' || isURL(self) && url(self).getScheme() in ['http', 'https'] && url(self).getHostname() != ''",message="endpoint must be an absolute http or https URL"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[^/?#]*//[^/?#]*@') && !self.contains('?') && !self.contains('#')",message="endpoint must not carry user info, a query or a fragment: credentials belong in the Secret"
	// +kubebuilder:validation:XValidation:rule="!self.matches('^(?i)http://') || self.matches('^(?i)http://(localhost|127[.][0-9]+[.][0-9]+[.][0-9]+|[[]::1[]])(:[0-9]+)?(/.*)?$')",message="endpoint must use https; plain http is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1])"
	// +optional
	Endpoint string `json:"endpoint,omitempty"`

	// credentialsSecretRef names a Secret with the vendor's credentials, in
	// the provider's namespace (a ClusterVerificationProvider: in the
	// namespace given, or the operator's): truework apiKey; truv clientID, accessSecret;
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

	// vendorAPIVersion is the vendor API version the account's key is
	// pinned to (Truework: its developer settings show it). The operator
	// speaks that version: Truework answers 406 to an older one, and its
	// routes differ (2023-10-30 manages orders under /orders; the older
	// versions manage verification requests under /verification-requests,
	// so spec.orderID then names a verification request). Default: the
	// vendor's current version.
	// +kubebuilder:validation:Enum="2019-10-15";"2020-12-07";"2022-08-01";"2023-10-30"
	// +optional
	VendorAPIVersion string `json:"vendorAPIVersion,omitempty"`

	// responseSignatures says how the vendor's signed responses are checked
	// (Truework signs each response with Ed25519).
	// +optional
	ResponseSignatures *ResponseSignatures `json:"responseSignatures,omitempty"`

	// webhook turns on the vendor's push notifications for this account
	// (Truework, Truv, txcloud): the manager's receiver accepts signed
	// deliveries at status.webhook.path and looks at the orders they name at
	// once; while deliveries arrive, routine polls fall back to
	// webhook.pollInterval. Register the receiver's URL at the vendor
	// (docs/webhooks.md).
	// +optional
	Webhook *Webhook `json:"webhook,omitempty"`

	// retention says when this provider's finished orders (their vendor
	// state is terminal) are deleted. Unset keeps them forever.
	// +optional
	Retention *Retention `json:"retention,omitempty"`
}

// Retention deletes finished orders, as a Job's ttlSecondsAfterFinished
// does finished Jobs (docs/design.md#retention).
type Retention struct {
	// ttlSecondsAfterFinished deletes an order that many seconds after it
	// finished; 0 as soon as it finishes; unset never. An order's own
	// spec.ttlSecondsAfterFinished overrides it, and annotation
	// verification.ordersync.dev/retain: "true" exempts one order. Pruning
	// never calls the vendor and never cancels anything.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`

	// pruneGitOpsManaged also prunes orders that Argo CD or Flux manages
	// (annotation argocd.argoproj.io/tracking-id, label
	// app.kubernetes.io/instance or argocd.argoproj.io/instance, label
	// kustomize.toolkit.fluxcd.io/name or helm.toolkit.fluxcd.io/name).
	// Off by default: the tool would create a pruned order again from Git
	// (docs/gitops.md#retention).
	// +optional
	PruneGitOpsManaged bool `json:"pruneGitOpsManaged,omitempty"`
}

// Webhook configures the receipt of a vendor's push notifications.
type Webhook struct {
	// secretKey is the key, in the credentials Secret, of the webhook token
	// (Truework's X-Truework-Token) or signing secret (txcloud). Truv signs
	// with the access secret and needs none.
	// +kubebuilder:default=webhookSecret
	// +kubebuilder:validation:MaxLength=253
	// +optional
	SecretKey string `json:"secretKey,omitempty"`

	// pollInterval is how often an order is polled while the vendor's
	// deliveries arrive (one came within this interval): the poll stays as
	// a safety net for a lost delivery.
	// +kubebuilder:default="1h"
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1m')",message="webhook.pollInterval must be at least 1m"
	// +optional
	PollInterval *metav1.Duration `json:"pollInterval,omitempty"`
}

// WebhookStatus is the health of a provider's push notifications. The
// receiver writes it (at most every few seconds), whichever replica the
// delivery reached; counts are in the metric
// verification_operator_webhook_deliveries_total.
type WebhookStatus struct {
	// path is where the vendor must deliver, on the manager's webhook
	// receiver (behind your Ingress).
	Path string `json:"path"`
	// lastDeliveryTime is when the last authentic delivery arrived.
	// +optional
	LastDeliveryTime *metav1.Time `json:"lastDeliveryTime,omitempty"`
	// lastRefusalTime is when a delivery was last refused.
	// +optional
	LastRefusalTime *metav1.Time `json:"lastRefusalTime,omitempty"`
	// lastRefusal says why: forged, replayed, oversized or unreadable.
	// +optional
	LastRefusal string `json:"lastRefusal,omitempty"`
}

// SignatureVerification turns response signature checks on or off.
// +kubebuilder:validation:Enum=Enabled;Disabled
type SignatureVerification string

// The signature verification modes.
const (
	SignatureVerificationEnabled  SignatureVerification = "Enabled"
	SignatureVerificationDisabled SignatureVerification = "Disabled"
)

// ResponseSignatures configures the check of the vendor's response
// signatures.
type ResponseSignatures struct {
	// verification: Enabled refuses every response without a valid
	// signature (reason SignatureInvalid); Disabled accepts responses
	// unchecked, and the provider's Ready condition warns about it. Default:
	// Enabled in production; in sandbox, Enabled when publicKeys are given.
	// +optional
	Verification SignatureVerification `json:"verification,omitempty"`

	// publicKeys are the vendor's signing keys by key id (Truework's
	// keyId), each a base64 Ed25519 public key. Default: the keys the vendor
	// publishes for the environment.
	// +kubebuilder:validation:MaxProperties=8
	// +optional
	PublicKeys map[string]Ed25519PublicKey `json:"publicKeys,omitempty"`
}

// Ed25519PublicKey is a base64 Ed25519 public key: 32 bytes, 43 characters
// and one "=".
// +kubebuilder:validation:Pattern=`^[A-Za-z0-9+/]{43}=$`
type Ed25519PublicKey string

// SecretReference names a Secret.
type SecretReference struct {
	// name of the Secret.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`

	// namespace of the Secret, for a ClusterVerificationProvider only;
	// defaults to the operator's namespace. A VerificationProvider always
	// reads the Secret in its own namespace.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=63
	// +optional
	Namespace string `json:"namespace,omitempty"`
}

// RateLimit is the account's request budget: a token bucket, and a daily
// quota. Unset fields take the vendor's published limits.
type RateLimit struct {
	// requestsPerSecond is the sustained rate of calls; defaults to the
	// vendor's published rate (docs/vendors.md).
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	RequestsPerSecond int32 `json:"requestsPerSecond,omitempty"`

	// burst is how many calls may go at once; defaults to requestsPerSecond.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	// +optional
	Burst int32 `json:"burst,omitempty"`

	// requestsPerDay is the account's daily quota, where the vendor's plan
	// has one (txcloud: 1,000 Free, 10,000 Starter, 100,000 Growth). The
	// operator keeps every 24 hours within it, and stretches the poll
	// interval so that routine polls use at most pollBudgetPercent of it;
	// status.effectivePollInterval and a PollsStretched event say so.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100000000
	// +optional
	RequestsPerDay int32 `json:"requestsPerDay,omitempty"`

	// maxInFlight caps the account's vendor calls in flight at once;
	// defaults to the vendor's documented concurrency (txcloud's Free
	// plan: 10), or 10 where none is published. Orders beyond it wait for
	// a call to end, without holding a worker. Providers that reach the
	// same account share one cap: the smallest any of them declares.
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	// +optional
	MaxInFlight int32 `json:"maxInFlight,omitempty"`
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

	// webhook is the health of push notifications, when spec.webhook is set.
	// +optional
	Webhook *WebhookStatus `json:"webhook,omitempty"`

	// effectivePollInterval is how often each of those orders is polled:
	// spec.pollInterval, or longer when the polls would otherwise use more
	// than spec.pollBudgetPercent of the rate limit.
	// +optional
	EffectivePollInterval *metav1.Duration `json:"effectivePollInterval,omitempty"`

	// finishedOrders is how many of this provider's orders are finished
	// (their vendor state is terminal) and still held: not yet past their
	// ttlSecondsAfterFinished, or kept (no retention, the retain
	// annotation, managed by Argo CD or Flux).
	// +optional
	FinishedOrders int32 `json:"finishedOrders,omitempty"`

	// shard is the shard that serves this provider and spends its vendor
	// account's budget (the instance whose --watch-label-selector matches
	// its label verification.ordersync.dev/shard; "default" without one).
	// Absent when the operator is not sharded. No other shard calls the
	// account: it is held through a Lease (docs/scaling.md).
	// +optional
	Shard string `json:"shard,omitempty"`

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

	// +kubebuilder:validation:XValidation:rule="!has(self.credentialsSecretRef.__namespace__)",message="a VerificationProvider reads its Secret from its own namespace; credentialsSecretRef.namespace is for a ClusterVerificationProvider",fieldPath=".credentialsSecretRef.namespace"
	// +required
	Spec VerificationProviderSpec `json:"spec"`
	// +optional
	Status VerificationProviderStatus `json:"status,omitempty"`
}

// ProviderSpec is the vendor account's spec, as both provider kinds have it.
func (p *VerificationProvider) ProviderSpec() *VerificationProviderSpec { return &p.Spec }

// ProviderStatus is the provider's status, as both provider kinds have it.
func (p *VerificationProvider) ProviderStatus() *VerificationProviderStatus { return &p.Status }

// VerificationProviderList is a list of VerificationProvider.
// +kubebuilder:object:root=true
type VerificationProviderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VerificationProvider `json:"items"`
}
