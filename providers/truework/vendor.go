// Package truework is the client for Truework's income and employment
// verification API (https://www.truework.com/docs).
//
// A Truework order holds one or more verification requests; the order has no
// state of its own. Truework pins each API key to an API version
// (versions.go), and the client speaks the one the provider names: in
// 2023-10-30 it observes and cancels orders (GET /orders/{id}, PUT
// /orders/{id}/cancel) and reverifies reports (POST /orders/reverification);
// the older versions have no /orders, so spec.orderID names a verification
// request, observed and canceled under /verification-requests/{id}/, and
// reverify is PUT /verification-requests/{id}/reverify/. Either way a
// reverification creates a new verification request, and Reverified returns
// a client that observes and cancels by request id. When a reverify call's
// answer was lost, FindReverification looks for the request it created in
// the account's list (find.go).
//
// Version 2023-10-30 serves state words as {"canonical_value", "raw_value"}
// objects while older versions and webhooks send plain strings; the client
// reads both. With Config.Signatures.Verify it believes no response whose
// X-Truework-Signature does not check out (signature.go).
package truework

import (
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Name is the value of VerificationProvider spec.vendor.
const Name = "truework"

// CredentialKey is the Secret key holding the secret API key.
const CredentialKey = "apiKey"

// ReverifyWindow is how long after completion Truework accepts a reverify.
const ReverifyWindow = 90 * 24 * time.Hour

// Key prefixes, from Truework's authentication docs. Publishable keys are
// for Truework.js in a browser and must never be used as secret keys.
const (
	sandboxSecretPrefix = "tw_sk_test_"
	secretPrefix        = "tw_sk_"
	publishablePrefix   = "tw_pk_" // also covers tw_pk_test
)

// secretKeyShape is a secret key, sandbox or production, as it would stand
// in a message. Publishable keys are no secret.
var secretKeyShape = regexp.MustCompile(`(?i)\b` + secretPrefix + `[[:alnum:]_]+\b`)

// Vendor describes Truework for the registry.
func Vendor() providers.Vendor {
	return providers.Vendor{
		Name: Name,
		BaseURLs: map[string]string{
			providers.EnvSandbox:    "https://api.truework-sandbox.com",
			providers.EnvProduction: "https://api.truework.com",
		},
		// Truework publishes 10 requests/s per account.
		RateLimit: providers.RateLimit{RequestsPerSecond: 10, Burst: 10},
		Capabilities: providers.Capabilities{
			From: map[providers.Action][]string{
				// Truework cancels every request that is not terminal.
				providers.ActionCancel:   {"pending-approval", "action-required", "processing", "other"},
				providers.ActionReverify: {"completed"},
			},
			ReverifyWindow: ReverifyWindow,
		},
		States:              maps.Clone(states),
		CredentialKeys:      []string{CredentialKey},
		IdentityKeys:        []string{CredentialKey},
		CredentialShapes:    []*regexp.Regexp{secretKeyShape},
		ValidateCredentials: ValidateCredentials,
		New:                 New,
		Webhooks:            webhooks(),
	}
}

// ValidateCredentials checks that the Secret holds a Truework secret key for
// the environment, without calling Truework. Messages describe the problem
// with the key's documented prefixes, never with any part of the key.
func ValidateCredentials(environment string, data map[string][]byte) error {
	key := apiKey(data)
	if key == "" {
		return fmt.Errorf("secret key %q is missing or empty", CredentialKey)
	}
	if !headerSafe(key) {
		return fmt.Errorf("secret key %q contains spaces or control characters; paste the key alone", CredentialKey)
	}
	isSandboxKey := strings.HasPrefix(key, sandboxSecretPrefix)
	switch {
	case strings.HasPrefix(key, publishablePrefix):
		return fmt.Errorf("secret key %q holds a Truework publishable key (tw_pk_...); use a secret key (tw_sk_...)", CredentialKey)
	case !strings.HasPrefix(key, secretPrefix):
		return fmt.Errorf("secret key %q is not a Truework secret key: expected prefix tw_sk_test_ (sandbox) or tw_sk_ (production)", CredentialKey)
	}
	switch environment {
	case providers.EnvSandbox:
		if !isSandboxKey {
			return fmt.Errorf("secret key %q holds a production key (tw_sk_...) but the environment is sandbox; use a sandbox key (tw_sk_test_...)", CredentialKey)
		}
		if len(key) == len(sandboxSecretPrefix) {
			return fmt.Errorf("secret key %q has nothing after its tw_sk_test_ prefix", CredentialKey)
		}
	case providers.EnvProduction:
		if isSandboxKey {
			return fmt.Errorf("secret key %q holds a sandbox key (tw_sk_test_...) but the environment is production; use a production key (tw_sk_...)", CredentialKey)
		}
		if len(key) == len(secretPrefix) {
			return fmt.Errorf("secret key %q has nothing after its tw_sk_ prefix", CredentialKey)
		}
	default:
		return fmt.Errorf("environment %q is not one of %s, %s", environment, providers.EnvSandbox, providers.EnvProduction)
	}
	return nil
}

// apiKey reads the key, forgiving the trailing newline that
// `kubectl create secret --from-file` keeps from an editor-saved file.
func apiKey(data map[string][]byte) string {
	return strings.TrimSpace(string(data[CredentialKey]))
}

// headerSafe reports whether the key can go in an Authorization header as is.
func headerSafe(key string) bool {
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] >= 0x7f {
			return false
		}
	}
	return true
}

// New builds a Truework client from checked credentials (see
// providers.Vendor.Connect) for the API version cfg.APIVersion ("" is the
// current one), verifying response signatures when cfg.Signatures.Verify.
func New(cfg providers.Config) (providers.Client, error) {
	a := &api{}
	r, version, err := routesFor(cfg.APIVersion, a)
	if err != nil {
		return nil, err
	}
	a.version = version
	verify, err := newVerifier(cfg.Signatures, cfg.Environment)
	if err != nil {
		return nil, err
	}
	authorization := "Bearer " + apiKey(cfg.Credentials)
	decorate := func(r *http.Request) {
		r.Header.Set("Authorization", authorization)
		r.Header.Set("Accept", "application/json; version="+version)
		// The body is signed as sent: ask for it uncompressed, so that it
		// and its Content-Length reach the check as Truework signed them
		// (Go's transparent gzip would drop Content-Length).
		r.Header.Set("Accept-Encoding", "identity")
	}
	conn, err := vendorhttp.ForConfig(cfg, Vendor().BaseURLs, decorate, decodeError)
	if err != nil {
		return nil, err
	}
	if verify != nil {
		conn.Verify = verify.check
	}
	a.http = conn
	return &Client{routes: r}, nil
}
