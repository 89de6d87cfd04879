package simulator

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// txcloud's status words.
const (
	StatePending  = "pending"
	StateReview   = "review"
	StateVerified = "verified"
	StateRejected = "rejected"
	StateExpired  = "expired"
	StateError    = "error"
	// The status reference lists these too: a manual review (not over),
	// failed (over without a result) and cancelled (final).
	StateManualReview = "manual_review"
	StateFailed       = "failed"
	StateCancelled    = "cancelled"
)

// Statuses are all of txcloud's status words.
var Statuses = []string{StatePending, StateReview, StateManualReview, StateVerified, StateRejected, StateExpired, StateError, StateFailed, StateCancelled}

// moves lists where each status can go. Statuses absent here are terminal.
// pending → expired (or cancelled, see Server.CanceledStatus) is both
// txcloud ending a verification and a cancel.
var moves = map[string][]string{
	StatePending:      {StateReview, StateManualReview, StateVerified, StateRejected, StateExpired, StateError, StateFailed, StateCancelled},
	StateReview:       {StateVerified, StateRejected},
	StateManualReview: {StateVerified, StateRejected, StateFailed},
}

// riskScores make the object look like what each status means; the client
// never reads them.
var riskScores = map[string]int{StateReview: 540, StateVerified: 120, StateRejected: 870}

type verification struct {
	id        string
	status    string
	createdAt time.Time
	updatedAt time.Time
}

var (
	errNotFound      = errors.New("no such verification")
	errNotCancelable = errors.New("verification is not pending")
)

// CreateOrder creates a verification in status state (admin API).
func (s *Server) CreateOrder(state string) (string, error) {
	if !slices.Contains(Statuses, state) {
		return "", unknownStatus(state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id := newID("ver_", 6)
	for s.verifications[id] != nil {
		id = newID("ver_", 6)
	}
	now := s.Clock.Now().UTC()
	s.verifications[id] = &verification{id: id, status: state, createdAt: now, updatedAt: now}
	return id, nil
}

// OrderState returns a verification's status (admin API).
func (s *Server) OrderState(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[id]
	if !ok {
		return "", false
	}
	return v.status, true
}

// SetOrderState moves a verification as txcloud or the person verifying
// would (admin API). Staying put is allowed; leaving a terminal status is not.
func (s *Server) SetOrderState(id, state string) error {
	if !slices.Contains(Statuses, state) {
		return unknownStatus(state)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[id]
	switch {
	case !ok:
		return fmt.Errorf("%w: %s", simkit.ErrNoOrder, id)
	case v.status == state:
		return nil
	case !slices.Contains(moves[v.status], state):
		return fmt.Errorf("txcloud cannot move a verification from %s to %s (allowed from %s: %s)",
			v.status, state, v.status, describeMoves(v.status))
	}
	v.status, v.updatedAt = state, s.Clock.Now().UTC()
	return nil
}

// OrderOf maps a path id to its order: a verification is the whole order.
func (s *Server) OrderOf(pathID string) string { return pathID }

func unknownStatus(state string) error {
	return fmt.Errorf("%w %q: txcloud statuses are %s", simkit.ErrUnknownState, state, strings.Join(Statuses, ", "))
}

func describeMoves(status string) string {
	if len(moves[status]) == 0 {
		return "none, it is terminal"
	}
	return strings.Join(moves[status], ", ")
}

// cancel applies POST .../cancel: pending becomes expired. It returns the
// rendered object, or the current status with an error when refused.
func (s *Server) cancel(id string) (verificationBody, string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[id]
	if !ok {
		return verificationBody{}, "", errNotFound
	}
	if v.status != StatePending {
		return verificationBody{}, v.status, errNotCancelable
	}
	v.status, v.updatedAt = s.canceledStatus(), s.Clock.Now().UTC()
	return v.body(), v.status, nil
}

func (s *Server) render(id string) (verificationBody, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.verifications[id]
	if !ok {
		return verificationBody{}, false
	}
	return v.body(), true
}

// newID is prefix plus n random bytes in hex: ver_a1b2c3d4e5f6 as in the seed.
func newID(prefix string, n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}
