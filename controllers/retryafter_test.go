package controllers_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// A vendor answering 429 with a Retry-After too large for a time.Duration
// (10,000,000,000 s) once overflowed into no wait at all: 45 calls in 45 s.
// The wait is clamped to 15 minutes, for the whole account: however often
// its orders are reconciled meanwhile, no second call goes out.
var _ = Describe("A Retry-After of 10,000,000,000 seconds", func() {
	It("pauses the account: one call, however often its orders are reconciled", func() {
		env := startVendor("accountchek", nil)
		var calls atomic.Int32
		vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			w.Header().Set("Retry-After", "10000000000")
			w.WriteHeader(http.StatusTooManyRequests)
		}))
		DeferCleanup(vendor.Close)
		env.updateProvider(func(p *v1.VerificationProvider) { p.Spec.Endpoint = vendor.URL + env.APIRoot })

		first := expectCondition(env.order("ord-1", wantState(v1.DesiredCanceled)), v1.ConditionReconciling, metav1.ConditionTrue, v1.ReasonRateLimited)
		Expect(meta.FindStatusCondition(first.Status.Conditions, v1.ConditionReconciling).Message).To(ContainSubstring("waits 15m0s at most"))
		Expect(calls.Load()).To(BeEquivalentTo(1))

		second := env.order("ord-2", wantState(v1.DesiredCanceled))
		for range 5 {
			reconcileAgain(first)
			reconcileAgain(second)
		}
		Expect(calls.Load()).To(BeEquivalentTo(1), "a call went out within the vendor's (clamped) Retry-After")
	})
})
