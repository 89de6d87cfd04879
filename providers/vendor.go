package providers

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Action is a mutating call the controller can plan. The words are the
// values of status.plannedAction.
type Action string

// The actions; ActionNone plans nothing.
const (
	ActionNone     Action = ""
	ActionCancel   Action = "Cancel"
	ActionClose    Action = "Close"
	ActionReverify Action = "Reverify"
)

// Capabilities say what a vendor allows, in the vendor's own state words, so
// the plan can refuse an impossible request before any call.
type Capabilities struct {
	// From lists, for each action the vendor supports, the vendor states of
	// an order in which the vendor accepts it.
	From map[Action][]string
	// ReverifyWindow is how long after completion a completed request can be
	// reverified; meaningful only when From has ActionReverify.
	ReverifyWindow time.Duration
	// CanceledReadsAs is the vendor state a canceled order reads as
	// afterwards when the vendor has no canceled state of its own (txcloud:
	// "expired"). Empty when the vendor reports canceled orders as canceled.
	CanceledReadsAs string
}

// Supports reports whether the vendor has the action at all.
func (c Capabilities) Supports(a Action) bool {
	_, ok := c.From[a]
	return ok
}

// Allows reports whether the vendor accepts the action on an order in vendorState.
func (c Capabilities) Allows(a Action, vendorState string) bool {
	return slices.Contains(c.From[a], vendorState)
}

// Actions lists the supported actions in a stable order, for messages.
func (c Capabilities) Actions() []Action {
	out := make([]Action, 0, len(c.From))
	for a := range c.From {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// Describe says, for a person, what the vendor supports, e.g.
// "Cancel (from building, opened), Close (from opened, inprogress)".
func (c Capabilities) Describe() string {
	parts := make([]string, 0, len(c.From))
	for _, a := range c.Actions() {
		parts = append(parts, fmt.Sprintf("%s (from %s)", a, strings.Join(c.From[a], ", ")))
	}
	return strings.Join(parts, ", ")
}

// RateLimit is a vendor's published request budget for one account.
type RateLimit struct {
	RequestsPerSecond float64
	Burst             int
	// MaxInFlight is how many calls of one account may be in flight at
	// once: the vendor's documented concurrency, or DefaultMaxInFlight.
	MaxInFlight int
}

// DefaultMaxInFlight caps an account's calls in flight where the vendor
// publishes no concurrency: txcloud's smallest plan's cap, the only figure
// any of the vendors publishes.
const DefaultMaxInFlight = 10

// Vendor describes one vendor: where it lives, what it allows, how to check
// credentials and how to build a client.
type Vendor struct {
	// Name is the value of VerificationProvider spec.vendor.
	Name string
	// BaseURLs maps an environment (sandbox, production) to the API root.
	BaseURLs map[string]string
	// RateLimit is the default client-side budget.
	RateLimit RateLimit
	// Capabilities are the actions the vendor allows.
	Capabilities Capabilities
	// States are the vendor's state words and the State each means: the
	// table its client normalizes with, declared so that suites can tell
	// the vendor's end states without restating them.
	States StateTable
	// CredentialKeys are the Secret keys the vendor needs, for messages.
	CredentialKeys []string
	// IdentityKeys are the credential keys that name the account at the
	// vendor (an API key, a client id): two Secrets that agree on them
	// reach one account, and share its budget, whatever else they hold
	// (a webhook secret, an unrelated key).
	IdentityKeys []string
	// CredentialShapes match the vendor's credentials as they would stand
	// in a message (a key's documented prefix, a quoted password), so that
	// Sanitize redacts one a vendor echoes even when it is not the
	// provider's own. NewRegistry hands them to Sanitize.
	CredentialShapes []*regexp.Regexp
	// ValidateCredentials checks the Secret's data for the environment
	// without calling the vendor. Its error message never contains a secret.
	ValidateCredentials func(environment string, data map[string][]byte) error
	// New builds a client from credentials that ValidateCredentials has
	// accepted. Use Connect, which checks them first.
	New func(Config) (Client, error)
	// Webhooks is how the vendor pushes changes; nil when it does not.
	Webhooks *Webhooks
}

// Connect is the one way a client is made: it checks the credentials for
// the environment (without calling the vendor), then builds the client.
// Unusable credentials are an *Error of KindUnauthorized whose message
// never contains a secret.
func (v Vendor) Connect(cfg Config) (Client, error) {
	if err := v.ValidateCredentials(cfg.Environment, cfg.Credentials); err != nil {
		return nil, &Error{Kind: KindUnauthorized, Message: err.Error()}
	}
	return v.New(cfg)
}

// Registry maps a vendor name to its description.
type Registry map[string]Vendor

// NewRegistry indexes vendors by name, and has Sanitize redact their
// credential shapes from then on (see redactCredentialShapes).
func NewRegistry(vendors ...Vendor) Registry {
	r := make(Registry, len(vendors))
	for _, v := range vendors {
		r[v.Name] = v
		redactCredentialShapes(v.CredentialShapes...)
	}
	return r
}

// Get returns the named vendor.
func (r Registry) Get(name string) (Vendor, error) {
	v, ok := r[name]
	if !ok {
		return Vendor{}, fmt.Errorf("vendor %q is not built into this operator", name)
	}
	return v, nil
}

// Names lists the vendors' names, sorted.
func (r Registry) Names() []string {
	names := make([]string, 0, len(r))
	for name := range r {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}
