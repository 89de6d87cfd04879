package truework_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
)

func TestVendorDescription(t *testing.T) {
	v := truework.Vendor()
	if v.Name != "truework" {
		t.Errorf("Name = %q", v.Name)
	}
	wantURLs := map[string]string{"sandbox": "https://api.truework-sandbox.com", "production": "https://api.truework.com"}
	for env, url := range wantURLs {
		if v.BaseURLs[env] != url {
			t.Errorf("BaseURLs[%s] = %q, want %q", env, v.BaseURLs[env], url)
		}
	}
	if v.RateLimit != (providers.RateLimit{RequestsPerSecond: 10, Burst: 10}) {
		t.Errorf("RateLimit = %+v", v.RateLimit)
	}
	caps := v.Capabilities
	for _, s := range []string{"pending-approval", "action-required", "processing", "other"} {
		if !caps.Allows(providers.ActionCancel, s) {
			t.Errorf("Cancel not allowed from %s", s)
		}
	}
	for _, s := range []string{"completed", "canceled", "invalid"} {
		if caps.Allows(providers.ActionCancel, s) {
			t.Errorf("Cancel allowed from terminal %s", s)
		}
	}
	if !caps.Allows(providers.ActionReverify, "completed") || caps.Supports(providers.ActionClose) {
		t.Errorf("capabilities = %s", caps.Describe())
	}
	if caps.ReverifyWindow != 90*24*time.Hour {
		t.Errorf("ReverifyWindow = %v", caps.ReverifyWindow)
	}
	if len(v.CredentialKeys) != 1 || v.CredentialKeys[0] != "apiKey" {
		t.Errorf("CredentialKeys = %v", v.CredentialKeys)
	}
}

func TestValidateCredentials(t *testing.T) {
	const (
		sandboxKey     = "tw_sk_test_e508eb797edb95ade85284bcb54dd49ed45db1be"
		productionKey  = "tw_sk_e508eb797edb95ade85284bcb54dd49ed45db1be"
		publishable    = "tw_pk_e508eb797edb95ade85284bcb54dd49ed45db1be"
		publishableTst = "tw_pk_test_e508eb797edb95ade85284bcb54dd49ed45db1be"
	)
	cases := []struct {
		name, env string
		data      map[string][]byte
		wantErr   string // substring; "" means valid
	}{
		{"sandbox key in sandbox", "sandbox", key(sandboxKey), ""},
		{"production key in production", "production", key(productionKey), ""},
		{"trailing newline from a file", "sandbox", key(sandboxKey + "\n"), ""},
		{"missing", "sandbox", map[string][]byte{}, "missing"},
		{"empty", "production", key("  "), "missing"},
		{"wrong Secret key name", "sandbox", map[string][]byte{"api_key": []byte(sandboxKey)}, `"apiKey" is missing`},
		{"production key in sandbox", "sandbox", key(productionKey), "production key"},
		{"sandbox key in production", "production", key(sandboxKey), "sandbox key"},
		{"publishable key", "production", key(publishable), "publishable key"},
		{"publishable test key", "sandbox", key(publishableTst), "publishable key"},
		{"not a Truework key", "sandbox", key("sk_live_abcdef"), "not a Truework secret key"},
		{"prefix only", "sandbox", key("tw_sk_test_"), "nothing after"},
		{"inner space", "sandbox", key("tw_sk_test_abc def"), "spaces"},
		{"unknown environment", "staging", key(sandboxKey), "environment"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := truework.ValidateCredentials(c.env, c.data)
			if c.wantErr == "" {
				if err != nil {
					t.Fatalf("ValidateCredentials: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error = %v, want it to mention %q", err, c.wantErr)
			}
			if strings.Contains(err.Error(), "e508eb797edb95") {
				t.Errorf("error shows the key: %v", err)
			}
		})
	}
}

func key(v string) map[string][]byte { return map[string][]byte{"apiKey": []byte(v)} }

// Connect must refuse unusable credentials before any call reaches the vendor.
func TestConnectRefusesBadCredentialsWithoutCalling(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	for _, k := range []string{"", "tw_pk_test_0123456789abcdef", "tw_sk_0123456789abcdef"} {
		_, err := truework.Vendor().Connect(providers.Config{
			BaseURL: srv.URL, Environment: "sandbox", Credentials: key(k), HTTPClient: srv.Client(),
		})
		wantKind(t, err, providers.KindUnauthorized)
		if k != "" && strings.Contains(err.Error(), k[6:]) {
			t.Errorf("error shows the key: %v", err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d calls reached the vendor", n)
	}
}
