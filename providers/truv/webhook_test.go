package truv

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

const statusHook = `{"webhook_id": "wh_1", "event_type": "order-status-updated", "event_created_at": "2026-11-23T12:00:00Z",
 "order_id": "ord_1", "employer_id": "emp_1", "status": "completed"}`

func truvSign(secret, body string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(body))
	return "v1=" + hex.EncodeToString(mac.Sum(nil))
}

func TestWebhookSignature(t *testing.T) {
	creds := map[string][]byte{KeyAccessSecret: []byte("sandbox-secret")}
	for _, c := range []struct {
		name, sign string
		forged     bool
	}{
		{"signed with the access secret", truvSign("sandbox-secret", statusHook), false},
		{"signed with another secret", truvSign("guess", statusHook), true},
		{"without the v1= prefix", truvSign("sandbox-secret", statusHook)[3:], true},
		{"unsigned", "", true},
	} {
		err := verifyHook(header(c.sign), []byte(statusHook), creds)
		if errors.Is(err, providers.ErrForged) != c.forged {
			t.Errorf("%s: %v, want forged %v", c.name, err, c.forged)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	push, err := parseHook(nil, []byte(statusHook))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Push{DeliveryID: "wh_1", At: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), IDs: []string{"ord_1", "emp_1"}}
	if diff := cmp.Diff(want, push); diff != "" {
		t.Errorf("push (-want +got):\n%s", diff)
	}
	if _, err := parseHook(nil, []byte(`{"status": "completed"}`)); err == nil {
		t.Error("a webhook naming no order must be refused")
	}
}

// header is what a request carries: net/http canonicalizes header names.
func header(value string) http.Header {
	h := http.Header{}
	h.Set(SignHeader, value)
	return h
}
