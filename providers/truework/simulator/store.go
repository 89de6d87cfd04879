package simulator

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// Truework's verification request states.
const (
	statePendingApproval = "pending-approval"
	stateActionRequired  = "action-required"
	stateProcessing      = "processing"
	stateOther           = "other"
	stateCompleted       = "completed"
	stateCanceled        = "canceled"
	stateInvalid         = "invalid"
)

var (
	allStates      = []string{statePendingApproval, stateActionRequired, stateProcessing, stateOther, stateCompleted, stateCanceled, stateInvalid}
	terminalStates = []string{stateCompleted, stateCanceled, stateInvalid}
)

func isTerminal(state string) bool { return slices.Contains(terminalStates, state) }

// order groups verification requests; it has no state of its own.
type order struct {
	id       string
	seq      int       // creation order, breaks ties between equal created
	created  time.Time // orders are listed newest first by it
	loanID   string
	requests []*request
	// reverified is the order of the request a reverification order was
	// created from (2023-10-30 serves it as reverification.parent_order_id);
	// nil for other orders.
	reverified *order
	// frozen: the target froze their SSN, every call on the order is 451.
	frozen bool
}

type request struct {
	id          string
	order       *order
	state       string
	seq         int // creation order, breaks ties between equal created
	created     time.Time
	completedAt time.Time // zero until completed
	reportID    string    // set when completed
	reason      string    // cancellation_reason, set when canceled
	details     *string   // cancellation_details
	// reverifiedAs lists the requests a reverify of this one created.
	reverifiedAs []string
	// kind is the verification type.
	kind string
	// employer is the target's company id (Truework's integer id).
	employer int
}

// newID makes an id shaped like Truework's, e.g.
// AAAAAAAAQnIAAYd5YHFVOm8PNX2ecFbEjqV__upOKUE8YE_IK2GwSQTP.
func newID() string {
	b := make([]byte, 36)
	_, _ = rand.Read(b)
	return "AAAAAAAA" + base64.RawURLEncoding.EncodeToString(b)
}

// newOrderLocked creates an empty order with a loan_id of its own
// ("loan-<n>"). s.mu must be held.
//
// **Assume:** every order carries the lender's loan_id (Truework makes it
// optional), and a reverification copies the source's loan_id onto the
// order it creates (see reverifyLocked).
func (s *Server) newOrderLocked() *order {
	s.orderSeq++
	o := &order{id: newID(), seq: s.orderSeq, created: s.Clock.Now(), loanID: fmt.Sprintf("loan-%d", s.orderSeq)}
	s.orders[o.id] = o
	return o
}

// newRequestLocked adds a request in state to o. s.mu must be held.
func (s *Server) newRequestLocked(o *order, state string) *request {
	s.requestSeq++
	r := &request{id: newID(), order: o, state: statePendingApproval, seq: s.requestSeq, created: s.Clock.Now(),
		kind: defaultKind, employer: defaultEmployer}
	s.requests[r.id] = r
	o.requests = append(o.requests, r)
	s.moveLocked(r, state)
	return r
}

// moveLocked puts r in state with what Truework records on the way: a
// completion date and a report on completion, a reason on cancellation.
func (s *Server) moveLocked(r *request, state string) {
	r.state = state
	switch state {
	case stateCompleted:
		r.completedAt = s.Clock.Now()
		r.reportID = newID()
		s.reports[r.reportID] = r
	case stateCanceled:
		if r.reason == "" {
			r.reason = "other" // canceled by Truework, not by the verifier
		}
	}
}

// orderWord sums up an order's requests as the client normalizes them: the
// first request still moving, else canceled, else completed, else invalid.
func orderWord(o *order) string {
	for _, r := range o.requests {
		if !isTerminal(r.state) {
			return r.state
		}
	}
	for _, word := range []string{stateCanceled, stateCompleted, stateInvalid} {
		if slices.ContainsFunc(o.requests, func(r *request) bool { return r.state == word }) {
			return word
		}
	}
	return ""
}

// CreateOrder creates an order with one verification request in state; a
// completed request gets date_of_completion = Clock.Now() and a report.
func (s *Server) CreateOrder(state string) (string, error) {
	if !slices.Contains(allStates, state) {
		return "", unknownState(state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.newOrderLocked()
	s.newRequestLocked(o, state)
	return o.id, nil
}

// AddRequest adds a verification request in state to an existing order,
// for orders of several requests; it returns the request id.
func (s *Server) AddRequest(orderID, state string) (string, error) {
	if !slices.Contains(allStates, state) {
		return "", unknownState(state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return "", fmt.Errorf("%w: %s", simkit.ErrNoOrder, orderID)
	}
	return s.newRequestLocked(o, state).id, nil
}

// OrderState is the order's word as the client normalizes it (a single
// request's own word). Given a verification request id, it is that
// request's word, so the sandbox can follow a reverified request too.
func (s *Server) OrderState(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.orders[id]; ok {
		return orderWord(o), true
	}
	if r, ok := s.requests[id]; ok {
		return r.state, true
	}
	return "", false
}

// SetOrderState moves every request of the order (or the one request,
// given a request id) to state, as Truework's team or the target would.
// Any move is allowed between non-terminal states (processing may go back to
// pending-approval); nothing leaves completed, canceled or invalid, and the
// call changes nothing when any request would have to.
func (s *Server) SetOrderState(id, state string) error {
	if !slices.Contains(allStates, state) {
		return unknownState(state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	targets, err := s.requestsOfLocked(id)
	if err != nil {
		return err
	}
	for _, r := range targets {
		if isTerminal(r.state) && r.state != state {
			return fmt.Errorf("verification request %s is %s, a terminal state: Truework never moves it again", r.id, r.state)
		}
	}
	for _, r := range targets {
		if r.state != state {
			s.moveLocked(r, state)
		}
	}
	return nil
}

// orderOfLocked resolves an order id to its order, a request id to the
// order holding it. s.mu must be held.
func (s *Server) orderOfLocked(id string) (*order, bool) {
	if r, ok := s.requests[id]; ok {
		return r.order, true
	}
	o, ok := s.orders[id]
	return o, ok
}

// requestsOfLocked resolves an order id to its requests, a request id to
// itself. s.mu must be held.
func (s *Server) requestsOfLocked(id string) ([]*request, error) {
	if o, ok := s.orders[id]; ok {
		return o.requests, nil
	}
	if r, ok := s.requests[id]; ok {
		return []*request{r}, nil
	}
	return nil, fmt.Errorf("%w: %s", simkit.ErrNoOrder, id)
}

// OrderOf maps a verification request id, or a report id, to its order,
// so calls on /verification-requests/{id}/ and /reports/{id} land in the
// order's call log.
func (s *Server) OrderOf(pathID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[pathID]; ok {
		return r.order.id
	}
	if r, ok := s.reports[pathID]; ok {
		return r.order.id
	}
	return pathID
}

// RequestIDs lists an order's verification request ids, oldest first.
func (s *Server) RequestIDs(orderID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[orderID]
	if !ok {
		return nil
	}
	ids := make([]string, 0, len(o.requests))
	for _, r := range o.requests {
		ids = append(ids, r.id)
	}
	return ids
}

// ReportID is the id of a completed request's report ("" otherwise): the
// report_id a reverify must name.
func (s *Server) ReportID(requestID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[requestID]; ok {
		return r.reportID
	}
	return ""
}

// Reverifications lists the requests that reverifying requestID created, so
// tests can check that a reverification happened exactly once.
func (s *Server) Reverifications(requestID string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.requests[requestID]; ok {
		return slices.Clone(r.reverifiedAs)
	}
	return nil
}

// Freeze makes every call on the order (or the order of a request id)
// answer 451, as when the target has frozen their SSN.
func (s *Server) Freeze(id string) error {
	return s.setFrozen(id, true)
}

// Unfreeze lifts Freeze.
func (s *Server) Unfreeze(id string) error {
	return s.setFrozen(id, false)
}

func (s *Server) setFrozen(id string, frozen bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orderOfLocked(id)
	if !ok {
		return fmt.Errorf("%w: %s", simkit.ErrNoOrder, id)
	}
	o.frozen = frozen
	return nil
}

// LoanID is the loan_id of an order (or of the order of a request id).
func (s *Server) LoanID(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orderOfLocked(id)
	if !ok {
		return "", false
	}
	return o.loanID, true
}

// The verification type and employer of a request unless SetKind says
// otherwise.
const (
	defaultKind     = "employment-income"
	defaultEmployer = 2
)

// SetKind sets a request's verification type ("employment",
// "employment-income") and its target's employer id, to play the several
// requests of one loan: a co-borrower's, or income beside employment.
func (s *Server) SetKind(requestID, kind string, employerID int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.requests[requestID]
	if !ok {
		return fmt.Errorf("%w: %s", simkit.ErrNoOrder, requestID)
	}
	r.kind, r.employer = kind, employerID
	return nil
}

// SetLoanID sets the loan_id of an order (or of the order of a request id);
// "" serves the order without one, as Truework allows.
func (s *Server) SetLoanID(id, loanID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orderOfLocked(id)
	if !ok {
		return fmt.Errorf("%w: %s", simkit.ErrNoOrder, id)
	}
	o.loanID = loanID
	return nil
}
