package v1alpha1

// Condition types, kstatus-compatible: Ready and Synced are always present;
// Reconciling and Stalled only while True.
const (
	ConditionReady       = "Ready"
	ConditionSynced      = "Synced"
	ConditionReconciling = "Reconciling"
	ConditionStalled     = "Stalled"
	// ConditionLimitsApplied, on a provider, says whether the limits it
	// declares are the ones its vendor account is held to: providers that
	// reach one account share one budget, with the strictest limits any of
	// them declares.
	ConditionLimitsApplied = "LimitsApplied"
)

// Reason is a condition's reason: a CamelCase word that names what happened
// in terms a person can act on. docs/design.md#conditions lists what to do
// about each.
type Reason string

// VerificationOrder reasons.
const (
	// Ready=True.
	ReasonConverged   Reason = "Converged"   // the vendor order is in the desired state
	ReasonWatching    Reason = "Watching"    // state active, and the vendor has finished the order
	ReasonObserveOnly Reason = "ObserveOnly" // managementPolicy ObserveOnly: read and planned, never acted

	// Reconciling=True: an action was applied, or a retry is due.
	ReasonCanceling         Reason = "Canceling"
	ReasonClosing           Reason = "Closing"
	ReasonReverifying       Reason = "Reverifying"
	ReasonPending           Reason = "Pending" // not observed yet
	ReasonRateLimited       Reason = "RateLimited"
	ReasonVendorUnavailable Reason = "VendorUnavailable"
	ReasonReconcileError    Reason = "ReconcileError" // the Kubernetes API failed
	// ReasonAccountHeldByShard: the provider's vendor account is spent by
	// another shard (docs/scaling.md); the order is retried until it is
	// released or its Lease expires.
	ReasonAccountHeldByShard Reason = "AccountHeldByShard"

	// Stalled=True: nothing changes until a person (or the vendor) does something.
	ReasonAlreadyTerminal              Reason = "AlreadyTerminal"
	ReasonUnsupportedState             Reason = "UnsupportedState"
	ReasonIllegalTransition            Reason = "IllegalTransition"
	ReasonOrderNotFound                Reason = "OrderNotFound"
	ReasonCredentialsRejected          Reason = "CredentialsRejected"
	ReasonProviderNotReady             Reason = "ProviderNotReady"
	ReasonProviderNotAllowed           Reason = "ProviderNotAllowed" // a ClusterVerificationProvider that does not select the order's namespace
	ReasonOrderClaimed                 Reason = "OrderClaimed"       // another VerificationOrder manages the same vendor order at the same account
	ReasonLegalHold                    Reason = "LegalHold"
	ReasonNotReverifiable              Reason = "NotReverifiable"
	ReasonReverificationWindowClosed   Reason = "ReverificationWindowClosed"
	ReasonReverificationOutcomeUnknown Reason = "ReverificationOutcomeUnknown"
	ReasonVendorIgnoredAction          Reason = "VendorIgnoredAction"
	ReasonVendorRejectedRequest        Reason = "VendorRejectedRequest" // a read refused as malformed (400, 406, ...)
	ReasonVendorRedirected             Reason = "VendorRedirected"      // never followed: see docs/reliability.md
	ReasonSignatureInvalid             Reason = "SignatureInvalid"      // a response without the vendor's valid signature

	// Neither: no vendor call is made.
	ReasonPaused Reason = "Paused"

	// Synced=True.
	ReasonSynced Reason = "Synced"
)

// VerificationProvider reasons (its Ready condition).
const (
	ReasonCredentialsValid   Reason = "CredentialsValid"
	ReasonSecretNotFound     Reason = "SecretNotFound"
	ReasonInvalidCredentials Reason = "InvalidCredentials"
	ReasonUnknownVendor      Reason = "UnknownVendor"
	ReasonInUse              Reason = "InUse" // being deleted; Cancel-policy orders still need it
	ReasonInvalidSettings    Reason = "InvalidSettings"

	// LimitsApplied reasons.
	ReasonOwnLimits           Reason = "OwnLimits"           // the account is held to the limits this provider declares
	ReasonAccountLimitsDiffer Reason = "AccountLimitsDiffer" // another provider on the same account declares stricter ones
)
