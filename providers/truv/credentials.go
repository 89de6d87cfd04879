package truv

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/ordersync/verification-operator/providers"
)

// Secret keys of a Truv VerificationProvider.
const (
	KeyClientID     = "clientID"
	KeyAccessSecret = "accessSecret"
)

// Truv's environments, named by the prefix of the access secret.
const (
	truvSandbox     = "sandbox"
	truvDevelopment = "development"
	truvProduction  = "production"
)

// secretPrefixes maps an access secret's prefix to Truv's environment.
// "dev" has no dash in Truv's keys, unlike the other two.
var secretPrefixes = []struct{ prefix, env string }{
	{"sandbox-", truvSandbox},
	{"dev", truvDevelopment},
	{"prod-", truvProduction},
}

// acceptedTruvEnvs says which Truv environments a provider environment may
// use. Truv's development environment is a test environment (real payroll
// connections, not billed as production, limited volume): it is not
// production, so it belongs to a provider whose environment is sandbox. A
// production provider must use a production secret, so that a test secret
// pasted into a production Secret is caught before any call.
var acceptedTruvEnvs = map[string][]string{
	providers.EnvSandbox:    {truvSandbox, truvDevelopment},
	providers.EnvProduction: {truvProduction},
}

// ValidateCredentials checks that data holds a usable client id and access
// secret for the provider's environment, without calling Truv. Messages
// name the key and the problem, never any part of a value.
func ValidateCredentials(environment string, data map[string][]byte) error {
	accepted, ok := acceptedTruvEnvs[environment]
	if !ok {
		return fmt.Errorf("environment %q is not one of sandbox, production", environment)
	}
	for _, key := range []string{KeyClientID, KeyAccessSecret} {
		if err := checkHeaderValue(key, data[key]); err != nil {
			return err
		}
	}
	truvEnv, ok := environmentOfSecret(string(data[KeyAccessSecret]))
	if !ok {
		return fmt.Errorf("%s does not start with a Truv environment prefix (sandbox-, dev or prod-)", KeyAccessSecret)
	}
	for _, env := range accepted {
		if env == truvEnv {
			return nil
		}
	}
	return fmt.Errorf("%s is a Truv %s secret, but the provider's environment is %s; use a %s secret or change spec.environment",
		KeyAccessSecret, truvEnv, environment, strings.Join(prefixesFor(accepted), " or "))
}

// checkHeaderValue refuses values that cannot be sent as an HTTP header or
// that carry the trailing newline `echo` leaves in a Secret.
func checkHeaderValue(key string, v []byte) error {
	if len(v) == 0 {
		return fmt.Errorf("%s is missing or empty in the Secret", key)
	}
	for _, r := range string(v) {
		switch {
		case r == unicode.ReplacementChar:
			return fmt.Errorf("%s is not valid UTF-8 text", key)
		case unicode.IsSpace(r):
			return fmt.Errorf("%s contains whitespace (a trailing newline?)", key)
		case r < 0x20 || r == 0x7f || r > unicode.MaxASCII:
			return fmt.Errorf("%s contains characters that cannot be sent in an HTTP header", key)
		}
	}
	return nil
}

// environmentOfSecret returns Truv's environment for an access secret. A
// bare prefix with nothing after it is not a secret.
func environmentOfSecret(secret string) (string, bool) {
	for _, p := range secretPrefixes {
		if strings.HasPrefix(secret, p.prefix) && len(secret) > len(p.prefix) {
			return p.env, true
		}
	}
	return "", false
}

// prefixesFor lists the secret prefixes of the Truv environments, for messages.
func prefixesFor(envs []string) []string {
	var out []string
	for _, env := range envs {
		for _, p := range secretPrefixes {
			if p.env == env {
				out = append(out, p.prefix)
			}
		}
	}
	return out
}
