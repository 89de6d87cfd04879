package budget

import (
	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

// LimitsOf is the budget of provider p's account: the vendor's published
// limit, overridden field by field by p's spec.rateLimit. It lives with the
// budget, not with the controller, so that whatever reports a provider's
// budget (the kubectl plugin) shows the one the controller enforces without
// importing the controller.
func LimitsOf(p v1.Provider, vendor providers.Vendor) Limits {
	l := Limits{RequestsPerSecond: vendor.RateLimit.RequestsPerSecond, Burst: vendor.RateLimit.Burst, MaxInFlight: vendor.RateLimit.MaxInFlight}
	spec := p.ProviderSpec()
	if rl := spec.RateLimit; rl != nil {
		if rl.RequestsPerSecond > 0 {
			// spec.rateLimit.burst defaults to requestsPerSecond, not to
			// the vendor's burst (see the CRD).
			l.RequestsPerSecond, l.Burst = float64(rl.RequestsPerSecond), int(rl.RequestsPerSecond)
		}
		if rl.Burst > 0 {
			l.Burst = int(rl.Burst)
		}
		l.RequestsPerDay = int(rl.RequestsPerDay)
		if rl.MaxInFlight > 0 {
			l.MaxInFlight = int(rl.MaxInFlight)
		}
	}
	if spec.PollBudgetPercent != nil {
		l.PollShare = float64(*spec.PollBudgetPercent) / 100
	}
	return l
}
