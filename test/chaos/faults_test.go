package chaos

import (
	"net/http"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// retryAfter is the Retry-After every injected 429 and 503 carries: two
// seconds, so that a client that ignores it but backs off a second is
// caught.
const retryAfter = 2

// chaosFaults are about 20% of every account's vendor calls failing: an
// error status (429 and 503 with Retry-After, 500, 502) on 12%, a
// connection cut before the vendor applied the call on 3%, and one cut
// after it did (a lost response) on 5%. With slow, 0.5% more are applied
// and answered only after the client's 30s timeout: lost too, but late.
func chaosFaults(slow bool) simkit.Faults {
	f := simkit.Faults{
		Rate:              0.12,
		Statuses:          []int{http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable},
		RetryAfterSeconds: retryAfter,
		ResetRate:         0.03,
		DropAfterCommit:   0.05,
	}
	if slow {
		f.SlowRate, f.SlowMs = 0.005, 35_000
	}
	return f
}

// settledFaults are the faults after which the operator learns at once
// whether a call landed: a 429 (refused, nothing created) and a lost
// response (applied: the vendor has the result). The short run's
// reverifications meet only these; a 5xx or a cut before the vendor
// applied the call leaves a reverification in doubt, and the operator then
// waits 2.5 minutes before it concludes the call never landed, longer
// than the short run may take. The full run gives reverifications every
// fault.
func settledFaults() simkit.Faults {
	return simkit.Faults{
		Rate:              0.12,
		Statuses:          []int{http.StatusTooManyRequests},
		RetryAfterSeconds: retryAfter,
		DropAfterCommit:   0.08,
	}
}
