package simulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"

	"github.com/ordersync/verification-operator/providers/simulator"
)

// cancellationReasons are the values cancellation_reason accepts.
var cancellationReasons = []string{"immediate", "high-turnaround-time", "competitor", "wrong-info", "other"}

// maxBody caps what the simulator reads of a request body.
const maxBody = 64 << 10

// GET /orders/{id}
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, c call) {
	s.mu.Lock()
	o, ok := s.orders[r.PathValue("id")]
	if !ok || o.frozen {
		s.mu.Unlock()
		s.writeMissingOrFrozen(w, ok)
		return
	}
	view := viewOrder(o, c.versioned)
	s.mu.Unlock()
	simulator.WriteJSON(w, http.StatusOK, view)
}

// PUT /orders/{id}/cancel cancels every request that is not terminal, and
// refuses an order with none left.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request, c call) {
	body, fields, parseErr := decodeCancel(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[r.PathValue("id")]
	if !ok || o.frozen {
		s.writeMissingOrFrozen(w, ok)
		return
	}
	if !s.validCancel(w, fields, parseErr) {
		return
	}
	live := slices.DeleteFunc(slices.Clone(o.requests), func(q *request) bool { return isTerminal(q.state) })
	if len(live) == 0 {
		s.WriteError(w, http.StatusBadRequest,
			"This order cannot be canceled: every verification request on it is already completed, canceled or invalid.")
		return
	}
	for _, q := range live {
		s.cancelLocked(q, body)
	}
	simulator.WriteJSON(w, http.StatusOK, viewOrder(o, c.versioned))
}

// GET /verification-requests/{id}/
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request, c call) {
	s.mu.Lock()
	q, ok := s.requests[r.PathValue("id")]
	if !ok || q.order.frozen {
		s.mu.Unlock()
		s.writeMissingOrFrozen(w, ok)
		return
	}
	view := viewRequest(q, c.versioned)
	s.mu.Unlock()
	simulator.WriteJSON(w, http.StatusOK, view)
}

// PUT /verification-requests/{id}/cancel/
func (s *Server) cancelRequest(w http.ResponseWriter, r *http.Request, c call) {
	body, fields, parseErr := decodeCancel(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	q, ok := s.requests[r.PathValue("id")]
	if !ok || q.order.frozen {
		s.writeMissingOrFrozen(w, ok)
		return
	}
	if !s.validCancel(w, fields, parseErr) {
		return
	}
	if isTerminal(q.state) {
		s.WriteError(w, http.StatusBadRequest,
			fmt.Sprintf("This verification request cannot be canceled: it is already %s.", q.state))
		return
	}
	s.cancelLocked(q, body)
	simulator.WriteJSON(w, http.StatusOK, viewRequest(q, c.versioned))
}

// PUT /verification-requests/{id}/reverify/ creates a new request, in an
// order of its own, for a request completed no more than 90 days ago.
func (s *Server) reverify(w http.ResponseWriter, r *http.Request, c call) {
	var body struct {
		ReportID string `json:"report_id"`
	}
	parseErr := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body)
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.requests[r.PathValue("id")]
	if !ok || src.order.frozen {
		s.writeMissingOrFrozen(w, ok)
		return
	}
	if r.Header.Get("Request-Sync") != "async" {
		s.WriteError(w, http.StatusBadRequest, "The Request-Sync header is required and must be async for a reverification.")
		return
	}
	if parseErr != nil {
		s.WriteError(w, http.StatusBadRequest, "JSON parse error: the body must be an object with report_id.")
		return
	}
	if body.ReportID == "" {
		writeInvalidFields(w, map[string][]string{"report_id": {"This field is required."}})
		return
	}
	if problem := s.reverifyProblemLocked(src, body.ReportID); problem != "" {
		s.WriteError(w, http.StatusBadRequest, problem)
		return
	}
	o := s.newOrderLocked()
	o.loanID = src.order.loanID
	created := s.newRequestLocked(o, statePendingApproval)
	src.reverifiedAs = append(src.reverifiedAs, created.id)
	simulator.WriteJSON(w, http.StatusCreated, viewRequest(created, c.versioned))
}

// reverifyProblemLocked says why src cannot be reverified with reportID.
func (s *Server) reverifyProblemLocked(src *request, reportID string) string {
	switch {
	case src.state != stateCompleted:
		return fmt.Sprintf("Only completed verification requests can be reverified; this one is %s.", src.state)
	case s.Clock.Now().Sub(src.completedAt) > ReverifyWindow:
		return "This verification request was completed more than 90 days ago and can no longer be reverified."
	case reportID != src.reportID:
		return "The report does not belong to this verification request."
	}
	return ""
}

// cancelBody is what both cancel endpoints accept.
type cancelBody struct {
	Reason  *string `json:"cancellation_reason"`
	Details *string `json:"cancellation_details"`
}

// decodeCancel reads a cancel body and lists its invalid fields.
func decodeCancel(r *http.Request) (cancelBody, map[string][]string, error) {
	var b cancelBody
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(&b); err != nil {
		return b, nil, err
	}
	fields := map[string][]string{}
	switch {
	case b.Reason == nil || *b.Reason == "":
		fields["cancellation_reason"] = []string{"This field is required."}
	case !slices.Contains(cancellationReasons, *b.Reason):
		fields["cancellation_reason"] = []string{fmt.Sprintf("%q is not a valid choice.", *b.Reason)}
	}
	return b, fields, nil
}

// validCancel answers 400 for an unreadable or invalid cancel body.
func (s *Server) validCancel(w http.ResponseWriter, fields map[string][]string, parseErr error) bool {
	if parseErr != nil {
		s.WriteError(w, http.StatusBadRequest, "JSON parse error: the body must be an object with cancellation_reason.")
		return false
	}
	if len(fields) > 0 {
		writeInvalidFields(w, fields)
		return false
	}
	return true
}

func (s *Server) cancelLocked(q *request, b cancelBody) {
	q.reason = *b.Reason
	q.details = b.Details
	s.moveLocked(q, stateCanceled)
}

func (s *Server) writeMissingOrFrozen(w http.ResponseWriter, found bool) {
	if !found {
		s.writeNotFound(w)
		return
	}
	s.writeFrozen(w)
}
