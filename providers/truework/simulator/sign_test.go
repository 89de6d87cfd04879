package simulator_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// signatureFormat is the documented header: keyId, headers, signature.
var signatureFormat = regexp.MustCompile(`^keyId="([^"]+)", headers="date content-length", signature="([A-Za-z0-9+/=]+)"$`)

// verifies checks r's signature as Truework documents it, independently of
// the client: Ed25519 over "date: ...\ncontent-length: ...\n" and the body.
func verifies(t *testing.T, r response, keyID string, public ed25519.PublicKey) bool {
	t.Helper()
	m := signatureFormat.FindStringSubmatch(r.header.Get("X-Truework-Signature"))
	if m == nil {
		t.Errorf("HTTP %d: X-Truework-Signature %q is not in the documented format", r.status, r.header.Get("X-Truework-Signature"))
		return false
	}
	if m[1] != keyID {
		t.Errorf("signed with %q, want %q", m[1], keyID)
	}
	if n, err := strconv.Atoi(r.header.Get("Content-Length")); err != nil || n != len(r.body) {
		t.Errorf("Content-Length %q for %d bytes", r.header.Get("Content-Length"), len(r.body))
	}
	if _, err := time.Parse(http.TimeFormat, r.header.Get("Date")); err != nil {
		t.Errorf("Date %q: %v", r.header.Get("Date"), err)
	}
	sig, _ := base64.StdEncoding.DecodeString(m[2])
	msg := "date: " + r.header.Get("Date") + "\ncontent-length: " + r.header.Get("Content-Length") + "\n" + r.body
	return ed25519.Verify(public, []byte(msg), sig)
}

func processKey(t *testing.T) ed25519.PublicKey {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(twsim.SigningPublicKey())
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("SigningPublicKey %q is not a base64 Ed25519 key", twsim.SigningPublicKey())
	}
	if got := twsim.Entry().SigningKeys; len(got) != 1 || got[twsim.SigningKeyID] != twsim.SigningPublicKey() {
		t.Errorf("Entry().SigningKeys = %v", got)
	}
	return key
}

// Every answer of the API is signed, whatever its status, and the
// signature checks out with the published public key.
func TestEveryResponseIsSigned(t *testing.T) {
	public := processKey(t)
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	answers := map[string]response{
		"200":  send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, ""),
		"201":  send(t, http.MethodPost, srv.URL+"/orders/reverification", twsim.TestAPIKey, current, `{"report_id":"`+sim.ReportID(requestID)+`"}`),
		"400":  send(t, http.MethodPut, srv.URL+"/orders/"+orderID+"/cancel", twsim.TestAPIKey, current, `{}`),
		"401":  send(t, http.MethodGet, srv.URL+"/orders/"+orderID, "", current, ""),
		"404":  send(t, http.MethodGet, srv.URL+"/verification-requests/"+requestID+"/", twsim.TestAPIKey, current, ""),
		"406":  send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, legacy, ""),
		"list": send(t, http.MethodGet, srv.URL+"/verification-requests/", twsim.LegacyTestAPIKey, legacy, ""),
	}
	var limited response
	for i := 0; i < 30 && limited.status != http.StatusTooManyRequests; i++ {
		limited = send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.LiveAPIKey, current, "")
	}
	answers["429"] = limited
	sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
	answers["injected 503"] = send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, "")
	sim.SetFaults(simkit.Faults{})
	for name, r := range answers {
		if want := name; len(want) == 3 && strconv.Itoa(r.status) != want {
			t.Errorf("%s: status %d", name, r.status)
		}
		if !verifies(t, r, twsim.SigningKeyID, public) {
			t.Errorf("%s: the signature does not verify", name)
		}
	}
	// The admin API is the simulator's own, not Truework's: unsigned.
	if r := send(t, http.MethodGet, srv.URL+"/_sandbox/orders/"+orderID, "", "", ""); r.header.Get("X-Truework-Signature") != "" {
		t.Errorf("the admin API signs")
	}
}

// The signature covers what was sent: another key, or a changed body or
// header, does not verify.
func TestSignatureBindsBodyAndHeaders(t *testing.T) {
	public := processKey(t)
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "processing")
	r := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, "")
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	changedBody := r
	changedBody.body = r.body[:len(r.body)-2] + " }"
	changedDate := r
	changedDate.header = r.header.Clone()
	changedDate.header.Set("Date", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
	for name, tc := range map[string]struct {
		r   response
		key ed25519.PublicKey
	}{"another key": {r, other}, "another body": {changedBody, public}, "another date": {changedDate, public}} {
		if verifies(t, tc.r, twsim.SigningKeyID, tc.key) {
			t.Errorf("%s: verified", name)
		}
	}
}

// SetSigningKey rotates the key, or stops signing.
func TestSetSigningKey(t *testing.T) {
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "processing")
	public, private, _ := ed25519.GenerateKey(rand.Reader)
	sim.SetSigningKey("tw-rotated", private)
	r := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, "")
	if !verifies(t, r, "tw-rotated", public) {
		t.Error("the rotated key's signature does not verify")
	}
	sim.SetSigningKey("", nil)
	if r := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, ""); r.status != 200 || r.header.Get("X-Truework-Signature") != "" {
		t.Errorf("unsigned: %d %q", r.status, r.header.Get("X-Truework-Signature"))
	}
}
