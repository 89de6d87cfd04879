package simkit

import "net/http"

// Sim is what every vendor simulator offers beyond its vendor's API.
type Sim interface {
	http.Handler
	Backend
	Calls(orderID string) []Call
	CountCalls(orderID, method string) int
	SetFaults(Faults)
	Stats() []Stat
	Timeline() []Event
	SetWebhook(Webhook)
	Notify(orderID string)
	WaitDeliveries()
}

// Entry describes one vendor's simulator to the suites and the sandbox:
// how to start it, point a VerificationProvider at it, and play the
// scenarios every vendor shares.
type Entry struct {
	// Name is the VerificationProvider spec.vendor value.
	Name string
	// New starts an empty simulator.
	New func() Sim
	// APIRoot is appended to the simulator's URL to form the provider's
	// endpoint (the vendors whose base URL ends in /v1).
	APIRoot string
	// Credentials are Secret data the simulator accepts (sandbox).
	Credentials map[string]string
	// BadCredentials are well-formed but unknown to the simulator.
	BadCredentials map[string]string
	// PII is every personal value the simulator serves.
	PII []string
	// MutatingMethod is the HTTP method of the vendor's cancel call.
	MutatingMethod string
	// Words are vendor state words for the scenarios every vendor shares.
	Cancelable, Completed, Canceled string
	// Parts: the vendor's orders have parts with states of their own
	// (Truework requests, Truv employers), reported in status.requests.
	Parts bool
	// SigningKeys are the public keys (key id -> base64 Ed25519) the
	// simulator signs its responses with, for a provider's
	// spec.responseSignatures.publicKeys; empty when the vendor does not
	// sign responses.
	SigningKeys map[string]string
	// WebhookSecret signs the simulator's webhook deliveries as the vendor
	// does (Truework's static token, Truv's access secret, txcloud's
	// signing secret); empty when the vendor has no webhooks.
	WebhookSecret string
	// Chaos is the vendor's part in the chaos runs, in its own words.
	Chaos Chaos
}
