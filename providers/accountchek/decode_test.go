package accountchek_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// vendorStub answers every call with one fixed response.
func vendorStub(t *testing.T, status int, contentType, body string) *accountchek.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return newClient(t, srv.URL+"/v1", testCredentials())
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const seedOrderID = "b943cae2-a8f5-e911-b5e9-0003ff4f1b49"

// TestSeedExamples decodes the vendor page's own example responses.
func TestSeedExamples(t *testing.T) {
	cases := []struct {
		file  string
		call  func(*accountchek.Client) (providers.Observation, error)
		state providers.State
	}{
		{"seed-order-canceled.json", func(c *accountchek.Client) (providers.Observation, error) {
			return c.Cancel(context.Background(), seedOrderID, providers.Cancellation{})
		}, providers.StateCanceled},
		{"seed-order-closed.json", func(c *accountchek.Client) (providers.Observation, error) {
			return c.Close(context.Background(), seedOrderID)
		}, providers.StateClosed},
		{"seed-order-closed.json", func(c *accountchek.Client) (providers.Observation, error) {
			return c.Observe(context.Background(), seedOrderID)
		}, providers.StateClosed},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			obs, err := c.call(vendorStub(t, 200, "application/json; charset=utf-8", testdata(t, c.file)))
			if err != nil {
				t.Fatal(err)
			}
			want := providers.Observation{ID: seedOrderID, VendorState: string(c.state), State: c.state}
			if obs.ID != want.ID || obs.VendorState != want.VendorState || obs.State != want.State ||
				obs.Requests != nil || obs.CompletedAt != nil {
				t.Errorf("got %+v, want %+v", obs, want)
			}
			assertNoPII(t, "observation", obs)
		})
	}
}

// TestErrorMessages checks DecodeError builds the condition text from
// general and properties, and that it is sanitized.
func TestErrorMessages(t *testing.T) {
	cases := []struct {
		name    string
		status  int
		body    string
		kind    providers.ErrorKind
		want    string
		mustNot []string
	}{
		{name: "seed structure", status: 422, body: testdata(t, "seed-error.json"),
			kind: providers.KindRejected, want: "string; string: string"},
		{name: "illegal transition", status: 422,
			body: `{"general":["The order could not be updated."],"properties":[{"property":"status","message":"An order with status 'inprogress' cannot be canceled."}]}`,
			kind: providers.KindRejected,
			want: "The order could not be updated.; status: An order with status 'inprogress' cannot be canceled."},
		{name: "only properties", status: 422, body: `{"properties":[{"property":"status","message":"required"},{"property":"","message":"bad"},{}]}`,
			kind: providers.KindRejected, want: "status: required; bad"},
		{name: "PII echoed", status: 422,
			body: `{"general":["Borrower johndoe@gmail.com born 1983-05-24 SSN 123-45-6789"],"properties":[{"property":"phoneNumber","message":"706-123-4567 is taken"}]}`,
			kind: providers.KindRejected, want: "Borrower [redacted] born [redacted] SSN [redacted]; phoneNumber: [redacted] is taken",
			mustNot: []string{"johndoe", "1983", "6789", "4567"}},
		{name: "404 in the error format", status: 404, body: `{"general":["The AccountChekOrder was not found."],"properties":[]}`,
			kind: providers.KindNotFound, want: "The AccountChekOrder was not found."},
		{name: "empty error body", status: 422, body: `{"general":[],"properties":null}`,
			kind: providers.KindRejected, want: "Unprocessable Entity"},
		{name: "JSON that is not an object", status: 422, body: `["x"]`,
			kind: providers.KindRejected, want: "Unprocessable Entity"},
		{name: "empty 401", status: 401, body: ``,
			kind: providers.KindUnauthorized, want: "check Secret keys username and password"},
		{name: "plain-text 401", status: 401, body: `Unauthorized`,
			kind: providers.KindUnauthorized, want: "check Secret keys username and password"},
		{name: "bare 429", status: 429, body: ``,
			kind: providers.KindRateLimited, want: "Too Many Requests"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := vendorStub(t, c.status, "application/json", c.body).Observe(context.Background(), seedOrderID)
			perr := wantKind(t, err, c.kind)
			if !strings.Contains(perr.Message, c.want) {
				t.Errorf("message = %q, want it to contain %q", perr.Message, c.want)
			}
			for _, s := range c.mustNot {
				if strings.Contains(perr.Message, s) {
					t.Errorf("message %q leaks %q", perr.Message, s)
				}
			}
		})
	}
}

// TestUnreadableResponses: whatever a proxy or a broken vendor sends is a
// transient error with a message that says what arrived.
func TestUnreadableResponses(t *testing.T) {
	html := "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>"
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string
	}{
		{"malformed JSON", 200, "application/json", `{"id":"x","status":`, "malformed JSON"},
		{"HTML page with 200", 200, "text/html", html, "HTML page"},
		{"HTML error page", 502, "text/html", html, "HTML page"},
		{"empty 200", 200, "application/json", ``, "empty body"},
		{"JSON without a status", 200, "application/json", `{}`, "without an order status"},
		{"oversized body", 200, "application/json",
			`{"id":"x","status":"opened","pad":"` + strings.Repeat("x", vendorhttp.MaxResponseBytes) + `"}`, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			client := vendorStub(t, c.status, c.contentType, c.body)
			_, err := client.Observe(context.Background(), seedOrderID)
			perr := wantKind(t, err, providers.KindTransient)
			if !strings.Contains(perr.Message, c.want) {
				t.Errorf("message = %q, want it to contain %q", perr.Message, c.want)
			}
			_, err = client.Cancel(context.Background(), seedOrderID, providers.Cancellation{})
			wantKind(t, err, providers.KindTransient)
		})
	}
}

// TestUnknownStatusIsActive: a status word AccountChek adds later keeps the
// order under watch and stays visible.
func TestUnknownStatusIsActive(t *testing.T) {
	cases := []struct{ body, vendorState string }{
		{`{"id":"` + seedOrderID + `","status":"archived"}`, "archived"},
		{`{"id":"` + seedOrderID + `","status":"Opened"}`, "opened"},
	}
	for _, c := range cases {
		obs, err := vendorStub(t, 200, "application/json", c.body).Observe(context.Background(), seedOrderID)
		if err != nil {
			t.Fatal(err)
		}
		if obs.State != providers.StateActive || obs.VendorState != c.vendorState {
			t.Errorf("%s: got %+v, want active with vendor state %q", c.body, obs, c.vendorState)
		}
	}
}

// TestMissingIDFallsBack: the requested id stands in when the body has none.
func TestMissingIDFallsBack(t *testing.T) {
	obs, err := vendorStub(t, 200, "application/json", `{"status":"opened"}`).Observe(context.Background(), seedOrderID)
	if err != nil || obs.ID != seedOrderID {
		t.Errorf("got (%+v, %v), want id %s", obs, err, seedOrderID)
	}
}

func TestNormalize(t *testing.T) {
	want := map[string]providers.State{
		"building": providers.StateActive, "opened": providers.StateActive, "inprogress": providers.StateActive,
		"closed": providers.StateClosed, "canceled": providers.StateCanceled, "something-new": providers.StateActive,
	}
	for word, state := range want {
		if got := accountchek.Normalize(word); got != state {
			t.Errorf("Normalize(%q) = %q, want %q", word, got, state)
		}
	}
}
