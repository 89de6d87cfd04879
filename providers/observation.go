package providers

import "time"

// State is the vendor-neutral state of an order. The words are lowercase on
// purpose: they are what users write in spec.state and read in status.state.
type State string

const (
	StateActive    State = "active"
	StateCanceled  State = "canceled"
	StateClosed    State = "closed"
	StateCompleted State = "completed"
	StateExpired   State = "expired"
	StateFailed    State = "failed"
)

// Terminal reports whether the vendor will never move an order out of s.
func (s State) Terminal() bool { return s != StateActive && s != "" }

// Observation is what a vendor said about one order, reduced to the fields the
// controller plans with. It must never gain a field that can hold PII.
type Observation struct {
	// ID is the vendor's id of the order.
	ID string
	// VendorState is the vendor's own word for the order as a whole.
	VendorState string
	// State is VendorState normalized.
	State State
	// Requests are the parts of an order that carry their own state: Truework
	// verification requests, Truv employers. Empty for single-part vendors.
	Requests []Request
	// CompletedAt is when the vendor completed the order, when it says so.
	// Truework's reverify is allowed only within 90 days of it.
	CompletedAt *time.Time
}

// Request is one part of an order.
type Request struct {
	ID          string
	VendorState string
	State       State
}

// Cancellation is what a vendor may record about why an order was canceled.
// Vendors that take no reason ignore it.
type Cancellation struct {
	// Reason is one of immediate, high-turnaround-time, competitor,
	// wrong-info, other.
	Reason string
	// Details is free text; it is sent to the vendor, never logged.
	Details string
}

// StateTable maps a vendor's state words to States.
type StateTable map[string]State

// Normalize maps a vendor word to a State. A word the vendor added after
// the client was written counts as active: calling a live order finished
// would stop watching it for good, while calling a finished order active
// only costs another poll. The word itself stays visible in VendorState.
func (t StateTable) Normalize(word string) State {
	if s, ok := t[word]; ok {
		return s
	}
	return StateActive
}
