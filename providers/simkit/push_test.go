package simkit_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// pushyVendor is fakeVendor with webhooks: {"id", "state"} signed in X-Sig
// with the hex HMAC-SHA256 of the secret.
type pushyVendor struct{ *fakeVendor }

func (v pushyVendor) Delivery(id string, secret []byte) ([]byte, http.Header, bool) {
	state, ok := v.OrderState(id)
	if !ok {
		return nil, nil, false
	}
	body, _ := json.Marshal(map[string]string{"id": id, "state": state})
	mac := hmacHex(secret, body)
	return body, http.Header{"X-Sig": {mac}}, true
}

// receiver records deliveries, answering 503 to the first failFirst of them.
type receiver struct {
	mu        sync.Mutex
	got       []string // "<id> <state> <signature ok>"
	failFirst int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.failFirst > 0 {
		rc.failFirst--
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var d struct{ ID, State string }
	_ = json.Unmarshal(body, &d)
	ok := providers.HMACHexEqual([]byte("hook-secret"), body, r.Header.Get("X-Sig"))
	rc.got = append(rc.got, d.ID+" "+d.State+" "+map[bool]string{true: "signed", false: "forged"}[ok])
	if !ok {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (rc *receiver) deliveries() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.got...)
}

func newPushySim(t *testing.T, hook simkit.Webhook, rc *receiver) (*simkit.Server, string) {
	t.Helper()
	old := simkit.RetryBackoff
	simkit.RetryBackoff = 10 * time.Millisecond
	t.Cleanup(func() { simkit.RetryBackoff = old })
	recv := httptest.NewServer(rc)
	t.Cleanup(recv.Close)
	v := pushyVendor{&fakeVendor{orders: map[string]string{}}}
	s := simkit.New(v, 0, 0)
	sim := httptest.NewServer(s)
	t.Cleanup(sim.Close)
	hook.URL = recv.URL
	hook.Secret = "hook-secret"
	s.SetWebhook(hook)
	id, err := v.CreateOrder("pending")
	if err != nil {
		t.Fatal(err)
	}
	return s, id
}

func setState(t *testing.T, s *simkit.Server, id, state string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/_sandbox/orders/"+id+"/state", jsonBody(map[string]string{"state": state}))
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("set state: %d %s", rec.Code, rec.Body)
	}
	s.WaitDeliveries()
}

func TestAStateChangeIsPushedSigned(t *testing.T) {
	rc := &receiver{}
	s, id := newPushySim(t, simkit.Webhook{}, rc)
	setState(t, s, id, "completed")
	if got := rc.deliveries(); len(got) != 1 || got[0] != id+" completed signed" {
		t.Errorf("deliveries %v, want one signed delivery of the new state", got)
	}
	if s.Delivered() != 1 {
		t.Errorf("delivered %d, want 1", s.Delivered())
	}
}

func TestDeliveryFaults(t *testing.T) {
	for _, c := range []struct {
		name      string
		hook      simkit.Webhook
		failFirst int
		want      []string
		delivered int
	}{
		{"a bad signature", simkit.Webhook{BadSignatureRate: 1}, 0, []string{"forged"}, 0},
		{"a duplicate", simkit.Webhook{DuplicateRate: 1}, 0, []string{"signed", "signed"}, 2},
		{"retried after a 503", simkit.Webhook{}, 2, []string{"signed"}, 1},
		{"delayed", simkit.Webhook{DelayMs: 20, JitterMs: 10}, 0, []string{"signed"}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rc := &receiver{failFirst: c.failFirst}
			s, id := newPushySim(t, c.hook, rc)
			setState(t, s, id, "completed")
			got := rc.deliveries()
			if len(got) != len(c.want) {
				t.Fatalf("deliveries %v, want %d", got, len(c.want))
			}
			for i, g := range got {
				if g != id+" completed "+c.want[i] {
					t.Errorf("delivery %d: %q, want %s", i, g, c.want[i])
				}
			}
			if s.Delivered() != c.delivered {
				t.Errorf("delivered %d, want %d", s.Delivered(), c.delivered)
			}
		})
	}
}

func TestAVendorWithoutWebhooksRefusesAURL(t *testing.T) {
	m := newSim(t)
	if status, _, body := m.call("PUT", "/_sandbox/webhook", map[string]any{"url": "https://127.0.0.1:1/hooks"}); status != http.StatusBadRequest {
		t.Errorf("PUT webhook on a vendor without webhooks: %d %s, want 400", status, body)
	}
}

func hmacHex(key, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

func jsonBody(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}
