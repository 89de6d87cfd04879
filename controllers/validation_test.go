package controllers_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// These apply manifests as kubectl would (unstructured, so values the Go
// types cannot express, like unknown enum words, reach the API server) and
// check that the API server refuses them with a message naming the field.
var _ = Describe("API validation", func() {
	var ns string
	BeforeEach(func() { ns = newNamespace("validation") })

	object := func(kind string, spec map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": v1.GroupVersion.String(), "kind": kind,
			"metadata": map[string]any{"generateName": "v-", "namespace": ns},
			"spec":     spec,
		}}
		return u
	}
	order := func(spec map[string]any) *unstructured.Unstructured {
		if _, ok := spec["providerRef"]; !ok {
			spec["providerRef"] = map[string]any{"name": "p"}
		}
		return object("VerificationOrder", spec)
	}
	provider := func(spec map[string]any) *unstructured.Unstructured {
		if _, ok := spec["credentialsSecretRef"]; !ok {
			spec["credentialsSecretRef"] = map[string]any{"name": "s"}
		}
		return object("VerificationProvider", spec)
	}
	rejected := func(u *unstructured.Unstructured, fragments ...string) {
		GinkgoHelper()
		err := k8s.Create(ctx(), u)
		Expect(err).To(HaveOccurred(), "the API server accepted %v", u.Object["spec"])
		for _, f := range fragments {
			Expect(err.Error()).To(ContainSubstring(f))
		}
	}
	updateRejected := func(u *unstructured.Unstructured, change func(spec map[string]any), fragments ...string) {
		GinkgoHelper()
		Expect(k8s.Create(ctx(), u)).To(Succeed())
		var err error
		// The controller writes status meanwhile; retry the read-change-write
		// until the API server answers about the change, not about a conflict.
		Eventually(func() bool {
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(u), u)).To(Succeed())
			change(u.Object["spec"].(map[string]any))
			err = k8s.Update(ctx(), u)
			return apierrors.IsConflict(err)
		}).Should(BeFalse())
		Expect(err).To(HaveOccurred(), "the API server accepted the change to %v", u.Object["spec"])
		for _, f := range fragments {
			Expect(err.Error()).To(ContainSubstring(f))
		}
	}

	reverify := func(requestID, reportID string) map[string]any {
		return map[string]any{"verificationRequestID": requestID, "reportID": reportID}
	}
	DescribeTable("rejects a VerificationOrder",
		func(spec map[string]any, fragments ...string) { rejected(order(spec), fragments...) },
		Entry("with an unknown state", map[string]any{"orderID": "a", "state": "deleted"}, "spec.state", "Unsupported value"),
		Entry("with state cancelled (British spelling)", map[string]any{"orderID": "a", "state": "cancelled"}, "spec.state", "Unsupported value"), //nolint:misspell // the spelling under test
		Entry("with state Canceled (capitalized)", map[string]any{"orderID": "a", "state": "Canceled"}, "spec.state", "Unsupported value"),
		Entry("with a state that is not a string", map[string]any{"orderID": "a", "state": 1}, "spec.state"),
		Entry("with both orderID and reverification", map[string]any{"orderID": "a", "reverification": reverify("r", "p")}, "exactly one of spec.orderID and spec.reverification"),
		Entry("with neither orderID nor reverification", map[string]any{}, "exactly one of spec.orderID and spec.reverification"),
		Entry("with an unknown cancellation reason", map[string]any{"orderID": "a", "cancellation": map[string]any{"reason": "bored"}}, "spec.cancellation.reason"),
		Entry("with cancellation details over 1000 characters", map[string]any{"orderID": "a", "cancellation": map[string]any{"details": strings.Repeat("x", 1001)}}, "spec.cancellation.details", "1000"),
		Entry("with an unknown deletionPolicy", map[string]any{"orderID": "a", "deletionPolicy": "Delete"}, "spec.deletionPolicy"),
		Entry("with deletionPolicy in lower case", map[string]any{"orderID": "a", "deletionPolicy": "cancel"}, "spec.deletionPolicy"),
		Entry("with an unknown managementPolicy", map[string]any{"orderID": "a", "managementPolicy": "Full"}, "spec.managementPolicy"),
		Entry("without a provider name", map[string]any{"orderID": "a", "providerRef": map[string]any{"name": ""}}, "spec.providerRef.name"),
		Entry("with a provider name over 253 characters", map[string]any{"orderID": "a", "providerRef": map[string]any{"name": strings.Repeat("p", 254)}}, "spec.providerRef.name"),
		Entry("with an unknown provider kind", map[string]any{"orderID": "a", "providerRef": map[string]any{"name": "p", "kind": "Issuer"}}, "spec.providerRef.kind", "Unsupported value"),
		Entry("with an orderID that is not an id", map[string]any{"orderID": "a b/../c"}, "spec.orderID"),
		Entry("with orderID ..", map[string]any{"orderID": ".."}, "spec.orderID"),
		Entry("with orderID .", map[string]any{"orderID": "."}, "spec.orderID"),
		Entry("with orderID ../x", map[string]any{"orderID": "../x"}, "spec.orderID"),
		Entry("with orderID a/b", map[string]any{"orderID": "a/b"}, "spec.orderID"),
		Entry("with orderID %2e%2e", map[string]any{"orderID": "%2e%2e"}, "spec.orderID"),
		Entry("with orderID ?x=1", map[string]any{"orderID": "?x=1"}, "spec.orderID"),
		Entry("with an orderID holding a space", map[string]any{"orderID": "a b"}, "spec.orderID"),
		Entry("with an orderID holding a newline", map[string]any{"orderID": "a\nb"}, "spec.orderID"),
		Entry("with an orderID starting with a dot", map[string]any{"orderID": ".hidden"}, "spec.orderID"),
		Entry("with an orderID over 128 characters", map[string]any{"orderID": strings.Repeat("a", 129)}, "spec.orderID"),
		Entry("with an orderID that is a number", map[string]any{"orderID": 42}, "spec.orderID"),
		Entry("with a reverification missing its report", map[string]any{"reverification": map[string]any{"verificationRequestID": "r"}}, "spec.reverification.reportID"),
		Entry("with a reverification of request ..", map[string]any{"reverification": reverify("..", "p")}, "spec.reverification.verificationRequestID"),
		Entry("with a reverification of report ../x", map[string]any{"reverification": reverify("r", "../x")}, "spec.reverification.reportID"),
	)

	DescribeTable("rejects a VerificationProvider",
		func(spec map[string]any, fragments ...string) { rejected(provider(spec), fragments...) },
		Entry("with an unknown vendor", map[string]any{"vendor": "equifax"}, "spec.vendor", "Unsupported value"),
		Entry("with a vendorAPIVersion for a vendor without versions", map[string]any{"vendor": "truv", "vendorAPIVersion": "2023-10-30"}, "spec.vendorAPIVersion", "applies to truework only"),
		Entry("with an unknown Truework API version", map[string]any{"vendor": "truework", "vendorAPIVersion": "2024-01-01"}, "spec.vendorAPIVersion", "Unsupported value"),
		Entry("with responseSignatures for a vendor that does not sign", map[string]any{"vendor": "txcloud", "responseSignatures": map[string]any{"verification": "Enabled"}}, "spec.responseSignatures", "truework only"),
		Entry("with an unknown signature verification mode", map[string]any{"vendor": "truework", "responseSignatures": map[string]any{"verification": "Sometimes"}}, "spec.responseSignatures.verification", "Unsupported value"),
		Entry("with a public key that is not a base64 Ed25519 key", map[string]any{"vendor": "truework", "responseSignatures": map[string]any{"publicKeys": map[string]any{"tw-1": "not-a-key"}}}, "spec.responseSignatures.publicKeys", "should match"),
		Entry("reading its Secret from another namespace", map[string]any{"vendor": "truv", "credentialsSecretRef": map[string]any{"name": "s", "namespace": "elsewhere"}},
			"spec.credentialsSecretRef.namespace", "reads its Secret from its own namespace"),
		Entry("with a vendor in the wrong case", map[string]any{"vendor": "TrueWork"}, "spec.vendor", "Unsupported value"),
		Entry("without a vendor", map[string]any{}, "spec.vendor", "Required value"),
		Entry("with an unknown environment", map[string]any{"vendor": "truv", "environment": "staging"}, "spec.environment"),
		Entry("with an endpoint that is not a URL", map[string]any{"vendor": "truv", "endpoint": "not a url"}, "spec.endpoint", "absolute http or https URL"),
		Entry("with an ftp endpoint", map[string]any{"vendor": "truv", "endpoint": "ftp://vendor.example.com"}, "spec.endpoint", "absolute http or https URL"),
		Entry("with a plain http endpoint to another host", map[string]any{"vendor": "truv", "endpoint": "http://vendor.example.com/v1"}, "spec.endpoint", "must use https"),
		Entry("with a plain http endpoint on production, even on loopback", map[string]any{"vendor": "truv", "environment": "production", "endpoint": "http://127.0.0.1:8080"}, "spec.endpoint", "environment production needs an https endpoint"),
		Entry("with a plain http endpoint to a private address", map[string]any{"vendor": "truv", "endpoint": "http://10.0.0.8"}, "spec.endpoint", "must use https"),
		Entry("with a plain http endpoint whose scheme is upper case", map[string]any{"vendor": "truv", "endpoint": "HTTP://vendor.example.com/v1"}, "spec.endpoint", "must use https"),
		Entry("with an upper-case plain http endpoint on production", map[string]any{"vendor": "truv", "environment": "production", "endpoint": "HTTP://127.0.0.1:8080"}, "spec.endpoint", "environment production needs an https endpoint"),
		Entry("with user info in the endpoint", map[string]any{"vendor": "truv", "endpoint": "https://user:secret@vendor.example.com"}, "spec.endpoint", "must not carry user info"),
		Entry("with user info that hides the real host", map[string]any{"vendor": "truv", "endpoint": "http://127.0.0.1:9999@10.0.0.8/"}, "spec.endpoint", "must not carry user info"),
		Entry("with a query in the endpoint", map[string]any{"vendor": "truv", "endpoint": "https://vendor.example.com/v1?next="}, "spec.endpoint", "must not carry user info, a query or a fragment"),
		Entry("with a fragment in the endpoint", map[string]any{"vendor": "truv", "endpoint": "http://127.0.0.1:8080/#"}, "spec.endpoint", "must not carry user info, a query or a fragment"),
		Entry("with a plain http endpoint to the link-local metadata address", map[string]any{"vendor": "truv", "endpoint": "http://169.254.169.254/latest"}, "spec.endpoint", "must use https"),
		Entry("with a zero rate limit", map[string]any{"vendor": "truv", "rateLimit": map[string]any{"requestsPerSecond": 0}}, "spec.rateLimit.requestsPerSecond"),
		Entry("with a rate limit over 1000/s", map[string]any{"vendor": "truv", "rateLimit": map[string]any{"requestsPerSecond": 1001}}, "spec.rateLimit.requestsPerSecond"),
		Entry("with a zero daily quota", map[string]any{"vendor": "txcloud", "rateLimit": map[string]any{"requestsPerDay": 0}}, "spec.rateLimit.requestsPerDay"),
		Entry("with a poll interval under a second", map[string]any{"vendor": "truv", "pollInterval": "10ms"}, "spec.pollInterval", "at least 1s"),
		Entry("with a poll interval that is not a duration", map[string]any{"vendor": "truv", "pollInterval": "soon"}, "spec.pollInterval"),
		Entry("without a Secret name", map[string]any{"vendor": "truv", "credentialsSecretRef": map[string]any{"name": ""}}, "spec.credentialsSecretRef.name"),
	)

	DescribeTable("accepts a VerificationProvider endpoint",
		func(spec map[string]any) { Expect(k8s.Create(ctx(), provider(spec))).To(Succeed()) },
		Entry("https anywhere", map[string]any{"vendor": "truv", "environment": "production", "endpoint": "https://proxy.example.com/truv"}),
		Entry("http to 127.0.0.1 in the sandbox", map[string]any{"vendor": "truv", "endpoint": "http://127.0.0.1:8080"}),
		Entry("http to localhost in the sandbox", map[string]any{"vendor": "truv", "endpoint": "http://localhost:8080/v1"}),
		Entry("http to [::1] in the sandbox", map[string]any{"vendor": "truv", "endpoint": "http://[::1]:8080"}),
		Entry("an upper-case https scheme and host", map[string]any{"vendor": "truv", "environment": "production", "endpoint": "HTTPS://PROXY.example.com/truv"}),
		Entry("http to LOCALHOST in the sandbox", map[string]any{"vendor": "truv", "endpoint": "http://LOCALHOST:8080"}),
	)

	It("rejects changing the provider of an order", func() {
		updateRejected(order(map[string]any{"orderID": "a"}), func(s map[string]any) { s["providerRef"] = map[string]any{"name": "other"} }, "spec.providerRef", "immutable")
	})
	It("rejects changing the orderID once set", func() {
		updateRejected(order(map[string]any{"orderID": "a"}), func(s map[string]any) { s["orderID"] = "b" }, "spec.orderID", "immutable")
	})
	It("rejects removing the orderID once set", func() {
		updateRejected(order(map[string]any{"orderID": "a"}), func(s map[string]any) { delete(s, "orderID") }, "spec.orderID")
	})
	It("rejects changing a reverification", func() {
		updateRejected(order(map[string]any{"reverification": map[string]any{"verificationRequestID": "r", "reportID": "p"}}),
			func(s map[string]any) {
				s["reverification"] = map[string]any{"verificationRequestID": "r2", "reportID": "p"}
			}, "spec.reverification", "immutable")
	})
	for _, from := range []string{"canceled", "closed"} {
		It("rejects moving spec.state away from "+from, func() {
			updateRejected(order(map[string]any{"orderID": "a", "state": from}), func(s map[string]any) { s["state"] = "active" }, "spec.state", "cannot move away from canceled or closed")
		})
	}
	It("accepts moving spec.state from active to canceled", func() {
		u := order(map[string]any{"orderID": "a"})
		Expect(k8s.Create(ctx(), u)).To(Succeed())
		Expect(u.Object["spec"].(map[string]any)["state"]).To(Equal("active"), "state defaults to active")
		Eventually(func() error {
			Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(u), u)).To(Succeed())
			u.Object["spec"].(map[string]any)["state"] = "canceled"
			return k8s.Update(ctx(), u)
		}).Should(Succeed())
	})
	It("rejects swapping a reverification for an orderID", func() {
		updateRejected(order(map[string]any{"reverification": reverify("r", "p")}),
			func(s map[string]any) {
				delete(s, "reverification")
				s["orderID"] = "a"
			}, "spec.reverification", "cannot be removed")
	})
	It("rejects changing the vendor of a provider", func() {
		updateRejected(provider(map[string]any{"vendor": "truv"}), func(s map[string]any) { s["vendor"] = "truework" }, "spec", "vendor is immutable")
	})
	It("fills the documented defaults", func() {
		u := provider(map[string]any{"vendor": "truework"})
		Expect(k8s.Create(ctx(), u)).To(Succeed())
		p := &v1.VerificationProvider{}
		Expect(k8s.Get(ctx(), client.ObjectKeyFromObject(u), p)).To(Succeed())
		Expect(p.Spec.Environment).To(Equal(v1.EnvironmentSandbox))
		Expect(p.Spec.PollInterval).To(Equal(&metav1.Duration{Duration: 300e9}))
	})
})
