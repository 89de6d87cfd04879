package chaos

import (
	"fmt"
	"math"
	"net/http"
	"strings"
	"time"
)

// What the budget promises, from controllers/budget: each account is a
// token bucket at 97% of its declared rate with half its declared burst,
// "so that the vendor's own bucket always has slack: calls released on
// time can still reach the vendor bunched up (scheduling and network
// jitter), and must not meet an empty bucket". The check is that promise
// kept: a vendor enforcing exactly the provider's declared budget (rate R,
// burst B; a fresh process starts with a full bucket of its own only after
// its predecessor's Lease ran out, over ten seconds later) never has to
// refuse a call.
const clientMargin = 0.97

func clientBurst(vendorBurst int) int { return max(1, (vendorBurst+1)/2) }

// budgetFinding is what the budget check found on one account.
type budgetFinding struct {
	account string
	// refused lists the calls the paid for by the budget that a vendor
	// enforcing the declared budget would have refused.
	refused []string
	// refusedAll counts the calls it would have refused when the calls
	// the budget never paid for (unpaid) are counted too.
	refusedAll int
	// maxPerSecond is the most calls in any 1s window, and clientCeiling
	// what the client's bucket releases in one: burst' + rate'×1s.
	maxPerSecond, clientCeiling int
	// throttled counts 429s from the simulator's own limiter (not injected).
	throttled int
	// unpaid counts the calls the budget did not pay for, by reason.
	unpaid map[string]int
}

// vendorBucket is the declared budget as a vendor would enforce it.
type vendorBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

// admit says whether the bucket lets a call arriving at t through.
func (b *vendorBucket) admit(t time.Time) bool {
	if !b.last.IsZero() {
		b.tokens = math.Min(b.burst, b.tokens+t.Sub(b.last).Seconds()*b.rate)
	}
	b.last = t
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// checkBudget runs the account's calls through its declared budget, and
// counts what the budget did not pay for.
func checkBudget(a *account, calls []call) budgetFinding {
	lim := a.limits()
	f := budgetFinding{account: a.name, unpaid: map[string]int{},
		clientCeiling: clientBurst(lim.Burst) + int(math.Floor(lim.RequestsPerSecond*clientMargin))}
	paid := &vendorBucket{rate: lim.RequestsPerSecond, burst: float64(lim.Burst), tokens: float64(lim.Burst)}
	all := *paid
	start := 0
	for i, c := range calls {
		if c.unpaid != "" {
			f.unpaid[c.unpaid]++
		} else if !paid.admit(c.At) {
			f.refused = append(f.refused, fmt.Sprintf("%s %s by %s at %s: %s", c.Method, c.Path, c.process,
				c.At.Format("15:04:05.000"), describeCalls(calls[max(0, i-12):i+1])))
		}
		if !all.admit(c.At) {
			f.refusedAll++
		}
		for !calls[start].At.Add(time.Second).After(c.At) {
			start++
		}
		f.maxPerSecond = max(f.maxPerSecond, i-start+1)
		if c.Status == http.StatusTooManyRequests && !c.Injected {
			f.throttled++
		}
	}
	return f
}

// describeCalls lists calls for a failure message.
func describeCalls(calls []call) string {
	parts := make([]string, 0, len(calls))
	for _, c := range calls {
		unpaid := ""
		if c.unpaid != "" {
			unpaid = " (" + c.unpaid + ")"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s %d%s", c.At.Format("05.000"), c.Method, c.Path, c.Status, unpaid))
	}
	return strings.Join(parts, "; ")
}
