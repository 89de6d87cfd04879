package simulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/ordersync/verification-operator/providers/simkit"
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
	simkit.WriteJSON(w, http.StatusOK, view)
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
	simkit.WriteJSON(w, http.StatusOK, viewOrder(o, c.versioned))
}

// List pagination, as Django REST framework's LimitOffsetPagination serves
// it. **Assume:** limit is capped at maxListLimit; an unreadable or
// non-positive limit means the default, an unreadable or negative offset 0.
const (
	defaultListLimit = 25
	maxListLimit     = 100
)

// requestList is GET /verification-requests/.
type requestList struct {
	Count    int           `json:"count"`
	Next     *string       `json:"next"`
	Previous *string       `json:"previous"`
	Results  []requestView `json:"results"`
}

// GET /verification-requests/?limit=&offset= lists every verification
// request of the account, newest first (an assumption, by created then
// creation order), requests of frozen orders included: listing is no call
// on them.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request, c call) {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = defaultListLimit
	}
	limit = min(limit, maxListLimit)
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}

	s.mu.Lock()
	all := make([]*request, 0, len(s.requests))
	for _, req := range s.requests {
		all = append(all, req)
	}
	slices.SortFunc(all, func(a, b *request) int {
		if byTime := b.created.Compare(a.created); byTime != 0 {
			return byTime
		}
		return cmp.Compare(b.seq, a.seq)
	})
	page := requestList{Count: len(all), Results: []requestView{}}
	for _, req := range all[min(offset, len(all)):min(offset+limit, len(all))] {
		page.Results = append(page.Results, viewRequest(req, c.versioned))
	}
	s.mu.Unlock()

	if offset+limit < page.Count {
		next := pageURL(r, limit, offset+limit)
		page.Next = &next
	}
	if offset > 0 {
		previous := pageURL(r, limit, offset-limit)
		page.Previous = &previous
	}
	simkit.WriteJSON(w, http.StatusOK, page)
}

// pageURL is the absolute URL of the page at offset, as DRF builds it: the
// request's URL with limit and offset replaced, offset dropped at 0.
func pageURL(r *http.Request, limit, offset int) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	} else {
		q.Del("offset")
	}
	u.RawQuery = q.Encode()
	return u.String()
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
	simkit.WriteJSON(w, http.StatusOK, view)
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
	simkit.WriteJSON(w, http.StatusOK, viewRequest(q, c.versioned))
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
	// **Assume:** the new request carries the source's loan_id, type and
	// target (so its employer).
	o := s.newOrderLocked()
	o.loanID = src.order.loanID
	created := s.newRequestLocked(o, statePendingApproval)
	created.kind, created.employer = src.kind, src.employer
	src.reverifiedAs = append(src.reverifiedAs, created.id)
	simkit.WriteJSON(w, http.StatusCreated, viewRequest(created, c.versioned))
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
