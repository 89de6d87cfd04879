package truv

import (
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// Truv's status words, shared by employers, financial accounts and insurance.
const (
	StatePending   = "pending"
	StateSent      = "sent"
	StateCompleted = "completed"
	StateCanceled  = "canceled"
	StateExpired   = "expired"
	StateError     = "error"
	StateNoData    = "no_data"
	StateSkipped   = "skipped"
)

// statusStates normalizes Truv's status words. pending and sent are the only
// open ones; error, no_data and skipped all mean Truv gave up without data.
var statusStates = providers.StateTable{
	StatePending:   providers.StateActive,
	StateSent:      providers.StateActive,
	StateCompleted: providers.StateCompleted,
	StateCanceled:  providers.StateCanceled,
	StateExpired:   providers.StateExpired,
	StateError:     providers.StateFailed,
	StateNoData:    providers.StateFailed,
	StateSkipped:   providers.StateFailed,
}

// normalize maps a vendor word to a State; unknown words count as active
// (see providers.StateTable).
func normalize(status string) providers.State { return statusStates.Normalize(status) }

// order is the part of a Truv order the client reads: ids, status words and
// completion times. Everything else in the response (profiles with SSN and
// date of birth, bank accounts, paystubs) is skipped by the decoder.
type order struct {
	ID          string `json:"id"`
	CompletedAt string `json:"completed_at"`
	// IsExpired is the order's own expiry: an expired order may still
	// list its employers as pending (the seed's example does).
	IsExpired         bool   `json:"is_expired"`
	Employers         []part `json:"employers"`
	FinancialAccounts []part `json:"financial_accounts"`
	Insurance         *part  `json:"insurance"`
}

// part is an employer, a financial account or the insurance of an order.
type part struct {
	ID          string `json:"id"`
	Status      string `json:"status"`
	CompletedAt string `json:"completed_at"`
}

// observation reduces the order to what the controller plans with.
func (o order) observation() providers.Observation {
	parts := o.statusParts()
	requests := make([]providers.Request, 0, len(parts))
	for _, p := range parts {
		requests = append(requests, providers.Request{ID: p.ID, VendorState: p.Status, State: normalize(p.Status)})
	}
	word, state := deriveStatus(requests)
	if o.IsExpired && state == providers.StateActive {
		// Over, whatever its employers last said: nothing more can happen.
		word, state = StateExpired, providers.StateExpired
	}
	obs := providers.Observation{ID: o.ID, VendorState: word, State: state, Requests: requests}
	if state == providers.StateCompleted {
		obs.CompletedAt = o.completedAt(parts)
	}
	return obs
}

// statusParts are the parts whose statuses make the order's status: the
// employers. An order for assets or insurance only has no employers; its
// financial accounts and insurance carry the same status words, so they
// stand in for them rather than leaving the order without a status.
func (o order) statusParts() []part {
	if len(o.Employers) > 0 {
		return o.Employers
	}
	parts := append([]part(nil), o.FinancialAccounts...)
	if o.Insurance != nil {
		parts = append(parts, *o.Insurance)
	}
	return parts
}

// deriveStatus gives the order one status word and State from its parts:
//   - any part open: active, "sent" if any part is sent, else "pending" if
//     any is pending, else the first open word (one Truv added later);
//   - all canceled: canceled;
//   - else any completed: completed (some data came back);
//   - else any expired: expired;
//   - else failed, with the word of the first failed part.
//
// An order with no parts at all has nothing that could end, so it counts as
// active with an empty word.
func deriveStatus(reqs []providers.Request) (string, providers.State) {
	if len(reqs) == 0 {
		return "", providers.StateActive
	}
	if word, ok := openWord(reqs); ok {
		return word, providers.StateActive
	}
	if all(reqs, providers.StateCanceled) {
		return StateCanceled, providers.StateCanceled
	}
	for _, s := range []providers.State{providers.StateCompleted, providers.StateExpired, providers.StateFailed} {
		if r, ok := first(reqs, s); ok {
			return r.VendorState, s
		}
	}
	return reqs[0].VendorState, reqs[0].State // unreachable: every State is covered above
}

// openWord is the order's word when some part is still open.
func openWord(reqs []providers.Request) (string, bool) {
	for _, word := range []string{StateSent, StatePending} {
		for _, r := range reqs {
			if r.VendorState == word {
				return word, true
			}
		}
	}
	if r, ok := first(reqs, providers.StateActive); ok {
		return r.VendorState, true
	}
	return "", false
}

func first(reqs []providers.Request, s providers.State) (providers.Request, bool) {
	for _, r := range reqs {
		if r.State == s {
			return r, true
		}
	}
	return providers.Request{}, false
}

func all(reqs []providers.Request, s providers.State) bool {
	for _, r := range reqs {
		if r.State != s {
			return false
		}
	}
	return true
}

// completedAt is the order's completed_at, or else the latest completion of
// a part. Times Truv writes in a shape we do not parse are left out: the
// completion time is informational for Truv (it has no reverify window).
func (o order) completedAt(parts []part) *time.Time {
	if t, ok := parseTime(o.CompletedAt); ok {
		return &t
	}
	var latest *time.Time
	for _, p := range parts {
		if t, ok := parseTime(p.CompletedAt); ok && (latest == nil || t.After(*latest)) {
			latest = &t
		}
	}
	return latest
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t.UTC(), true
}
