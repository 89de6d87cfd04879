package simulator

import (
	"net/http"
	"time"
)

// The routes of version 2023-10-30, on orders and reports.

// GET /orders/{id}
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[r.PathValue("id")]
	if !s.reachableLocked(w, o) {
		return
	}
	s.writeJSON(w, http.StatusOK, viewCurrentOrder(o))
}

// GET /orders?limit=&offset=&verification_id=&search_key= ("Get all
// orders") lists the account's orders, newest first, frozen ones included
// (listing is no call on them). verification_id keeps the order holding
// that request, a call on that order (451 when frozen); search_key keeps
// orders created with that key, and the simulator creates none with one.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request) {
	p := pageOf(r)
	q := r.URL.Query()
	s.mu.Lock()
	var all []*order
	switch {
	case q.Get("search_key") != "":
	case q.Get("verification_id") != "":
		if o := orderHolding(s.requests[q.Get("verification_id")]); o != nil {
			if o.frozen {
				s.mu.Unlock()
				s.writeFrozen(w) // a call on that order
				return
			}
			all = append(all, o)
		}
	default:
		for _, o := range s.orders {
			all = append(all, o)
		}
	}
	newestFirst(all, func(o *order) (time.Time, int) { return o.created, o.seq })
	list := currentList{Count: len(all), Results: []currentOrder{}}
	from, to := p.bounds(len(all))
	for _, o := range all[from:to] {
		list.Results = append(list.Results, viewCurrentOrder(o))
	}
	s.mu.Unlock()
	list.Next, list.Previous = p.links(r, list.Count)
	s.writeJSON(w, http.StatusOK, list)
}

// PUT /orders/{id}/cancel ("Cancel an order") cancels every request that
// is not terminal, and refuses an order with none left.
//
// An unknown order is 404. Truework documents 404 and also "400 Bad
// Request or Order not found" for this call; the client reads both as
// not found.
func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	body, fields, parseErr := decodeCancel(r)
	var changed string
	defer func() { s.notify(changed) }() // after the unlock: the delivery reads the order
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orders[r.PathValue("id")]
	if !s.reachableLocked(w, o) {
		return
	}
	if !s.validCancel(w, fields, parseErr) {
		return
	}
	var live []*request
	for _, q := range o.requests {
		if !isTerminal(q.state) {
			live = append(live, q)
		}
	}
	if len(live) == 0 {
		s.WriteError(w, http.StatusBadRequest,
			"This order cannot be canceled: every verification request on it is already completed, canceled or invalid.")
		return
	}
	for _, q := range live {
		s.cancelLocked(q, body)
	}
	changed = o.id
	s.writeJSON(w, http.StatusOK, viewCurrentCancelOrder(o))
}

// POST /orders/reverification ("Reverify a report": Request-Sync defaults
// to async, the only mode the simulator models; body {"report_id"})
// answers 201 with a new order holding the new request. The call lands in
// the call log of the reverified request's order, as the older route's did.
func (s *Server) reverifyReport(w http.ResponseWriter, r *http.Request) {
	body, parseProblem := decodeReverify(w, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.validReverify(w, body, parseProblem) {
		return
	}
	src := s.reports[body.ReportID]
	if !s.reachableLocked(w, orderHolding(src)) {
		return
	}
	r.SetPathValue("id", src.id) // read by the kit's call log
	if sync := r.Header.Get("Request-Sync"); sync != "" && sync != "async" {
		s.WriteError(w, http.StatusBadRequest, "Only verifications that were executed synchronously may be reverified synchronously.")
		return
	}
	if problem := s.reverifyProblemLocked(src, body.ReportID); problem != "" {
		s.WriteError(w, http.StatusBadRequest, problem)
		return
	}
	s.writeJSON(w, http.StatusCreated, viewCurrentOrder(s.reverifyLocked(src).order))
}

// GET /reports/{id} ("Get one report"): only completed requests have one.
func (s *Server) getReport(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.reports[r.PathValue("id")]
	if !s.reachableLocked(w, orderHolding(q)) {
		return
	}
	s.writeJSON(w, http.StatusOK, viewCurrentReport(q))
}
