package truv_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truv"
)

const clientID = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

func creds(id, secret string) map[string][]byte {
	m := map[string][]byte{}
	if id != "" {
		m[truv.KeyClientID] = []byte(id)
	}
	if secret != "" {
		m[truv.KeyAccessSecret] = []byte(secret)
	}
	return m
}

func TestValidateCredentials(t *testing.T) {
	cases := []struct {
		name, env, id, secret string
		wantErr               string // substring; "" means valid
	}{
		{"sandbox secret on sandbox", "sandbox", clientID, "sandbox-4f1a9c0e7b2d", ""},
		{"dev secret on sandbox", "sandbox", clientID, "dev4f1a9c0e7b2d", ""},
		{"prod secret on production", "production", clientID, "prod-4f1a9c0e7b2d", ""},
		{"prod secret on sandbox", "sandbox", clientID, "prod-4f1a9c0e7b2d", "production secret"},
		{"sandbox secret on production", "production", clientID, "sandbox-4f1a9c0e7b2d", "sandbox secret"},
		{"dev secret on production", "production", clientID, "dev4f1a9c0e7b2d", "development secret"},
		{"unknown prefix", "sandbox", clientID, "live_4f1a9c0e7b2d", "environment prefix"},
		{"bare prefix", "sandbox", clientID, "sandbox-", "environment prefix"},
		{"missing client id", "sandbox", "", "sandbox-4f1a9c0e7b2d", "clientID is missing"},
		{"missing secret", "sandbox", clientID, "", "accessSecret is missing"},
		{"trailing newline", "sandbox", clientID, "sandbox-4f1a9c0e7b2d\n", "accessSecret contains whitespace"},
		{"control character", "sandbox", clientID + "\x00", "sandbox-4f1a9c0e7b2d", "clientID contains characters"},
		{"unknown environment", "staging", clientID, "sandbox-4f1a9c0e7b2d", "environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := truv.ValidateCredentials(c.env, creds(c.id, c.secret))
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error = %v, want it to mention %q", err, c.wantErr)
			}
			for _, secretPart := range []string{"4f1a9c0e7b2d", clientID, "live_"} {
				if strings.Contains(err.Error(), secretPart) {
					t.Errorf("error %q reveals part of a credential (%q)", err, secretPart)
				}
			}
		})
	}
}

// Connect refuses unusable credentials with KindUnauthorized before any call.
func TestConnectRefusesBadCredentialsWithoutCalling(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
	defer srv.Close()

	_, err := truv.Vendor().Connect(providers.Config{BaseURL: srv.URL, Environment: "production",
		Credentials: creds(clientID, "sandbox-4f1a9c0e7b2d"), HTTPClient: srv.Client()})
	if providers.KindOf(err) != providers.KindUnauthorized {
		t.Fatalf("err = %v, want KindUnauthorized", err)
	}
	if strings.Contains(err.Error(), "4f1a9c0e7b2d") {
		t.Errorf("error reveals the secret: %v", err)
	}
	if hits.Load() != 0 {
		t.Errorf("New made %d calls, want none", hits.Load())
	}
}

func TestVendorDescription(t *testing.T) {
	v := truv.Vendor()
	if v.Name != "truv" || v.BaseURLs["sandbox"] != "https://prod.truv.com" || v.BaseURLs["production"] != "https://prod.truv.com" {
		t.Errorf("unexpected vendor %+v", v)
	}
	if v.RateLimit.RequestsPerSecond <= 0 || v.RateLimit.Burst <= 0 {
		t.Errorf("rate limit %+v must be positive", v.RateLimit)
	}
	caps := v.Capabilities
	for _, st := range []string{"pending", "sent"} {
		if !caps.Allows(providers.ActionCancel, st) {
			t.Errorf("Cancel from %s should be allowed", st)
		}
	}
	for _, st := range []string{"completed", "canceled", "expired", "error", "no_data", "skipped"} {
		if caps.Allows(providers.ActionCancel, st) {
			t.Errorf("Cancel from %s should not be allowed", st)
		}
	}
	if caps.Supports(providers.ActionClose) || caps.Supports(providers.ActionReverify) {
		t.Errorf("Truv supports only Cancel, got %s", caps.Describe())
	}
	if strings.Join(v.CredentialKeys, ",") != "clientID,accessSecret" {
		t.Errorf("credential keys = %v", v.CredentialKeys)
	}
}
