package controllers_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// answer is what a vendor sends back instead of the simulator's answer.
type answer struct {
	status int
	header map[string]string
	body   string
	// endless streams the body forever.
	endless bool
}

// answerSigner is a simulator of a vendor that signs its answers
// (Truework): an answer played in the vendor's name is signed as the vendor
// would sign it, so the provider believes it.
type answerSigner interface {
	SignAnswer(h http.Header, body []byte)
}

// front serves the answer to every request with the given method, and lets
// every other request through to the simulator.
func front(next http.Handler, method string, a answer) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method {
			next.ServeHTTP(w, r)
			return
		}
		for k, v := range a.header {
			w.Header().Set(k, v)
		}
		if signer, ok := next.(answerSigner); ok && !a.endless {
			signer.SignAnswer(w.Header(), []byte(a.body))
		}
		w.WriteHeader(a.status)
		if !a.endless {
			_, _ = w.Write([]byte(a.body))
			return
		}
		chunk := []byte(strings.Repeat(`{"status":"opened",`, 1024))
		for r.Context().Err() == nil {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
}

// withAnswer points env's provider at a front of its simulator.
func (e *vendorEnv) withAnswer(method string, a answer) {
	GinkgoHelper()
	srv := httptest.NewServer(front(e.Sim, method, a))
	DeferCleanup(srv.Close)
	e.updateProvider(func(p *v1.VerificationProvider) { p.Spec.Endpoint = srv.URL + e.APIRoot })
}

// The situations docs/reliability.md lists: each ends in a condition whose
// reason and message tell a person what to do, never in a crash or a loop
// faster than the backoff.
var _ = Describe("Bad input the controller must report clearly", func() {
	type situation struct {
		vendor string
		// setup returns the order to create, after arranging the situation.
		setup func(e *vendorEnv) *v1.VerificationOrder
		// condition and reason expected; the message must contain every hint.
		condition string
		reason    v1.Reason
		hints     []string
	}
	cancelOrder := func(e *vendorEnv) *v1.VerificationOrder {
		return e.order(e.vendorOrder(e.Cancelable), wantState(v1.DesiredCanceled))
	}
	readFails := func(a answer) func(e *vendorEnv) *v1.VerificationOrder {
		return func(e *vendorEnv) *v1.VerificationOrder {
			e.withAnswer(http.MethodGet, a)
			return cancelOrder(e)
		}
	}
	cancelFails := func(a answer) func(e *vendorEnv) *v1.VerificationOrder {
		return func(e *vendorEnv) *v1.VerificationOrder {
			e.withAnswer(e.MutatingMethod, a)
			return cancelOrder(e)
		}
	}
	status := func(code int, body string) answer {
		return answer{status: code, header: map[string]string{"Content-Type": "application/json"}, body: body}
	}
	ok := func(body string) answer { return status(200, body) }
	const stalled, reconciling = v1.ConditionStalled, v1.ConditionReconciling

	DescribeTable("reports",
		func(s situation) {
			env := startVendor(s.vendor, nil)
			o := s.setup(env)
			o = expectCondition(o, s.condition, metav1.ConditionTrue, s.reason)
			msg := meta.FindStatusCondition(o.Status.Conditions, s.condition).Message
			for _, h := range s.hints {
				Expect(msg).To(ContainSubstring(h))
			}
			Expect(meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady).Status).NotTo(Equal(metav1.ConditionTrue))
		},
		Entry("a missing provider", situation{vendor: "accountchek", setup: func(e *vendorEnv) *v1.VerificationOrder {
			return e.order("ord-1", func(o *v1.VerificationOrder) { o.Spec.ProviderRef.Name = "no-such-provider" })
		}, condition: stalled, reason: v1.ReasonProviderNotReady, hints: []string{`"no-such-provider" was not found`, "spec.providerRef"}}),
		Entry("a provider in another namespace", situation{vendor: "accountchek", setup: func(e *vendorEnv) *v1.VerificationOrder {
			other := startVendor("accountchek", nil) // its provider lives in its own namespace
			return e.order("ord-1", func(o *v1.VerificationOrder) { o.Spec.ProviderRef.Name = other.Provider.Name + "-elsewhere" })
		}, condition: stalled, reason: v1.ReasonProviderNotReady, hints: []string{"was not found in namespace"}}),
		Entry("a missing Secret", situation{vendor: "truv", setup: func(e *vendorEnv) *v1.VerificationOrder {
			Expect(k8s.Delete(ctx(), e.Secret)).To(Succeed())
			return cancelOrder(e)
		}, condition: stalled, reason: v1.ReasonProviderNotReady, hints: []string{"was not found", "create it"}}),
		Entry("a Secret missing a key", situation{vendor: "accountchek", setup: func(e *vendorEnv) *v1.VerificationOrder {
			e.setCredentials(map[string]string{"username": "u"})
			return cancelOrder(e)
		}, condition: stalled, reason: v1.ReasonCredentialsRejected, hints: []string{`"password"`, "Fix the provider's Secret"}}),
		Entry("a Secret with a malformed key", situation{vendor: "truework", setup: func(e *vendorEnv) *v1.VerificationOrder {
			e.setCredentials(map[string]string{"apiKey": "not-a-key"})
			return cancelOrder(e)
		}, condition: stalled, reason: v1.ReasonCredentialsRejected, hints: []string{`"apiKey"`}}),
		Entry("a state the vendor does not have", situation{vendor: "truework", setup: func(e *vendorEnv) *v1.VerificationOrder {
			return e.order(e.vendorOrder(e.Cancelable), wantState(v1.DesiredClosed))
		}, condition: stalled, reason: v1.ReasonUnsupportedState, hints: []string{"does not support state: closed", "It supports: Cancel"}}),
		Entry("a reverification at a vendor without one", situation{vendor: "accountchek", setup: func(e *vendorEnv) *v1.VerificationOrder {
			return e.order("", reverification("r-1", "p-1"))
		}, condition: stalled, reason: v1.ReasonUnsupportedState, hints: []string{"does not support reverification"}}),
		Entry("HTTP 400 on a read", situation{vendor: "accountchek", setup: readFails(status(400, `{"general":["bad id"],"properties":[]}`)),
			condition: stalled, reason: v1.ReasonVendorRejectedRequest, hints: []string{"refused to read", "spec.orderID"}}),
		Entry("HTTP 401", situation{vendor: "accountchek", setup: readFails(status(401, `{}`)),
			condition: stalled, reason: v1.ReasonCredentialsRejected, hints: []string{"Fix the provider's Secret"}}),
		Entry("HTTP 403", situation{vendor: "truv", setup: readFails(status(403, `{"detail":"forbidden"}`)),
			condition: stalled, reason: v1.ReasonCredentialsRejected, hints: []string{"credentials were refused"}}),
		Entry("HTTP 404", situation{vendor: "txcloud", setup: readFails(status(404, `{}`)),
			condition: stalled, reason: v1.ReasonOrderNotFound, hints: []string{"Check spec.orderID"}}),
		Entry("HTTP 406 on a read", situation{vendor: "accountchek", setup: readFails(status(406, `{}`)),
			condition: stalled, reason: v1.ReasonVendorRejectedRequest, hints: []string{"Not Acceptable"}}),
		Entry("HTTP 409 on a cancel", situation{vendor: "accountchek", setup: cancelFails(status(409, `{"general":["conflict"],"properties":[]}`)),
			condition: stalled, reason: v1.ReasonIllegalTransition, hints: []string{"refused Cancel"}}),
		Entry("HTTP 422 on a cancel", situation{vendor: "accountchek", setup: cancelFails(status(422, `{"general":["order is in progress"],"properties":[]}`)),
			condition: stalled, reason: v1.ReasonIllegalTransition, hints: []string{"refused Cancel", "in progress"}}),
		Entry("HTTP 451", situation{vendor: "truework", setup: readFails(status(451, `{"error":{"message":"frozen"}}`)),
			condition: stalled, reason: v1.ReasonLegalHold, hints: []string{"HTTP 451", "Contact the vendor"}}),
		Entry("HTTP 500", situation{vendor: "accountchek", setup: readFails(status(500, `{}`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable, hints: []string{"retrying with backoff"}}),
		Entry("HTTP 502 with an HTML page", situation{vendor: "truv", setup: readFails(answer{status: 502, header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>Bad gateway</body></html>"}),
			condition: reconciling, reason: v1.ReasonVendorUnavailable, hints: []string{"HTML page"}}),
		Entry("HTTP 503", situation{vendor: "txcloud", setup: readFails(status(503, `{}`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable, hints: []string{"retrying with backoff"}}),
		Entry("HTTP 429 asking to wait a year", situation{vendor: "accountchek", setup: readFails(answer{status: 429, header: map[string]string{"Retry-After": "31536000"}}),
			condition: reconciling, reason: v1.ReasonRateLimited, hints: []string{"waits 15m0s at most"}}),
		Entry("a redirect to another host", situation{vendor: "truv", setup: func(e *vendorEnv) *v1.VerificationOrder {
			// The other host is another loopback server that must see nothing:
			// following would hand it Truv's X-Access-Secret.
			elsewhere := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
				defer GinkgoRecover()
				Fail("a redirect was followed to another host, with headers " + fmt.Sprint(len(r.Header)))
			}))
			DeferCleanup(elsewhere.Close)
			e.withAnswer(http.MethodGet, answer{status: 307, header: map[string]string{"Location": elsewhere.URL + "/v1/orders/x"}})
			return cancelOrder(e)
		}, condition: stalled, reason: v1.ReasonVendorRedirected, hints: []string{"never follows redirects", "spec.endpoint"}}),
		Entry("a redirect of a cancel", situation{vendor: "accountchek", setup: cancelFails(answer{status: 302, header: map[string]string{"Location": "/v1/accountchekorders"}}),
			condition: stalled, reason: v1.ReasonVendorRedirected, hints: []string{"HTTP 302"}}),
		Entry("malformed JSON", situation{vendor: "accountchek", setup: readFails(ok(`{"status": opened}`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("truncated JSON", situation{vendor: "truework", setup: readFails(ok(`{"id":"a","verification_requests":[{"id":`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("an empty 200", situation{vendor: "truv", setup: readFails(ok(``)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("a 200 without the fields we need", situation{vendor: "txcloud", setup: readFails(ok(`{}`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("a JSON array instead of an object", situation{vendor: "accountchek", setup: readFails(ok(`[1,2,3]`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("a 10 MB body", situation{vendor: "accountchek", setup: readFails(ok(`{"status":"opened","x":"` + strings.Repeat("x", 10<<20) + `"}`)),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("a response that never ends", situation{vendor: "accountchek", setup: readFails(answer{status: 200, endless: true}),
			condition: reconciling, reason: v1.ReasonVendorUnavailable}),
		Entry("a state word we do not know", situation{vendor: "txcloud", setup: func(e *vendorEnv) *v1.VerificationOrder {
			id := e.vendorOrder(e.Cancelable)
			e.withAnswer(http.MethodGet, ok(fmt.Sprintf(`{"id":%q,"object":"identity.verification","status":"frobnicated"}`, id)))
			return e.order(id, wantState(v1.DesiredCanceled))
		}, condition: stalled, reason: v1.ReasonIllegalTransition, hints: []string{"frobnicated"}}),
		Entry("a 32 KiB state word", situation{vendor: "txcloud", setup: func(e *vendorEnv) *v1.VerificationOrder {
			id := e.vendorOrder(e.Cancelable)
			e.withAnswer(http.MethodGet, ok(fmt.Sprintf(`{"id":%q,"object":"identity.verification","status":%q}`, id, strings.Repeat("s", 32<<10))))
			return e.order(id, wantState(v1.DesiredCanceled))
		}, condition: reconciling, reason: v1.ReasonVendorUnavailable}),
	)
})

// setCredentials replaces the data of e's Secret.
func (e *vendorEnv) setCredentials(data map[string]string) {
	GinkgoHelper()
	Eventually(func() error {
		s := &corev1.Secret{}
		if err := k8s.Get(ctx(), client.ObjectKeyFromObject(e.Secret), s); err != nil {
			return err
		}
		s.Data, s.StringData = nil, data
		return k8s.Update(ctx(), s)
	}).Should(Succeed())
}
