package truework

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersync/verification-operator/providers"
)

// The payload shape of Truework's webhook reference, with its example values.
const stateChangeHook = `{"version": "2023-10-30", "hook": {"id": "hook_1", "event": "verification_request.state.change",
 "target": "https://example.com/hooks", "triggered_at": "2026-11-23T12:00:00Z"},
 "data": {"order_id": "ord_1", "state": "completed", "verification_request_id": "vr_1"}}`

func TestWebhookToken(t *testing.T) {
	creds := map[string][]byte{WebhookSecretKey: []byte("static-token")}
	for _, c := range []struct {
		name, token string
		creds       map[string][]byte
		forged      bool
	}{
		{"the registered token", "static-token", creds, false},
		{"another token", "static-tokeN", creds, true},
		{"no token", "", creds, true},
		{"no token configured", "", map[string][]byte{}, true},
	} {
		h := http.Header{}
		h.Set(TokenHeader, c.token)
		err := verifyHook(h, []byte(stateChangeHook), c.creds)
		if errors.Is(err, providers.ErrForged) != c.forged {
			t.Errorf("%s: %v, want forged %v", c.name, err, c.forged)
		}
	}
}

func TestParseWebhook(t *testing.T) {
	push, err := parseHook(nil, []byte(stateChangeHook))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Push{DeliveryID: "hook_1", At: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), IDs: []string{"ord_1", "vr_1"}}
	if diff := cmp.Diff(want, push); diff != "" {
		t.Errorf("push (-want +got):\n%s", diff)
	}
	if _, err := parseHook(nil, []byte(`{"hook": {"id": "h"}, "data": {}}`)); err == nil {
		t.Error("a webhook naming nothing must be refused")
	}
}
