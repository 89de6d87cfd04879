package simulator

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// txcloud's webhooks (docs/webhooks.md): identity.verification.completed
// when a verification ends with a verdict, identity.verification.failed
// otherwise, signed X-TXCloud-Signature: <hex HMAC-SHA256 of the body keyed
// with the webhook secret>. The payload's shape is an assumption
// (docs/vendors.md).
type hookBody struct {
	ID      string   `json:"id"`
	Type    string   `json:"type"`
	Created int64    `json:"created"`
	Data    hookData `json:"data"`
}

type hookData struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Delivery is the webhook for verification id, signed with secret.
func (s *Server) Delivery(id string, secret []byte) ([]byte, http.Header, bool) {
	s.mu.Lock()
	v, ok := s.verifications[id]
	if !ok {
		s.mu.Unlock()
		return nil, nil, false
	}
	event := "identity.verification.failed"
	if v.status == StateVerified || v.status == StateRejected {
		event = "identity.verification.completed"
	}
	hook := hookBody{ID: newID("evt_", 8), Type: event, Created: s.Clock.Now().Unix(), Data: hookData{ID: v.id, Status: v.status}}
	s.mu.Unlock()
	return simkit.SignedJSON(hook, secret, "X-TXCloud-Signature", "")
}
