package v1alpha1

// Condition types, kstatus-compatible: Ready and Synced are always present;
// Reconciling and Stalled only while True.
const (
	ConditionReady       = "Ready"
	ConditionSynced      = "Synced"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
)

// Condition reasons. Each names what happened in words a person can act on.
const (
	// Ready=True
	ReasonConverged = "Converged" // the vendor order is in the desired state
	ReasonObserved  = "Observed"  // ObserveOnly: the order was read
	ReasonWatching  = "Watching"  // state active and the vendor has finished the order

	// Reconciling
	ReasonCanceling    = "Canceling"
	ReasonClosing      = "Closing"
	ReasonReverifying  = "Reverifying"
	ReasonRateLimited  = "RateLimited"
	ReasonVendorError  = "VendorUnavailable"
	ReasonProgressing  = "Progressing"
	ReasonReconcileErr = "ReconcileError"

	// Stalled
	ReasonAlreadyTerminal        = "AlreadyTerminal"
	ReasonUnsupportedState       = "UnsupportedState"
	ReasonIllegalTransition      = "IllegalTransition"
	ReasonOrderNotFound          = "OrderNotFound"
	ReasonCredentialsRejected    = "CredentialsRejected"
	ReasonProviderNotReady       = "ProviderNotReady"
	ReasonLegalHold              = "LegalHold"
	ReasonNotReverifiable        = "NotReverifiable"
	ReasonReverifyWindowClosed   = "ReverificationWindowClosed"
	ReasonReverifyOutcomeUnknown = "ReverificationOutcomeUnknown"

	// Synced / Ready while nothing is called
	ReasonPaused      = "Paused"
	ReasonObserveOnly = "ObserveOnly"
	ReasonSynced      = "Synced"
	ReasonPending     = "Pending"

	// VerificationProvider Ready
	ReasonCredentialsValid   = "CredentialsValid"
	ReasonSecretNotFound     = "SecretNotFound"
	ReasonInvalidCredentials = "InvalidCredentials"
	ReasonUnknownVendor      = "UnknownVendor"
)
