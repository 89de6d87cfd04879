package simulator

import (
	"encoding/json"
	"net/http"
	"time"
)

// Truework's webhooks (docs/webhooks.md): not signed, but carrying the
// static token set at registration in X-Truework-Token; payload
// {"version", "hook": {"id", "event", "target", "triggered_at"},
// "data": {"order_id", "state", "verification_request_id"}}. The simulator
// sends verification_request.state.change for the order's first request,
// and order.completed once every request is terminal.

type hookBody struct {
	Version string   `json:"version"`
	Hook    hookMeta `json:"hook"`
	Data    hookData `json:"data"`
}

type hookMeta struct {
	ID          string `json:"id"`
	Event       string `json:"event"`
	Target      string `json:"target"`
	TriggeredAt string `json:"triggered_at"`
}

type hookData struct {
	OrderID               string `json:"order_id"`
	State                 string `json:"state"`
	VerificationRequestID string `json:"verification_request_id"`
}

// Delivery is the webhook for order id's current state, with token as its
// X-Truework-Token.
func (s *Server) Delivery(id string, token []byte) ([]byte, http.Header, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[id]
	if o == nil || len(o.requests) == 0 {
		return nil, nil, false
	}
	event := "order.completed"
	for _, r := range o.requests {
		if !isTerminal(r.state) {
			event = "verification_request.state.change"
		}
	}
	first := o.requests[0]
	body, err := json.Marshal(hookBody{
		Version: CurrentVersion,
		Hook: hookMeta{ID: "hook_" + newID(), Event: event, Target: "registered-url",
			TriggeredAt: s.Clock.Now().UTC().Format(time.RFC3339)},
		Data: hookData{OrderID: o.id, State: first.state, VerificationRequestID: first.id},
	})
	if err != nil {
		return nil, nil, false
	}
	h := http.Header{}
	h.Set("X-Truework-Token", string(token))
	h.Set("Content-Type", "application/json")
	return body, h, true
}

// notify delivers the webhook of order id, if any changed.
func (s *Server) notify(id string) {
	if id != "" {
		s.Notify(id)
	}
}
