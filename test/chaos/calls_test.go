package chaos

import (
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// call is one vendor API call from a simulator's timeline, attributed to
// the process that made it and the order it was about.
type call struct {
	simkit.Event
	account *account
	// order is nil for a call on no order (Truework's list of requests).
	order   *order
	process string
	// answered is when the client had the answer: At, unless the
	// simulator held the answer back. undelivered: the client gave up
	// before it came, and never learned what it said.
	answered    time.Time
	undelivered bool
	// unpaid says why the call was made without the operator taking it
	// from the account's budget ("" for a call the budget paid for).
	unpaid string
}

// Why a call can reach a vendor without the budget paying for it.
const (
	// Go's http.Transport sends a GET again by itself, once, when the
	// connection it reused is cut before an answer. vendorhttp makes
	// requests unreplayable, so it should not; but a read made again at
	// once by the client itself looks the same from here (Truework's
	// search reads a page lost on the way again, paid for by the pacer),
	// so these are only suspects, and the budget check counts them too.
	unpaidResend = "read again at once after a cut connection"
)

// unpaidWithin: a call this soon after another of the same process is
// part of the same piece of client code, not a new reconcile (the
// operator's own retries wait a second at least).
const unpaidWithin = 500 * time.Millisecond

// mutating: the call may change an order (every vendor reads with GET).
func (c call) mutating() bool { return c.Method != http.MethodGet }

// reverify: the call is Truework's reverify, which creates a request.
func (c call) reverify() bool { return strings.HasSuffix(c.Path, "/reverify/") }

// ledger is every vendor call of a run, by account, in arrival order.
type ledger map[*account][]call

// ledger reads every account's timeline and attributes each call: to an
// order by the vendor ids in its path (including the requests a
// reverification created), to a process by its User-Agent; and says which
// calls the budget did not pay for and which answers came late or never.
func (r *run) ledger() ledger {
	out := ledger{}
	for _, a := range r.accounts {
		byID := map[string]*order{}
		for _, o := range r.orders {
			if o.account != a {
				continue
			}
			byID[o.vendorID] = o
			if o.play.kind == simkit.PlayReverify {
				for _, created := range a.sim.(reverifier).Reverifications(o.request) {
					byID[a.sim.OrderOf(created)] = o
				}
			}
		}
		known := map[string]bool{}
		for id := range byID {
			known[id] = true
		}
		events := a.timeline()
		sort.SliceStable(events, func(i, j int) bool { return events[i].At.Before(events[j].At) })
		calls := make([]call, 0, len(events))
		for _, ev := range events {
			calls = append(calls, call{Event: ev, account: a, order: byID[a.orderOfPath(ev.Path, known)],
				process: processOf(ev.UserAgent), answered: ev.At})
		}
		markHeld(calls, r.wire.heldAnswers(a.name))
		markUnpaid(calls)
		out[a] = calls
	}
	return out
}

// markHeld finds the calls whose answers the simulator held back: the
// wire saw the same call (process, method, path) arrive within
// milliseconds of the simulator noting it.
func markHeld(calls []call, held []heldAnswer) {
	for _, h := range held {
		for i := range calls {
			c := &calls[i]
			if c.process == h.process && c.Method == h.method && c.Path == h.path && absDuration(c.At.Sub(h.start)) < 100*time.Millisecond {
				c.answered, c.undelivered = h.end, !h.delivered
				break
			}
		}
	}
}

// markUnpaid marks the calls the budget did not pay for, from the call
// of the same process just before them: a read that http.Transport sent
// again by itself after the connection broke (vendorhttp makes requests
// unreplayable, so none should). Settle's confirming read and the search
// for a reverification in doubt pay their own way (providers.Pacer), and
// are held to the budget like any call.
func markUnpaid(calls []call) {
	for i := range calls {
		c := &calls[i]
		if c.Method != http.MethodGet {
			continue
		}
		if prev := previous(calls, i, func(p call) bool { return p.Path == c.Path }); prev != nil && prev.Status == 0 && prev.Method == http.MethodGet {
			c.unpaid = unpaidResend
		}
	}
}

// previous is the latest call before calls[i] by the same process, within
// unpaidWithin, that match accepts; nil if none.
func previous(calls []call, i int, match func(call) bool) *call {
	for j := i - 1; j >= 0 && calls[i].At.Sub(calls[j].At) < unpaidWithin; j-- {
		if calls[j].process == calls[i].process && match(calls[j]) {
			return &calls[j]
		}
	}
	return nil
}

func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// of returns the calls on one order.
func (l ledger) of(o *order) []call {
	var out []call
	for _, c := range l[o.account] {
		if c.order == o {
			out = append(out, c)
		}
	}
	return out
}
