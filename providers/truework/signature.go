package truework

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Response signatures (https://www.truework.com/docs/verifications-signatures).
// Truework signs its responses:
//
//	X-Truework-Signature: keyId="tw-2021-11-11", headers="date content-length", signature="<base64>"
//
// an Ed25519 signature over, for each header named, the line
// "name: value\n", in order, followed by the raw body. With
// Config.Signatures.Verify the client believes nothing in a response until
// its signature checks out with one of the configured keys (by default the
// keys Truework publishes for the environment): a response without a valid
// signature is an *providers.Error of KindSignatureInvalid, whatever its
// status, so that no forged or altered answer can read as an order's state,
// as "not found", or as a refusal that means a reverification never
// happened.
//
// One exception: a 429 or 5xx that carries no signature at all is what a
// proxy or load balancer in front of Truework answers. It is taken as a
// transient failure (retried with backoff, Retry-After honored), never as
// Truework's word: it only delays the next call, and KindTransient keeps a
// reverification's intent, so it cannot make the controller repeat one. A
// 429 or 5xx with a signature that does not verify is refused like any
// other.

const signatureHeader = "X-Truework-Signature"

// requiredSigned are the header lines a signature must cover: without the
// content-length line a signature would not bind the body's length, and
// without the date line an old answer could be replayed as a new one.
var requiredSigned = []string{"date", "content-length"}

// publishedKeys are Truework's public keys by environment, as documented.
var publishedKeys = map[string]map[string]string{
	providers.EnvProduction: {"tw-2021-11-11": "Ad14e4K+/6At51wUH2B3M4ONNlRmLiSpI4NUAl+IcyA="},
	providers.EnvSandbox:    {"tw-sandbox-2021-11-11": "yJBzPH0p+gdRuj4qnjU1+ob0AH52gHRDXxnDW1xGaYk="},
}

// PublishedKeys are the keys Truework publishes for the environment, by key
// id: what a client verifies with when the provider names none.
func PublishedKeys(environment string) map[string]ed25519.PublicKey {
	keys := map[string]ed25519.PublicKey{}
	for id, encoded := range publishedKeys[environment] {
		raw, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil || len(raw) != ed25519.PublicKeySize {
			panic("truework: published key " + id + " is not a base64 Ed25519 key")
		}
		keys[id] = raw
	}
	return keys
}

// verifier checks response signatures against a set of keys.
type verifier struct {
	keys map[string]ed25519.PublicKey
	// names lists the key ids, sorted, for messages.
	names string
}

// newVerifier returns nil when signatures are not verified, else a
// verifier with the configured keys or the published ones.
func newVerifier(cfg providers.Signatures, environment string) (*verifier, error) {
	if !cfg.Verify {
		return nil, nil
	}
	keys := PublishedKeys(environment)
	if len(cfg.PublicKeys) > 0 {
		keys = map[string]ed25519.PublicKey{}
		for id, raw := range cfg.PublicKeys {
			if len(raw) != ed25519.PublicKeySize {
				return nil, &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf(
					"response signature key %q is %d bytes, not an Ed25519 public key (%d)", id, len(raw), ed25519.PublicKeySize)}
			}
			keys[id] = ed25519.PublicKey(raw)
		}
	}
	if len(keys) == 0 {
		return nil, &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf(
			"response signatures are to be verified, but no keys are configured and Truework publishes none for environment %q", environment)}
	}
	ids := make([]string, 0, len(keys))
	for id := range keys {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return &verifier{keys: keys, names: strings.Join(ids, ", ")}, nil
}

// check is the vendorhttp.Client's Verify.
func (v *verifier) check(resp *http.Response, body []byte) error {
	values := resp.Header.Values(signatureHeader)
	if len(values) == 0 && retryable(resp.StatusCode) {
		return &providers.Error{Kind: providers.KindTransient, StatusCode: resp.StatusCode,
			RetryAfter: vendorhttp.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
			Message:    fmt.Sprintf("an unsigned HTTP %d, from a proxy rather than Truework; not believed, retried later", resp.StatusCode)}
	}
	if err := v.verify(values, resp.Header, body); err != nil {
		return &providers.Error{Kind: providers.KindSignatureInvalid, StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("the HTTP %d answer %v", resp.StatusCode, err)}
	}
	return nil
}

// retryable: statuses whose only meaning is "try again later".
func retryable(status int) bool {
	return status == http.StatusTooManyRequests || status >= 500
}

// verify checks the X-Truework-Signature values against header and body.
// Its errors name what is wrong, never a header's value beyond a key id.
func (v *verifier) verify(values []string, header http.Header, body []byte) error {
	switch len(values) {
	case 0:
		return errors.New("carries no " + signatureHeader + " header")
	case 1:
	default:
		return fmt.Errorf("carries %d %s headers", len(values), signatureHeader)
	}
	sig, err := parseSignature(values[0])
	if err != nil {
		return err
	}
	key, ok := v.keys[sig.keyID]
	if !ok {
		return fmt.Errorf("is signed with key %s, which is not one of the provider's keys (%s)", quoteUntrusted(sig.keyID), v.names)
	}
	for _, required := range requiredSigned {
		if !slices.ContainsFunc(sig.headers, func(h string) bool { return strings.EqualFold(h, required) }) {
			return fmt.Errorf("has a signature that does not cover the %s header (it covers %s)", required, quoteUntrusted(strings.Join(sig.headers, " ")))
		}
	}
	var msg bytes.Buffer
	for _, name := range sig.headers {
		vals := header.Values(name)
		if len(vals) != 1 {
			return fmt.Errorf("has its signed header %s %d times, not once", quoteUntrusted(name), len(vals))
		}
		if strings.EqualFold(name, "content-length") {
			if n, err := strconv.Atoi(vals[0]); err != nil || n != len(body) {
				return fmt.Errorf("has a content-length that does not match the %d bytes of its body", len(body))
			}
		}
		fmt.Fprintf(&msg, "%s: %s\n", name, vals[0])
	}
	msg.Write(body)
	if !ed25519.Verify(key, msg.Bytes(), sig.signature) {
		return fmt.Errorf("has a signature that does not match its signed headers and body under key %s", sig.keyID)
	}
	return nil
}

// signature is a parsed X-Truework-Signature.
type signature struct {
	keyID     string
	headers   []string
	signature []byte
}

// parseSignature reads keyId="...", headers="...", signature="..."; the
// order of the parameters does not matter, and each must appear once.
func parseSignature(value string) (signature, error) {
	malformed := errors.New("has a malformed " + signatureHeader + " header")
	params := map[string]string{}
	for _, part := range strings.Split(value, ",") {
		name, quoted, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return signature{}, malformed
		}
		v, err := strconv.Unquote(strings.TrimSpace(quoted))
		if _, dup := params[name]; err != nil || dup {
			return signature{}, malformed
		}
		params[name] = v
	}
	raw, err := base64.StdEncoding.DecodeString(params["signature"])
	if err != nil || len(raw) != ed25519.SignatureSize || params["keyId"] == "" || params["headers"] == "" {
		return signature{}, malformed
	}
	return signature{keyID: params["keyId"], headers: strings.Fields(params["headers"]), signature: raw}, nil
}

// quoteUntrusted quotes a value taken from a response for a message,
// shortened: it may be anything a proxy or an attacker put there.
func quoteUntrusted(s string) string {
	const maxLen = 64
	if len(s) > maxLen {
		s = s[:maxLen] + "..."
	}
	return providers.Sanitize(strconv.Quote(s))
}
