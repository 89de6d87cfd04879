package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// PausedAnnotation set to "true" stops every vendor call for one order.
const PausedAnnotation = "verification.ordersync.dev/paused"

// RetainAnnotation set to "true" exempts one order from its provider's
// retention: it is never pruned, however long it has been finished.
const RetainAnnotation = "verification.ordersync.dev/retain"

// CancelFinalizer holds a VerificationOrder with deletionPolicy Cancel
// until its vendor order is canceled.
const CancelFinalizer = "verification.ordersync.dev/cancel-on-delete"

// ProviderInUseFinalizer holds a provider, of either kind, while orders
// with deletionPolicy Cancel may still need it to cancel.
const ProviderInUseFinalizer = "verification.ordersync.dev/in-use"

// DesiredState is what the user wants the vendor order to be.
// +kubebuilder:validation:Enum=active;canceled;closed
type DesiredState string

// The states a user may declare.
const (
	DesiredActive   DesiredState = "active"
	DesiredCanceled DesiredState = "canceled"
	DesiredClosed   DesiredState = "closed"
)

// CancellationReason is why an order is canceled; Truework records it.
// +kubebuilder:validation:Enum=immediate;high-turnaround-time;competitor;wrong-info;other
type CancellationReason string

// DeletionPolicy says what deleting the VerificationOrder does at the vendor.
// +kubebuilder:validation:Enum=Orphan;Cancel
type DeletionPolicy string

// The deletion policies: leave the vendor order alone, or cancel it first.
const (
	DeletionOrphan DeletionPolicy = "Orphan"
	DeletionCancel DeletionPolicy = "Cancel"
)

// ManagementPolicy says whether the controller may act at the vendor.
// +kubebuilder:validation:Enum=Manage;ObserveOnly
type ManagementPolicy string

// The management policies: act at the vendor, or only observe and plan.
const (
	ManagementManage      ManagementPolicy = "Manage"
	ManagementObserveOnly ManagementPolicy = "ObserveOnly"
)

// VerificationOrderSpec is the desired state of one vendor order.
// +kubebuilder:validation:XValidation:rule="has(self.orderID) != has(self.reverification)",message="exactly one of spec.orderID and spec.reverification must be set"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.orderID) || (has(self.orderID) && self.orderID == oldSelf.orderID)",message="spec.orderID is immutable once set",fieldPath=".orderID"
// +kubebuilder:validation:XValidation:rule="!has(oldSelf.reverification) || has(self.reverification)",message="spec.reverification cannot be removed: a reverification in flight would be abandoned; delete this object instead",fieldPath=".reverification"
type VerificationOrderSpec struct {
	// providerRef names the provider: a VerificationProvider in this
	// namespace, or a ClusterVerificationProvider that selects it.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.providerRef is immutable"
	// +required
	ProviderRef ProviderReference `json:"providerRef"`

	// orderID is the vendor's id of an existing order.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`
	// +optional
	OrderID string `json:"orderID,omitempty"`

	// reverification asks the vendor to reverify a completed request,
	// creating a new vendor object whose id is recorded in status.orderID.
	// Truework only.
	// +kubebuilder:validation:XValidation:rule="self == oldSelf",message="spec.reverification is immutable"
	// +optional
	Reverification *Reverification `json:"reverification,omitempty"`

	// state is the desired state of the vendor order. active only watches
	// it; canceled and closed are final: vendors cannot undo either.
	// +kubebuilder:default=active
	// +kubebuilder:validation:XValidation:rule="oldSelf == 'active' || self == oldSelf",message="spec.state cannot move away from canceled or closed: the vendor cannot undo either"
	// +optional
	State DesiredState `json:"state,omitempty"`

	// cancellation is sent with a cancel to vendors that record a reason.
	// +optional
	Cancellation *Cancellation `json:"cancellation,omitempty"`

	// deletionPolicy: Orphan leaves the vendor order alone when this object
	// is deleted; Cancel cancels it first.
	// +kubebuilder:default=Orphan
	// +optional
	DeletionPolicy DeletionPolicy `json:"deletionPolicy,omitempty"`

	// managementPolicy: Manage acts at the vendor; ObserveOnly observes and
	// plans but never makes a mutating call.
	// +kubebuilder:default=Manage
	// +optional
	ManagementPolicy ManagementPolicy `json:"managementPolicy,omitempty"`

	// ttlSecondsAfterFinished deletes this object that many seconds after
	// the order finished (its vendor state is terminal: nothing can change
	// at the vendor again), overriding the provider's
	// spec.retention.ttlSecondsAfterFinished; 0 deletes it as soon as it
	// finishes. Pruning never calls the vendor and never cancels anything.
	// Annotation verification.ordersync.dev/retain: "true" keeps it
	// instead; an order Argo CD or Flux manages is kept unless the provider
	// sets spec.retention.pruneGitOpsManaged.
	// +kubebuilder:validation:Minimum=0
	// +optional
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// ProviderKind is the kind of provider an order refers to.
// +kubebuilder:validation:Enum=VerificationProvider;ClusterVerificationProvider
type ProviderKind string

// The provider kinds.
const (
	KindVerificationProvider        ProviderKind = "VerificationProvider"
	KindClusterVerificationProvider ProviderKind = "ClusterVerificationProvider"
)

// ProviderReference names the provider an order uses.
type ProviderReference struct {
	// kind is VerificationProvider (in the order's namespace) or
	// ClusterVerificationProvider (cluster-wide, if its namespaceSelector
	// selects the order's namespace).
	// +kubebuilder:default=VerificationProvider
	// +optional
	Kind ProviderKind `json:"kind,omitempty"`

	// name of the provider.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +required
	Name string `json:"name"`
}

// Cluster says whether the reference is to a ClusterVerificationProvider.
func (r ProviderReference) Cluster() bool { return r.Kind == KindClusterVerificationProvider }

// Reverification names the completed request to reverify.
type Reverification struct {
	// verificationRequestID is the completed request to reverify.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`
	// +required
	VerificationRequestID string `json:"verificationRequestID"`

	// reportID is the id of that request's report.
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=128
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9_.:-]*$`
	// +required
	ReportID string `json:"reportID"`
}

// Cancellation is the reason recorded with a cancel.
type Cancellation struct {
	// reason for the cancellation.
	// +kubebuilder:default=other
	// +optional
	Reason CancellationReason `json:"reason,omitempty"`

	// details is free text sent to the vendor. Do not put personal data here.
	// +kubebuilder:validation:MaxLength=1000
	// +optional
	Details string `json:"details,omitempty"`
}

// ObservedState is the vendor order's state in vendor-neutral words.
// +kubebuilder:validation:Enum=active;canceled;closed;completed;expired;failed
type ObservedState string

// Action is a mutating vendor call.
// +kubebuilder:validation:Enum=Cancel;Close;Reverify
type Action string

// RequestStatus is one part of a vendor order (a Truework verification
// request, a Truv employer).
type RequestStatus struct {
	// id is the vendor's id of the request.
	ID string `json:"id"`
	// vendorState is the vendor's word for the request.
	VendorState string `json:"vendorState"`
}

// VerificationOrderStatus is what the controller observed and did.
type VerificationOrderStatus struct {
	// observedGeneration is the generation this status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// orderID is the vendor id being managed: spec.orderID, or the object
	// a reverification created.
	// +optional
	OrderID string `json:"orderID,omitempty"`

	// vendorState is the vendor's own word for the order.
	// +optional
	VendorState string `json:"vendorState,omitempty"`

	// state is vendorState in vendor-neutral words.
	// +optional
	State ObservedState `json:"state,omitempty"`

	// plannedAction is what the controller would do next at the vendor;
	// empty when nothing is needed or possible.
	// +optional
	PlannedAction Action `json:"plannedAction,omitempty"`

	// requests are the parts of the order with their own state.
	// +listType=atomic
	// +optional
	Requests []RequestStatus `json:"requests,omitempty"`

	// lastObservedTime is when the vendor was last read successfully.
	// +optional
	LastObservedTime *metav1.Time `json:"lastObservedTime,omitempty"`

	// lastAppliedAction is the last mutating call the vendor accepted. It is
	// kept so that an order canceled by this controller still reads as
	// canceled at a vendor that shows it otherwise (txcloud: expired).
	// +optional
	LastAppliedAction Action `json:"lastAppliedAction,omitempty"`

	// lastAppliedTime is when lastAppliedAction was accepted.
	// +optional
	LastAppliedTime *metav1.Time `json:"lastAppliedTime,omitempty"`

	// appliedCount is how many times in a row the vendor accepted
	// lastAppliedAction without the order moving. The controller backs off
	// between attempts and stops after a few (reason VendorIgnoredAction).
	// +optional
	AppliedCount int32 `json:"appliedCount,omitempty"`

	// cancelRequestedTime is recorded before a cancel is sent to a vendor
	// that shows a canceled order as something else (txcloud: expired).
	// Should the cancel's answer be lost, it is what tells the controller
	// that the order reading so later was canceled by it.
	// +optional
	CancelRequestedTime *metav1.Time `json:"cancelRequestedTime,omitempty"`

	// reverificationRequestedTime is recorded before the reverify call.
	// Set with orderID still empty, it means a call may have reached the
	// vendor without its result being recorded, so the call is not repeated.
	// +optional
	ReverificationRequestedTime *metav1.Time `json:"reverificationRequestedTime,omitempty"`

	// conditions: Ready, Synced, Reconciling, Stalled.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// VerificationOrder keeps one vendor verification order in the declared state.
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:shortName=vo,categories=verification
// +kubebuilder:printcolumn:name="Provider",type=string,JSONPath=`.spec.providerRef.name`
// +kubebuilder:printcolumn:name="Order",type=string,JSONPath=`.status.orderID`
// +kubebuilder:printcolumn:name="Desired",type=string,JSONPath=`.spec.state`
// +kubebuilder:printcolumn:name="Observed",type=string,JSONPath=`.status.state`
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Plan",type=string,JSONPath=`.status.plannedAction`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type VerificationOrder struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec VerificationOrderSpec `json:"spec"`
	// +optional
	Status VerificationOrderStatus `json:"status,omitempty"`
}

// VerificationOrderList is a list of VerificationOrder.
// +kubebuilder:object:root=true
type VerificationOrderList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []VerificationOrder `json:"items"`
}
