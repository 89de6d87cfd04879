package accountchek

import (
	"fmt"
	"net/http"
	"regexp"
	"unicode"
	"unicode/utf8"
)

// Secret keys (docs/sandbox.md): a verifier user's HTTP Basic credentials and, for
// integrators, their integrator GUID.
const (
	KeyUsername     = "username"
	KeyPassword     = "password"
	KeyIntegratorID = "integratorID"
)

// IntegratorHeader carries the integrator id on every call when it is set.
const IntegratorHeader = "X-AccountChek-Integrator-Id"

// guidPattern is the canonical 8-4-4-4-12 hex form AccountChek uses for ids
// (the seed's order id has it too).
var guidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// IsGUID reports whether s is a GUID in canonical form.
func IsGUID(s string) bool { return guidPattern.MatchString(s) }

// ValidateCredentials checks the Secret's data without calling AccountChek.
// CTE and production use the same credential format, so the environment does
// not change the checks. Messages name the key and the problem, never any
// part of the value.
func ValidateCredentials(_ string, data map[string][]byte) error {
	_, err := parseCredentials(data)
	return err
}

// credentials are a verifier user's HTTP Basic credentials.
type credentials struct {
	username, password, integratorID string
}

// String keeps credentials out of any accidental log line or %v.
func (credentials) String() string   { return "accountchek credentials [redacted]" }
func (credentials) GoString() string { return "accountchek credentials [redacted]" }

func parseCredentials(data map[string][]byte) (credentials, error) {
	var c credentials
	var err error
	if c.username, err = basicAuthPart(data, KeyUsername); err != nil {
		return credentials{}, err
	}
	if c.password, err = basicAuthPart(data, KeyPassword); err != nil {
		return credentials{}, err
	}
	if c.integratorID, err = integratorID(data); err != nil {
		return credentials{}, err
	}
	return c, nil
}

// basicAuthPart reads a required user-id or password. RFC 7617 forbids a
// colon in the user-id (it separates the two) and control characters in
// either; a trailing newline from `echo` into a Secret is the usual culprit.
func basicAuthPart(data map[string][]byte, key string) (string, error) {
	raw, ok := data[key]
	switch {
	case !ok:
		return "", fmt.Errorf("secret key %q is missing", key)
	case len(raw) == 0:
		return "", fmt.Errorf("secret key %q is empty", key)
	case !utf8.Valid(raw):
		return "", fmt.Errorf("secret key %q is not valid UTF-8", key)
	}
	v := string(raw)
	for _, r := range v {
		if unicode.IsControl(r) {
			return "", fmt.Errorf("secret key %q contains a control character such as a newline, which HTTP Basic cannot carry", key)
		}
		if r == ':' && key == KeyUsername {
			return "", fmt.Errorf("secret key %q contains a colon, which HTTP Basic cannot carry in a user name", key)
		}
	}
	return v, nil
}

// integratorID reads the optional integrator GUID. An empty value counts as
// absent: templated Secrets often render an unset optional key as "".
func integratorID(data map[string][]byte) (string, error) {
	raw := data[KeyIntegratorID]
	if len(raw) == 0 {
		return "", nil
	}
	if !IsGUID(string(raw)) {
		return "", fmt.Errorf("secret key %q is not a GUID (expected the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", KeyIntegratorID)
	}
	return string(raw), nil
}

// decorate authenticates one request.
func (c credentials) decorate(r *http.Request) {
	r.SetBasicAuth(c.username, c.password)
	if c.integratorID != "" {
		r.Header.Set(IntegratorHeader, c.integratorID)
	}
}
