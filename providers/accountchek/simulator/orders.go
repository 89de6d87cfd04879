package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// AccountChek order statuses (seed).
const (
	StateBuilding   = "building"
	StateOpened     = "opened"
	StateInProgress = "inprogress"
	StateClosed     = "closed"
	StateCanceled   = "canceled"
)

// Statuses lists every status word, in lifecycle order.
var Statuses = []string{StateBuilding, StateOpened, StateInProgress, StateClosed, StateCanceled}

// Fixed fake borrower data served in every order, as in the seed's example.
const (
	piiEmail       = "johndoe@gmail.com"
	piiLast4SSN    = "6789"
	piiSSN         = "***-**-6789"
	piiReference   = "1122334455"
	piiPhone       = "706-123-4567"
	piiDateOfBirth = "1983-05-24T00:00:00Z"
	piiStreet      = "1234 Hawthorne Avenue"
)

// PII lists the personal values the simulator serves, for tests that assert
// none of them reaches a status, an event or a log line. The bare last4SSN
// ("6789"), zip code, city and names are served but not listed: short digit
// runs and words like "Doe" (in "Does") occur innocently in durations, ports
// and prose, so listing them would make those tests flaky. A leaked response
// is still caught by the longer values below.
var PII = []string{
	piiEmail,
	piiSSN,
	piiReference,
	piiPhone,
	piiDateOfBirth,
	"1983-05-24",
	piiStreet,
	"Hawthorne",
}

// order is the vendor-side truth for one AccountChek order.
type order struct {
	id      string
	created time.Time
	expires time.Time // when daysRemaining reaches 0
	status  string
}

func terminal(status string) bool { return status == StateClosed || status == StateCanceled }

// expire applies what AccountChek does when daysRemaining reaches 0: the
// system closes or cancels the order. Assume: an order the borrower started
// (inprogress) is closed, one they never touched is canceled. Called before
// every read, so the simulator's clock drives it.
func (o *order) expire(now time.Time) {
	if terminal(o.status) || now.Before(o.expires) {
		return
	}
	if o.status == StateInProgress {
		o.status = StateClosed
	} else {
		o.status = StateCanceled
	}
}

// transition applies a PATCH {"status": to}: cancel only from building or
// opened, close only from opened or inprogress. Repeating the order's own
// status is refused like any other illegal move (canceled -> canceled).
func (o *order) transition(to string) *errorBody {
	var allowed []string
	switch to {
	case StateCanceled:
		allowed = []string{StateBuilding, StateOpened}
	case StateClosed:
		allowed = []string{StateOpened, StateInProgress}
	default:
		return statusError("The status must be either 'canceled' or 'closed'.")
	}
	if !slices.Contains(allowed, o.status) {
		return statusError(fmt.Sprintf("An AccountChekOrder with status '%s' cannot be %s; it must be %s.",
			o.status, to, strings.Join(allowed, " or ")))
	}
	o.status = to
	return nil
}

func statusError(message string) *errorBody {
	return &errorBody{
		General:    []string{"The AccountChekOrder could not be updated."},
		Properties: []propertyError{{Property: "status", Message: message}},
	}
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	now := s.Clock.Now()
	s.mu.Lock()
	o, ok := s.lookup(r.PathValue("id"), now)
	var view orderJSON
	if ok {
		view = o.json(now)
	}
	s.mu.Unlock()
	if !ok {
		s.writeNotFound(w)
		return
	}
	simkit.WriteJSON(w, http.StatusOK, view)
}

// patchOrder validates the body before looking the order up, as ASP.NET
// model validation would, so a bad body is 422 even for an unknown order.
func (s *Server) patchOrder(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Status *string `json:"status"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&body); err != nil {
		writeErrorBody(w, http.StatusUnprocessableEntity, errorBody{
			General: []string{"The request body is not valid JSON."}, Properties: []propertyError{},
		})
		return
	}
	if body.Status == nil {
		writeErrorBody(w, http.StatusUnprocessableEntity, *statusError("The status field is required."))
		return
	}
	now := s.Clock.Now()
	s.mu.Lock()
	o, ok := s.lookup(r.PathValue("id"), now)
	var refusal *errorBody
	var view orderJSON
	if ok {
		refusal = o.transition(*body.Status)
		view = o.json(now)
	}
	s.mu.Unlock()
	switch {
	case !ok:
		s.writeNotFound(w)
	case refusal != nil:
		writeErrorBody(w, http.StatusUnprocessableEntity, *refusal)
	default:
		simkit.WriteJSON(w, http.StatusOK, view)
	}
}

// writeNotFound answers an unknown order. AccountChek says 404 "does not
// exist ... or you do not have visibility"; it documents no 404 body, so
// the simulator uses its error format.
func (s *Server) writeNotFound(w http.ResponseWriter) {
	s.WriteError(w, http.StatusNotFound, "The AccountChekOrder was not found.")
}

// lookup finds an order by id and brings it up to date. Callers hold s.mu.
func (s *Server) lookup(id string, now time.Time) (*order, bool) {
	o, ok := s.orders[canonicalID(id)]
	if ok {
		o.expire(now)
	}
	return o, ok
}

// canonicalID: AccountChek ids are GUIDs, which .NET compares regardless of
// case.
func canonicalID(id string) string { return strings.ToLower(id) }

// CreateOrder makes an order in status with a full daysRemaining.
func (s *Server) CreateOrder(status string) (string, error) {
	if err := checkStatus(status); err != nil {
		return "", err
	}
	now := s.Clock.Now()
	o := &order{id: newGUID(), created: now, expires: now.Add(OrderLifetime), status: status}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.orders[o.id] = o
	return o.id, nil
}

// OrderState is the order's current status.
func (s *Server) OrderState(id string) (string, bool) {
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.lookup(id, now)
	if !ok {
		return "", false
	}
	return o.status, true
}

// SetOrderState moves the order as the builder, the borrower or the
// AccountChek system would. It plays all of them, so it allows any move
// between the open statuses and into closed or canceled, but never out of
// closed or canceled: AccountChek calls both irreversible. Setting the
// current status again is a no-op.
func (s *Server) SetOrderState(id, status string) error {
	if err := checkStatus(status); err != nil {
		return err
	}
	now := s.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.lookup(id, now)
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", simkit.ErrNoOrder, id)
	case o.status == status:
		return nil
	case terminal(o.status):
		return fmt.Errorf("the order is %s, and AccountChek cannot reopen a closed or canceled order", o.status)
	}
	o.status = status
	return nil
}

// OrderOf maps a path id to its order's key in the call log.
func (s *Server) OrderOf(pathID string) string { return canonicalID(pathID) }

func checkStatus(status string) error {
	if slices.Contains(Statuses, status) {
		return nil
	}
	return fmt.Errorf("%w %q: AccountChek order statuses are %s",
		simkit.ErrUnknownState, status, strings.Join(Statuses, ", "))
}

// newGUID returns a random lowercase GUID like the seed's order ids.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// orderJSON is an AccountChek order exactly as the seed's example shows it,
// field for field, PII included, so clients are tested against the real
// shape.
type orderJSON struct {
	ID                              string      `json:"id"`
	Created                         string      `json:"created"`
	IsArchived                      bool        `json:"isArchived"`
	Status                          string      `json:"status"`
	LoginURL                        string      `json:"loginUrl"`
	DaysRemaining                   float64     `json:"daysRemaining"`
	EmploymentVerificationRequested bool        `json:"employmentVerificationRequested"`
	Email                           string      `json:"email"`
	Last4SSN                        string      `json:"last4SSN"`
	ReferenceNumber                 string      `json:"referenceNumber"`
	FirstName                       string      `json:"firstName"`
	LastName                        string      `json:"lastName"`
	NotificationURL                 *string     `json:"notificationUrl"`
	ReturnURL                       *string     `json:"returnUrl"`
	PhoneNumber                     string      `json:"phoneNumber"`
	EmployerName                    string      `json:"employerName"`
	SSN                             string      `json:"ssn"`
	DateOfBirth                     string      `json:"dateOfBirth"`
	Address                         addressJSON `json:"address"`
}

type addressJSON struct {
	Street  string  `json:"street"`
	Street2 *string `json:"street2"`
	City    string  `json:"city"`
	State   string  `json:"state"`
	Zip     string  `json:"zip"`
}

func (o *order) json(now time.Time) orderJSON {
	return orderJSON{
		ID:              o.id,
		Created:         o.created.UTC().Format("2006-01-02T15:04:05.000Z"),
		Status:          o.status,
		LoginURL:        "https://s-borrower.accountchek.net/Account/Login?vodkey=" + strings.ReplaceAll(o.id, "-", ""),
		DaysRemaining:   max(0, o.expires.Sub(now).Hours()/24),
		Email:           piiEmail,
		Last4SSN:        piiLast4SSN,
		ReferenceNumber: piiReference,
		FirstName:       "John",
		LastName:        "Doe",
		PhoneNumber:     piiPhone,
		EmployerName:    "Informative Research",
		SSN:             piiSSN,
		DateOfBirth:     piiDateOfBirth,
		Address:         addressJSON{Street: piiStreet, City: "Athens", State: "GA", Zip: "31032"},
	}
}
