package connection

import (
	"net/http"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

func TestSignatures(t *testing.T) {
	const key = "yJBzPH0p+gdRuj4qnjU1+ob0AH52gHRDXxnDW1xGaYk=" // Truework's published sandbox key
	for _, c := range []struct {
		name       string
		env        v1.Environment
		rs         *v1.ResponseSignatures
		verify     bool
		keys       int
		warns, err bool
	}{
		{name: "production checks by default", env: v1.EnvironmentProduction, verify: true},
		{name: "sandbox does not by default", env: v1.EnvironmentSandbox},
		{name: "sandbox checks once keys are given", env: v1.EnvironmentSandbox, rs: &v1.ResponseSignatures{PublicKeys: map[string]v1.Ed25519PublicKey{"k": key}}, verify: true, keys: 1},
		{name: "sandbox checks when asked, with the published keys", env: v1.EnvironmentSandbox, rs: &v1.ResponseSignatures{Verification: v1.SignatureVerificationEnabled}, verify: true},
		{name: "production turned off warns", env: v1.EnvironmentProduction, rs: &v1.ResponseSignatures{Verification: v1.SignatureVerificationDisabled}, warns: true},
		{name: "sandbox turned off does not warn", env: v1.EnvironmentSandbox, rs: &v1.ResponseSignatures{Verification: v1.SignatureVerificationDisabled, PublicKeys: map[string]v1.Ed25519PublicKey{"k": key}}, keys: 1},
		{name: "a key of the wrong size is refused", env: v1.EnvironmentProduction, rs: &v1.ResponseSignatures{PublicKeys: map[string]v1.Ed25519PublicKey{"k": "AAAA"}}, err: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &v1.VerificationProvider{ObjectMeta: metav1.ObjectMeta{Name: "p"},
				Spec: v1.VerificationProviderSpec{Vendor: v1.VendorTruework, Environment: c.env, ResponseSignatures: c.rs}}
			sig, err := Signatures(p)
			if (err != nil) != c.err {
				t.Fatalf("error %v, want error %v", err, c.err)
			}
			if err != nil {
				return
			}
			if sig.Verify != c.verify || len(sig.PublicKeys) != c.keys {
				t.Errorf("verify %v with %d keys, want %v with %d", sig.Verify, len(sig.PublicKeys), c.verify, c.keys)
			}
			if warns := UnsignedWarning(p) != ""; warns != c.warns {
				t.Errorf("warns %v, want %v", warns, c.warns)
			}
		})
	}
}

func TestVendorCallsNameTheOperatorAndTheProcess(t *testing.T) {
	var got string
	rt := withUserAgent{next: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.UserAgent()
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}, nil
	})}
	req, _ := http.NewRequest(http.MethodGet, "http://vendor.invalid/orders/1", nil)
	req.Header.Set("User-Agent", "caller")
	if _, err := rt.RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(got, "verification-operator/") || !strings.Contains(got, "(") {
		t.Errorf("User-Agent %q, want verification-operator/<version> (<process>)", got)
	}
	if req.UserAgent() != "caller" {
		t.Error("the caller's request was changed")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
