package providers

import (
	"fmt"
	"time"
)

// State is the vendor-neutral state of an order. The words are lowercase on
// purpose: they are what users write in spec.state and read in status.state.
type State string

// The states every vendor's words map to.
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

// Limits on what a vendor may put in an Observation, which reaches status:
// an id as long as the API's own spec.orderID limit, a state word of a
// sensible length. Beyond them the answer is not an order.
const (
	MaxIDLen    = 128
	MaxWordLen  = 64
	maxRequests = 50
)

// Check refuses an observation that lacks what the controller needs (an id
// and a state word) or carries ids or words too long or unprintable: such
// an answer would make every status write invalid, or is not the order at
// all. The error is transient: the vendor may answer properly next time.
func (o Observation) Check() error {
	if err := checkField("order id", o.ID, MaxIDLen); err != nil {
		return err
	}
	if err := checkField("state", o.VendorState, MaxWordLen); err != nil {
		return err
	}
	if len(o.Requests) > maxRequests {
		return Errorf(KindTransient, 0, "the vendor's answer lists %d parts, more than %d", len(o.Requests), maxRequests)
	}
	for _, r := range o.Requests {
		if err := checkField("part id", r.ID, MaxIDLen); err != nil {
			return err
		}
		if err := checkField("part state", r.VendorState, MaxWordLen); err != nil {
			return err
		}
	}
	return nil
}

// Checked passes a client's answer through Check.
func Checked(o Observation, err error) (Observation, error) {
	if err != nil {
		return o, err
	}
	if err := o.Check(); err != nil {
		return Observation{}, err
	}
	return o, nil
}

func checkField(what, v string, maxLen int) error {
	switch {
	case v == "":
		return &Error{Kind: KindTransient, Message: "the vendor's answer has no " + what}
	case len(v) > maxLen:
		return &Error{Kind: KindTransient, Message: fmt.Sprintf("the vendor's answer has a %s of %d characters, more than %d", what, len(v), maxLen)}
	}
	for _, r := range v {
		if r < 0x20 || r > 0x7e {
			return &Error{Kind: KindTransient, Message: fmt.Sprintf("the vendor's answer has a %s with characters other than printable ASCII", what)}
		}
	}
	return nil
}
