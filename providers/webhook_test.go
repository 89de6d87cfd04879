package providers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestHMACHexEqual(t *testing.T) {
	key, body := []byte("secret"), []byte(`{"order_id":"o-1"}`)
	mac := hmac.New(sha256.New, key)
	mac.Write(body)
	good := hex.EncodeToString(mac.Sum(nil))
	for _, c := range []struct {
		name      string
		key, body []byte
		signature string
		want      bool
	}{
		{"the vendor's signature", key, body, good, true},
		{"another key", []byte("guess"), body, good, false},
		{"a changed body", key, []byte(`{"order_id":"o-2"}`), good, false},
		{"not hex", key, body, "v1=" + good, false},
		{"empty", key, body, "", false},
		{"truncated", key, body, good[:32], false},
	} {
		if got := HMACHexEqual(c.key, c.body, c.signature); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}
