package truework

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/ordersync/verification-operator/providers"
)

// Truework's webhooks are not signed: each carries the static token set
// when the webhook was registered, in X-Truework-Token. Events
// order.completed and verification_request.state.change, payload
// {"version", "hook": {"id", "event", "target", "triggered_at"},
// "data": {"order_id", "state", "verification_request_id", ...}}; failed
// deliveries are retried for up to 48 hours.

// TokenHeader carries the webhook's static token.
const TokenHeader = "X-Truework-Token"

// WebhookSecretKey is the Secret key of the webhook token.
const WebhookSecretKey = "webhookSecret"

func webhooks() *providers.Webhooks {
	return &providers.Webhooks{SecretKey: WebhookSecretKey, Verify: verifyHook, Parse: parseHook, HeaderOnly: true} // X-Truework-Token
}

func verifyHook(header http.Header, _ []byte, credentials map[string][]byte) error {
	want := credentials[WebhookSecretKey]
	got := []byte(header.Get(TokenHeader))
	if len(want) == 0 || subtle.ConstantTimeCompare(got, want) != 1 {
		return providers.ErrForged
	}
	return nil
}

// wireHook is a delivery, decoded for its ids only: data carries the
// target's details in some events.
type wireHook struct {
	Hook struct {
		ID          string     `json:"id"`
		TriggeredAt vendorTime `json:"triggered_at"`
	} `json:"hook"`
	Data struct {
		OrderID               string `json:"order_id"`
		VerificationRequestID string `json:"verification_request_id"`
	} `json:"data"`
}

func parseHook(_ http.Header, body []byte) (providers.Push, error) {
	var h wireHook
	if err := json.Unmarshal(body, &h); err != nil {
		return providers.Push{}, fmt.Errorf("not a Truework webhook: %w", err)
	}
	push := providers.Push{DeliveryID: h.Hook.ID}
	if h.Hook.TriggeredAt.t != nil {
		push.At = *h.Hook.TriggeredAt.t
	}
	for _, id := range []string{h.Data.OrderID, h.Data.VerificationRequestID} {
		if id != "" {
			push.IDs = append(push.IDs, id)
		}
	}
	if len(push.IDs) == 0 {
		return providers.Push{}, fmt.Errorf("the webhook names no order or verification request")
	}
	return push, nil
}
