// Package txcloud is the client for txcloud's identity verification API
// (its page "Cancel verification", and docs/vendors.md#txcloud).
//
// An order is one verification (id "ver_..."). txcloud has no canceled
// status: cancel is legal only while a verification is pending and moves it
// to expired. So a canceled order reads "expired" from then on, and only the
// caller that received the cancel's 200 knows it was canceled; Cancel returns
// State canceled with VendorState "expired" for that reason.
package txcloud

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Name is the value of VerificationProvider spec.vendor.
const Name = "txcloud"

// Environments and their API roots. The roots include /v1: the client
// appends /identity/verifications/{id}. An endpoint override must include
// it too, e.g. http://127.0.0.1:PORT/v1 for the simulator.
const (
	SandboxURL    = "https://sandbox.api.txcloud.io/v1"
	ProductionURL = "https://api.txcloud.io/v1"
)

// KeyAPIKey is the Secret key holding the API key.
const KeyAPIKey = "apiKey"

// Key prefixes by environment: a test key against production (or the
// reverse) is refused before any call.
var keyPrefixes = map[string]string{
	providers.EnvSandbox:    "txc_test_",
	providers.EnvProduction: "txc_live_",
}

// apiKeyShape is an API key of either environment as it would stand in a
// message.
var apiKeyShape = regexp.MustCompile(`(?i)\btxc_(test|live)_[[:alnum:]_]+\b`)

// Vendor describes txcloud for the provider registry.
func Vendor() providers.Vendor {
	return providers.Vendor{
		Name:     Name,
		BaseURLs: map[string]string{providers.EnvSandbox: SandboxURL, providers.EnvProduction: ProductionURL},
		// Plans allow 60, 300 or 1000 requests per minute and we cannot
		// tell which plan an account has, so the default is the smallest:
		// 60/min as 1 rps. Burst 5 keeps a startup surge of reconciles
		// well inside the vendor's own burst; raise spec.rateLimit on
		// larger plans.
		RateLimit: providers.RateLimit{RequestsPerSecond: 1, Burst: 5, MaxInFlight: 10}, // Free: 10 calls at a time
		Capabilities: providers.Capabilities{
			From: map[providers.Action][]string{providers.ActionCancel: {StatePending}},
			// No canceled status: a canceled verification reads expired.
			CanceledReadsAs: StateExpired,
		},
		States:              maps.Clone(states),
		CredentialKeys:      []string{KeyAPIKey},
		IdentityKeys:        []string{KeyAPIKey},
		CredentialShapes:    []*regexp.Regexp{apiKeyShape},
		ValidateCredentials: ValidateCredentials,
		New:                 New,
		Webhooks:            webhooks(),
	}
}

// ValidateCredentials checks that the Secret holds an API key of the
// environment's kind. Messages name the key and the problem, never any part
// of the value.
func ValidateCredentials(environment string, data map[string][]byte) error {
	prefix, ok := keyPrefixes[environment]
	if !ok {
		return fmt.Errorf("environment %q is not one of %s, %s", environment, providers.EnvSandbox, providers.EnvProduction)
	}
	raw, ok := data[KeyAPIKey]
	if !ok {
		return fmt.Errorf("secret key %q is missing", KeyAPIKey)
	}
	key := string(raw)
	switch {
	case key == "":
		return fmt.Errorf("secret key %q is empty", KeyAPIKey)
	case strings.ContainsFunc(key, isNotHeaderSafe):
		return fmt.Errorf("secret key %q contains whitespace or control characters (a trailing newline?)", KeyAPIKey)
	case !strings.HasPrefix(key, prefix):
		return fmt.Errorf("secret key %q must be a txcloud %s key starting with %q%s", KeyAPIKey, environment, prefix, otherEnvironmentHint(key, environment))
	case len(key) == len(prefix):
		return fmt.Errorf("secret key %q has the %q prefix but nothing after it", KeyAPIKey, prefix)
	}
	return nil
}

// otherEnvironmentHint explains the common mistake of pasting the other
// environment's key. It reveals only which documented prefix the key has.
func otherEnvironmentHint(key, environment string) string {
	for env, p := range keyPrefixes {
		if env != environment && strings.HasPrefix(key, p) {
			return fmt.Sprintf("; it is a %s key", env)
		}
	}
	return ""
}

func isNotHeaderSafe(r rune) bool { return r <= ' ' || r == 0x7f }

// New builds a client from checked credentials (see
// providers.Vendor.Connect).
func New(cfg providers.Config) (providers.Client, error) {
	authorization := "Bearer " + string(cfg.Credentials[KeyAPIKey])
	decorate := func(r *http.Request) { r.Header.Set("Authorization", authorization) }
	conn, err := vendorhttp.ForConfig(cfg, Vendor().BaseURLs, decorate, decodeError)
	if err != nil {
		return nil, err
	}
	return &Client{http: conn}, nil
}
