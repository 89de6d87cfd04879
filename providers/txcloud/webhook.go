package txcloud

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// txcloud signs each webhook: X-TXCloud-Signature, the hex HMAC-SHA256 of
// the raw body keyed with the webhook secret. Events
// identity.verification.completed and identity.verification.failed.
//
// **Assume:** the payload is {"id": "evt_...", "type", "created": unix
// seconds, "data": {"id": "ver_...", "status"}}, as txcloud's API objects
// are shaped; the receiver reads the ids only.

// SignatureHeader carries txcloud's webhook signature.
const SignatureHeader = "X-TXCloud-Signature"

// KeyWebhookSecret is the Secret key of the webhook signing secret.
const KeyWebhookSecret = "webhookSecret"

func webhooks() *providers.Webhooks {
	return &providers.Webhooks{SecretKey: KeyWebhookSecret, Verify: verifyHook, Parse: parseHook}
}

func verifyHook(header http.Header, body []byte, credentials map[string][]byte) error {
	secret := credentials[KeyWebhookSecret]
	if len(secret) == 0 || !providers.HMACHexEqual(secret, body, header.Get(SignatureHeader)) {
		return providers.ErrForged
	}
	return nil
}

type wireHook struct {
	ID      string `json:"id"`
	Created int64  `json:"created"`
	Data    struct {
		ID string `json:"id"`
	} `json:"data"`
}

func parseHook(_ http.Header, body []byte) (providers.Push, error) {
	var h wireHook
	if err := json.Unmarshal(body, &h); err != nil {
		return providers.Push{}, fmt.Errorf("not a txcloud webhook: %w", err)
	}
	if h.Data.ID == "" {
		return providers.Push{}, fmt.Errorf("the webhook names no verification")
	}
	push := providers.Push{DeliveryID: h.ID, IDs: []string{h.Data.ID}}
	if h.Created > 0 {
		push.At = time.Unix(h.Created, 0).UTC()
	}
	return push, nil
}
