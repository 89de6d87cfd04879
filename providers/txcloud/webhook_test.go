package txcloud

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersync/verification-operator/providers"
)

const completedHook = `{"id": "evt_1", "type": "identity.verification.completed", "created": 1795435200,
 "data": {"id": "ver_1", "status": "verified"}}`

func TestWebhookSignature(t *testing.T) {
	mac := hmac.New(sha256.New, []byte("whsec"))
	mac.Write([]byte(completedHook))
	good := hex.EncodeToString(mac.Sum(nil))
	for _, c := range []struct {
		name, sig string
		creds     map[string][]byte
		forged    bool
	}{
		{"signed with the webhook secret", good, map[string][]byte{KeyWebhookSecret: []byte("whsec")}, false},
		{"no webhook secret configured", good, map[string][]byte{}, true},
		{"another secret", good, map[string][]byte{KeyWebhookSecret: []byte("other")}, true},
		{"unsigned", "", map[string][]byte{KeyWebhookSecret: []byte("whsec")}, true},
	} {
		err := verifyHook(header(c.sig), []byte(completedHook), c.creds)
		if errors.Is(err, providers.ErrForged) != c.forged {
			t.Errorf("%s: %v, want forged %v", c.name, err, c.forged)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	push, err := parseHook(nil, []byte(completedHook))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Push{DeliveryID: "evt_1", At: time.Unix(1795435200, 0).UTC(), IDs: []string{"ver_1"}}
	if diff := cmp.Diff(want, push); diff != "" {
		t.Errorf("push (-want +got):\n%s", diff)
	}
}

// header is what a request carries: net/http canonicalizes header names.
func header(value string) http.Header {
	h := http.Header{}
	h.Set(SignatureHeader, value)
	return h
}
