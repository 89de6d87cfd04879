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

// Truv's status words. pending and sent are open; the rest are terminal.
var (
	openStatuses     = []string{"pending", "sent"}
	terminalStatuses = []string{"completed", "canceled", "expired", "error", "no_data", "skipped"}
)

// expiryAfter is Truv's default order lifetime: 72 hours, weekends not counted.
const expiryAfter = 72 * time.Hour

// errTerminal is returned when the admin API tries to move an order out of
// a terminal status.
var errTerminal = errors.New("terminal status")

type order struct {
	id        string
	createdAt time.Time
	updatedAt time.Time
	// expiresAt is when the order expires by itself; expired says it has.
	// Expiry is the order's (is_expired): its employers keep their last
	// status, as in the seed's example of an expired order whose employer
	// still says pending.
	expiresAt          time.Time
	expired            bool
	employers          []*employer
	financialAccountID string
	insuranceID        string
}

type employer struct {
	id          string
	status      string
	createdAt   time.Time
	canceledAt  time.Time
	completedAt time.Time
	expiredAt   time.Time
}

func isOpen(status string) bool { return slices.Contains(openStatuses, status) }

func validStatus(status string) error {
	if isOpen(status) || slices.Contains(terminalStatuses, status) {
		return nil
	}
	return fmt.Errorf("%w %q: Truv statuses are %s", simkit.ErrUnknownState, status,
		strings.Join(append(append([]string{}, openStatuses...), terminalStatuses...), ", "))
}

// newOrder makes an order with one employer per status, each as if it had
// just moved there.
func newOrder(now time.Time, statuses []string, lifetime time.Duration) *order {
	o := &order{
		id: newID(), createdAt: now, updatedAt: now, expiresAt: addWeekdayHours(now, lifetime),
		financialAccountID: newID(), insuranceID: newID(),
	}
	for _, st := range statuses {
		e := &employer{id: newID(), status: "pending", createdAt: now}
		e.moveTo(st, now)
		o.employers = append(o.employers, e)
	}
	return o
}

// status is the order's status word, derived from its employers: open if
// any employer is open (sent before pending), canceled if all are, else
// completed, expired, or the first failure, in that order.
func (o *order) status() string {
	if o.expired {
		return "expired"
	}
	for _, word := range []string{"sent", "pending"} {
		if o.any(word) {
			return word
		}
	}
	if o.all("canceled") {
		return "canceled"
	}
	for _, word := range []string{"completed", "expired"} {
		if o.any(word) {
			return word
		}
	}
	for _, e := range o.employers {
		if e.status != "canceled" {
			return e.status
		}
	}
	return "canceled"
}

func (o *order) any(status string) bool {
	for _, e := range o.employers {
		if e.status == status {
			return true
		}
	}
	return false
}

func (o *order) all(status string) bool {
	for _, e := range o.employers {
		if e.status != status {
			return false
		}
	}
	return true
}

// setStatus moves the order's open employers as the borrower or Truv would.
// A terminal order stays where it is; an employer that was sent is never
// pending again.
func (o *order) setStatus(status string, now time.Time) error {
	current := o.status()
	if status == current {
		return nil
	}
	if !isOpen(current) {
		return fmt.Errorf("order is %s, a %w: Truv never moves it again", current, errTerminal)
	}
	if status == "pending" && o.any("sent") {
		return fmt.Errorf("order was already sent to the borrower; Truv does not move it back to pending")
	}
	if status == "expired" { // the order expires, its employers keep their status
		o.expired, o.expiresAt, o.updatedAt = true, now, now
		return nil
	}
	for _, e := range o.employers {
		if isOpen(e.status) {
			e.moveTo(status, now)
		}
	}
	o.updatedAt = now
	return nil
}

// cancel sets every employer canceled; the caller has checked cancelable.
func (o *order) cancel(now time.Time) {
	for _, e := range o.employers {
		e.moveTo("canceled", now)
	}
	o.updatedAt = now
}

// moveTo sets the status and the timestamp that goes with it.
func (e *employer) moveTo(status string, now time.Time) {
	e.status = status
	switch status {
	case "canceled":
		e.canceledAt = now
	case "completed":
		e.completedAt = now
	case "expired":
		e.expiredAt = now
	}
}

// cancelable: Truv cancels an order only while it has not expired and every
// employer is open.
func (o *order) cancelable() bool {
	if o.expired {
		return false
	}
	for _, e := range o.employers {
		if !isOpen(e.status) {
			return false
		}
	}
	return true
}

// expireDue expires an open order past its deadline, as Truv does by
// itself. Called before every read or change of the order.
func (o *order) expireDue(now time.Time) {
	if now.Before(o.expiresAt) || o.expired || !isOpen(o.status()) {
		return
	}
	o.expired, o.updatedAt = true, o.expiresAt
}

// addWeekdayHours adds d to t counting only time that falls on weekdays
// (UTC), the way Truv's expiry does not count weekends.
func addWeekdayHours(t time.Time, d time.Duration) time.Time {
	t = t.UTC()
	for d > 0 {
		midnight := t.Truncate(24 * time.Hour).Add(24 * time.Hour)
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			t = midnight
			continue
		}
		step := min(d, midnight.Sub(t))
		t = t.Add(step)
		d -= step
	}
	return t
}

// newID returns an id shaped like Truv's: 32 lowercase hex digits.
func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
