package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Truv's webhooks (docs/webhooks.md): order-status-updated, one per
// employer, signed X-WEBHOOK-SIGN: v1=<hex HMAC-SHA256 of the body keyed
// with the access secret>. The payload's webhook_id and event_created_at
// are assumptions (docs/vendors.md).
type hookBody struct {
	WebhookID      string `json:"webhook_id"`
	EventType      string `json:"event_type"`
	EventCreatedAt string `json:"event_created_at"`
	OrderID        string `json:"order_id"`
	EmployerID     string `json:"employer_id"`
	Status         string `json:"status"`
}

// Delivery is the webhook for order id's first employer, signed with
// secret (the access secret, as Truv signs).
func (s *Server) Delivery(id string, secret []byte) ([]byte, http.Header, bool) {
	s.mu.Lock()
	o, ok := s.lookup(id)
	if !ok || len(o.employers) == 0 {
		s.mu.Unlock()
		return nil, nil, false
	}
	hook := hookBody{WebhookID: newID(), EventType: "order-status-updated", EventCreatedAt: s.Clock.Now().UTC().Format(timeLayout),
		OrderID: o.id, EmployerID: o.employers[0].id, Status: o.employers[0].status}
	s.mu.Unlock()
	return simkit.SignedJSON(hook, secret, "X-WEBHOOK-SIGN", "v1=")
}
