package providers

import (
	"errors"
	"fmt"
	"time"
)

// ErrorKind says what a failed vendor call means for the next attempt.
type ErrorKind string

const (
	// KindNotFound means the order does not exist or these credentials cannot see it.
	KindNotFound ErrorKind = "NotFound"
	// KindUnauthorized means the credentials are missing, malformed or refused.
	KindUnauthorized ErrorKind = "Unauthorized"
	// KindRateLimited means too many requests; retry no sooner than RetryAfter.
	KindRateLimited ErrorKind = "RateLimited"
	// KindRejected means the vendor refused the request as it is (400, 409, 422);
	// repeating it cannot help.
	KindRejected ErrorKind = "Rejected"
	// KindLegalHold means the vendor may not process the order (HTTP 451).
	KindLegalHold ErrorKind = "LegalHold"
	// KindOutcomeUnknown means whether an earlier call took effect cannot be told.
	KindOutcomeUnknown ErrorKind = "OutcomeUnknown"
	// KindTransient means 5xx, network failures, unreadable responses; retry with backoff.
	KindTransient ErrorKind = "Transient"
	// KindSignatureInvalid means the response lacked a valid vendor
	// signature, so nothing in it may be believed: not even that a mutating
	// call did or did not take effect.
	KindSignatureInvalid ErrorKind = "SignatureInvalid"
)

// Error is a vendor call that failed. Message is safe to show to a person:
// clients build it from the vendor's error text passed through Sanitize.
type Error struct {
	Kind ErrorKind
	// StatusCode is the HTTP status, 0 when no response arrived.
	StatusCode int
	// Message is the vendor's explanation, sanitized.
	Message string
	// RetryAfter is the vendor's Retry-After, 0 when it sent none.
	RetryAfter time.Duration
	// NotSent: the call never left, held back by the account's budget
	// (a pause the vendor asked for earlier); it is safe to make again.
	NotSent bool
}

func (e *Error) Error() string {
	if e.StatusCode == 0 {
		return fmt.Sprintf("%s: %s", e.Kind, e.Message)
	}
	return fmt.Sprintf("%s (HTTP %d): %s", e.Kind, e.StatusCode, e.Message)
}

// KindOf classifies any error from a Client. Errors that are not an *Error
// (timeouts, refused connections) are transient.
func KindOf(err error) ErrorKind {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindTransient
}

// RetryAfterOf returns the vendor's Retry-After carried by err, or 0.
func RetryAfterOf(err error) time.Duration {
	var e *Error
	if errors.As(err, &e) {
		return e.RetryAfter
	}
	return 0
}

// Errorf builds an *Error with a sanitized message.
func Errorf(kind ErrorKind, status int, format string, args ...any) *Error {
	return &Error{Kind: kind, StatusCode: status, Message: Sanitize(fmt.Sprintf(format, args...))}
}
