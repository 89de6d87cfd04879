package budget

import (
	"cmp"
	"testing"

	"k8s.io/utils/ptr"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers"
)

func TestLimitsOf(t *testing.T) {
	// A vendor publishing 10/s with a burst of 20, so that its burst and
	// a spec's default burst (= requestsPerSecond) differ.
	vendor := providers.Vendor{Name: "truework", RateLimit: providers.RateLimit{RequestsPerSecond: 10, Burst: 20}}
	for _, tc := range []struct {
		name      string
		rateLimit *v1.RateLimit
		pollPct   *int32
		want      Limits
	}{
		{"no spec: the vendor's published limit", nil, nil,
			Limits{RequestsPerSecond: 10, Burst: 20}},
		{"an empty rateLimit changes nothing", &v1.RateLimit{}, nil,
			Limits{RequestsPerSecond: 10, Burst: 20}},
		{"requestsPerSecond alone also sets the burst", &v1.RateLimit{RequestsPerSecond: 3}, nil,
			Limits{RequestsPerSecond: 3, Burst: 3}},
		{"burst alone keeps the vendor's rate", &v1.RateLimit{Burst: 7}, nil,
			Limits{RequestsPerSecond: 10, Burst: 7}},
		{"requestsPerSecond and burst", &v1.RateLimit{RequestsPerSecond: 3, Burst: 7}, nil,
			Limits{RequestsPerSecond: 3, Burst: 7}},
		{"requestsPerDay alone keeps the vendor's rate", &v1.RateLimit{RequestsPerDay: 1000}, nil,
			Limits{RequestsPerSecond: 10, Burst: 20, RequestsPerDay: 1000}},
		{"every field", &v1.RateLimit{RequestsPerSecond: 1, Burst: 5, RequestsPerDay: 1000}, ptr.To[int32](25),
			Limits{RequestsPerSecond: 1, Burst: 5, RequestsPerDay: 1000, PollShare: 0.25}},
		{"pollBudgetPercent is the poll share", nil, ptr.To[int32](100),
			Limits{RequestsPerSecond: 10, Burst: 20, PollShare: 1}},
		{"maxInFlight caps calls in flight", &v1.RateLimit{MaxInFlight: 4}, nil,
			Limits{RequestsPerSecond: 10, Burst: 20, MaxInFlight: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := v1.VerificationProviderSpec{Vendor: v1.Vendor(vendor.Name), RateLimit: tc.rateLimit, PollBudgetPercent: tc.pollPct}
			for _, p := range []v1.Provider{
				&v1.VerificationProvider{Spec: spec},
				&v1.ClusterVerificationProvider{Spec: v1.ClusterVerificationProviderSpec{VerificationProviderSpec: spec}},
			} {
				if got := LimitsOf(p, vendor); got != tc.want {
					t.Errorf("%T: %+v, want %+v", p, got, tc.want)
				}
				concurrent := vendor
				concurrent.RateLimit.MaxInFlight = 10
				want := tc.want
				want.MaxInFlight = cmp.Or(want.MaxInFlight, 10)
				if got := LimitsOf(p, concurrent); got != want {
					t.Errorf("%T, a vendor publishing 10 calls in flight: %+v, want %+v", p, got, want)
				}
			}
		})
	}
}
