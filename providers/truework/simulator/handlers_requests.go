package simulator

import (
	"fmt"
	"net/http"
	"time"
)

// The routes of the versions before 2023-10-30, on verification requests.

// GET /verification-requests/?limit=&offset= ("Get All Verifications")
// lists every verification request of the account, requests of frozen
// orders included: listing is no call on them.
func (s *Server) listRequests(w http.ResponseWriter, r *http.Request) {
	p := pageOf(r)
	s.mu.Lock()
	all := make([]*request, 0, len(s.requests))
	for _, req := range s.requests {
		all = append(all, req)
	}
	newestFirst(all, func(q *request) (time.Time, int) { return q.created, q.seq })
	list := legacyList{Count: len(all), Results: []legacyRequest{}}
	from, to := p.bounds(len(all))
	for _, req := range all[from:to] {
		list.Results = append(list.Results, viewLegacyRequest(req))
	}
	s.mu.Unlock()
	list.Next, _ = p.links(r, list.Count)
	s.writeJSON(w, http.StatusOK, list)
}

// GET /verification-requests/{id}/
func (s *Server) getRequest(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.requests[r.PathValue("id")]
	if !s.reachableLocked(w, orderHolding(q)) {
		return
	}
	s.writeJSON(w, http.StatusOK, viewLegacyRequest(q))
}

// PUT /verification-requests/{id}/cancel/
func (s *Server) cancelRequest(w http.ResponseWriter, r *http.Request) {
	body, fields, parseErr := decodeCancel(r)
	var changed string
	defer func() { s.notify(changed) }() // after the unlock: the delivery reads the order
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.requests[r.PathValue("id")]
	if !s.reachableLocked(w, orderHolding(q)) {
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
	changed = q.order.id
	s.writeJSON(w, http.StatusOK, viewLegacyRequest(q))
}

// PUT /verification-requests/{id}/reverify/ (seed "Reverify a
// Verification"; Request-Sync is required and async the only mode the
// simulator models) answers 201 with the new request.
func (s *Server) reverifyRequest(w http.ResponseWriter, r *http.Request) {
	body, parseProblem := decodeReverify(w, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	src := s.requests[r.PathValue("id")]
	if !s.reachableLocked(w, orderHolding(src)) {
		return
	}
	if r.Header.Get("Request-Sync") != "async" {
		s.WriteError(w, http.StatusBadRequest, "The Request-Sync header is required and must be async for a reverification.")
		return
	}
	if !s.validReverify(w, body, parseProblem) {
		return
	}
	if problem := s.reverifyProblemLocked(src, body.ReportID); problem != "" {
		s.WriteError(w, http.StatusBadRequest, problem)
		return
	}
	s.writeJSON(w, http.StatusCreated, viewLegacyRequest(s.reverifyLocked(src)))
}
