package chaos

import (
	"fmt"
	"net/http"
	"time"
)

// inFlightTolerance is how long after a client had a 429 a call on the
// account still counts as already under way rather than sent in disregard
// of the pause: the operator pauses the account when the reconcile that
// met the 429 has read the answer, and another worker may have taken a
// call from the budget just before and be sending it. Such a call leaves
// within milliseconds; the tolerance allows for a loaded machine.
const inFlightTolerance = 250 * time.Millisecond

// retryAfterFinding is what the Retry-After check found on one account.
type retryAfterFinding struct {
	account string
	// sent counts the answers that carried a Retry-After and reached the
	// client (an answer the client gave up on asks nothing of it).
	sent int
	// violations lists calls that came sooner than a Retry-After allowed;
	// knownViolations those the budget never paid for (Settle's confirming
	// read, the search for a lost reverification), which it cannot hold
	// back. They fail only with -chaos.strict.
	violations, knownViolations []string
	// inFlight counts calls that reached the account within
	// inFlightTolerance after the client had a 429.
	inFlight int
}

// checkRetryAfter checks that no call came sooner than a Retry-After the
// vendor sent, counted from when the client had the answer: on the same
// order, whatever the status (429, 503); and after a 429, on the whole
// account (the operator pauses the account), except calls already under
// way.
func checkRetryAfter(a *account, calls []call) retryAfterFinding {
	f := retryAfterFinding{account: a.name}
	for i, c := range calls {
		if c.RetryAfter <= 0 || c.undelivered {
			continue
		}
		f.sent++
		until := c.answered.Add(c.RetryAfter)
		for _, next := range calls[i+1:] {
			if !next.At.Before(until) {
				break
			}
			gap := next.At.Sub(c.answered)
			what := fmt.Sprintf("%s %s by %s %s after a %d with Retry-After %s", next.Method, next.Path, next.process,
				gap.Round(time.Millisecond), c.Status, c.RetryAfter)
			switch {
			case c.Status != http.StatusTooManyRequests && (c.order == nil || next.order != c.order):
				continue // a 503's Retry-After is the order's alone
			case (next.order != c.order || c.order == nil) && gap <= inFlightTolerance:
				// Another order's call (or one no path attributes, such as
				// Truework's POST /orders/reverification) already under way.
				f.inFlight++
				continue
			case c.order != nil && next.order == c.order:
				what += " on the same order"
			default:
				what += " on the account"
			}
			if next.unpaid != "" {
				f.knownViolations = append(f.knownViolations, what+" ("+next.unpaid+", which ignores the pause)")
			} else {
				f.violations = append(f.violations, what)
			}
		}
	}
	return f
}
