package truv

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/ordersync/verification-operator/providers"
)

// Truv signs each webhook: X-WEBHOOK-SIGN: v1=<hex HMAC-SHA256 of the raw
// body keyed with the access secret>. Event order-status-updated, one per
// employer status change, with order_id, employer_id and status.
//
// **Assume:** the payload also carries webhook_id (the delivery's id) and
// event_created_at (RFC 3339), as Truv's other webhooks do; without them
// the receiver refuses an identical body sent again (its hash) and cannot
// tell a delivery's age.

// SignHeader carries Truv's webhook signature.
const SignHeader = "X-WEBHOOK-SIGN"

func webhooks() *providers.Webhooks {
	return &providers.Webhooks{Verify: verifyHook, Parse: parseHook} // signed with the access secret
}

func verifyHook(header http.Header, body []byte, credentials map[string][]byte) error {
	secret := credentials[KeyAccessSecret]
	sig, ok := strings.CutPrefix(header.Get(SignHeader), "v1=")
	if len(secret) == 0 || !ok || !providers.HMACHexEqual(secret, body, sig) {
		return providers.ErrForged
	}
	return nil
}

type wireHook struct {
	WebhookID      string `json:"webhook_id"`
	EventCreatedAt string `json:"event_created_at"`
	OrderID        string `json:"order_id"`
	EmployerID     string `json:"employer_id"`
}

func parseHook(_ http.Header, body []byte) (providers.Push, error) {
	var h wireHook
	if err := json.Unmarshal(body, &h); err != nil {
		return providers.Push{}, fmt.Errorf("not a Truv webhook: %w", err)
	}
	if h.OrderID == "" {
		return providers.Push{}, fmt.Errorf("the webhook names no order")
	}
	push := providers.Push{DeliveryID: h.WebhookID, IDs: []string{h.OrderID}}
	if h.EmployerID != "" {
		push.IDs = append(push.IDs, h.EmployerID)
	}
	if at, ok := parseTime(h.EventCreatedAt); ok {
		push.At = at
	}
	return push, nil
}
