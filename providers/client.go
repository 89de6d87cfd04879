package providers

import (
	"context"
	"net/http"
	"time"
)

// Client talks to one vendor account. Every method is safe to call again
// after a lost response: vendors either make the repeat a no-op or answer in
// a way the client turns into the same result.
type Client interface {
	// Observe reads the order. A missing order is an *Error of KindNotFound.
	Observe(ctx context.Context, orderID string) (Observation, error)
	// Cancel asks the vendor to cancel the order and returns what it said.
	Cancel(ctx context.Context, orderID string, c Cancellation) (Observation, error)
}

// Closer is implemented by clients of vendors that can close an order
// (mark it completed early), such as AccountChek.
type Closer interface {
	Close(ctx context.Context, orderID string) (Observation, error)
}

// Reverifier is implemented by clients of vendors that can reverify a
// completed request, creating a new billable vendor object.
type Reverifier interface {
	// Reverify asks the vendor to reverify a completed request; the
	// returned Observation describes the new object. Unlike every other
	// call it is NOT safe to repeat: each accepted call creates a billable
	// object. Callers record their intent first (see controllers/reverify.go).
	Reverify(ctx context.Context, requestID, reportID string) (Observation, error)
	// Reverified returns a Client for the objects Reverify works on and
	// creates (Truework verification requests rather than orders).
	Reverified() Client
}

// The environments a VerificationProvider may name.
const (
	EnvSandbox    = "sandbox"
	EnvProduction = "production"
)

// Config is everything a vendor constructor needs. It is built by the
// controller from a VerificationProvider and its Secret.
type Config struct {
	// BaseURL is the vendor's API root for the environment, or the
	// provider's endpoint override.
	BaseURL string
	// Environment is EnvSandbox or EnvProduction.
	Environment string
	// Credentials are the Secret's data. Never log them.
	Credentials map[string][]byte
	// HTTPClient carries the provider's rate limiter and timeouts.
	HTTPClient *http.Client
	// APIVersion is the vendor API version the account is pinned to; empty
	// means the vendor's current one. Only vendors with versions read it.
	APIVersion string
	// Signatures says how the client checks the vendor's response
	// signatures. Only vendors that sign responses read it.
	Signatures Signatures
}

// Signatures configures the check of a vendor's signed responses.
type Signatures struct {
	// Verify refuses a response without a valid signature, with an *Error
	// of KindSignatureInvalid.
	Verify bool
	// PublicKeys are the signing keys by key id (raw Ed25519 public keys);
	// empty means the vendor's published keys for the environment.
	PublicKeys map[string][]byte
}

// ReverificationFinder is implemented by Reverifiers that can find the object
// a reverify call created, so a call whose result was lost is not repeated.
type ReverificationFinder interface {
	// FindReverification looks for an object created by reverifying
	// requestID at or after since. found is false when there is none.
	FindReverification(ctx context.Context, requestID string, since time.Time) (obs Observation, found bool, err error)
}
