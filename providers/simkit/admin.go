package simkit

import (
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

type stateBody struct {
	State string `json:"state"`
}

type orderView struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Calls []Call `json:"calls"`
}

func (s *Server) adminCreate(w http.ResponseWriter, r *http.Request) {
	var b stateBody
	if !decodeAdmin(w, r, &b) {
		return
	}
	id, err := s.backend.CreateOrder(b.State)
	if err != nil {
		adminError(w, err)
		return
	}
	WriteJSON(w, http.StatusCreated, map[string]string{"id": id})
}

func (s *Server) adminGet(w http.ResponseWriter, r *http.Request) {
	s.writeOrder(w, r.PathValue("id"))
}

func (s *Server) adminSetState(w http.ResponseWriter, r *http.Request) {
	var b stateBody
	if !decodeAdmin(w, r, &b) {
		return
	}
	id := r.PathValue("id")
	if err := s.backend.SetOrderState(id, b.State); err != nil {
		adminError(w, err)
		return
	}
	s.Notify(id)
	s.writeOrder(w, id)
}

// adminWebhook sets where and how the simulator delivers the vendor's
// webhooks: {"url", "secret", "duplicateRate", "delayMs", "jitterMs",
// "badSignatureRate"}.
func (s *Server) adminWebhook(w http.ResponseWriter, r *http.Request) {
	var h Webhook
	if !decodeAdmin(w, r, &h) {
		return
	}
	if h.DuplicateRate < 0 || h.DuplicateRate > 1 || h.BadSignatureRate < 0 || h.BadSignatureRate > 1 || h.DelayMs < 0 || h.JitterMs < 0 {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "duplicateRate and badSignatureRate are probabilities between 0 and 1; delayMs and jitterMs cannot be negative"})
		return
	}
	if _, ok := s.backend.(Pusher); !ok && h.URL != "" {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "this vendor has no webhooks"})
		return
	}
	s.SetWebhook(h)
	WriteJSON(w, http.StatusOK, h)
}

func (s *Server) writeOrder(w http.ResponseWriter, id string) {
	state, ok := s.backend.OrderState(id)
	if !ok {
		adminError(w, ErrNoOrder)
		return
	}
	calls := s.Calls(id)
	if calls == nil {
		calls = []Call{}
	}
	WriteJSON(w, http.StatusOK, orderView{ID: id, State: state, Calls: calls})
}

func (s *Server) adminFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if !decodeAdmin(w, r, &f) {
		return
	}
	for _, p := range f.probabilities() {
		if p < 0 || p > 1 {
			WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "rate, dropAfterCommit, resetRate and slowRate are probabilities between 0 and 1"})
			return
		}
	}
	if f.LatencyMs < 0 || f.SlowMs < 0 || f.RetryAfterSeconds < 0 {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "latencyMs, slowMs and retryAfterSeconds cannot be negative"})
		return
	}
	for _, st := range f.Statuses {
		if st < 400 || st > 599 {
			WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "statuses must be HTTP error codes (400-599)"})
			return
		}
	}
	s.SetFaults(f)
	WriteJSON(w, http.StatusOK, f)
}

func (s *Server) adminGetFaults(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, s.Faults())
}

func (s *Server) adminStats(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, map[string]any{"calls": s.Stats()})
}

// adminClock moves the simulator's clock forward, e.g. past Truework's
// 90-day reverification window: {"advanceSeconds": 7776000}.
func (s *Server) adminClock(w http.ResponseWriter, r *http.Request) {
	var b struct {
		AdvanceSeconds int64 `json:"advanceSeconds"`
	}
	if !decodeAdmin(w, r, &b) {
		return
	}
	s.Clock.Advance(time.Duration(b.AdvanceSeconds) * time.Second)
	WriteJSON(w, http.StatusOK, map[string]string{"now": s.Clock.Now().UTC().Format(time.RFC3339)})
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid JSON body: " + err.Error()})
		return false
	}
	return true
}

func adminError(w http.ResponseWriter, err error) {
	status := http.StatusBadRequest
	if errors.Is(err, ErrNoOrder) {
		status = http.StatusNotFound
	}
	WriteJSON(w, status, map[string]string{"error": err.Error()})
}
