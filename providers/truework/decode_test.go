package truework_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// serveFile answers every call with a testdata body.
func serveFile(t *testing.T, name string, status int) string {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const (
	seedOrderID     = "AAAAAAAAQnIAAYd5YDFVbNp5ls-iMKkX6EuxRcS0lWHtavg12A2Le7m1"
	seedRequestID   = "AAAAAAAAQnIAAYd5YHFVOm8PNX2ecFbEjqV__upOKUE8YE_IK2GwSQTP"
	seedCompletedID = "AAAAAAAAQnIAAYd5YKx7Qm1Tz9Vb3Nc5Ld8Rf2Gh6Jk0Wp4Ys7Ua1Ie3"
	seedReverifyID  = "AAAAAAAAQnIAAYd5YLmN2kXqW8rT0pZ3vB6cH1sJ4uE7yD9fA5gK2oMw"
)

func TestDecodeSeedShapedBodies(t *testing.T) {
	twoRequests := providers.Observation{
		ID: seedOrderID, VendorState: "processing", State: providers.StateActive,
		Requests: []providers.Request{
			{ID: seedRequestID, VendorState: "processing", State: providers.StateActive},
			{ID: seedCompletedID, VendorState: "completed", State: providers.StateCompleted},
		},
	}
	cases := []struct {
		file   string
		status int
		call   func(c clientUnderTest) (providers.Observation, error)
		want   providers.Observation
	}{
		{
			file: "cancel-order-response.json", status: 200,
			call: func(c clientUnderTest) (providers.Observation, error) {
				return c.Cancel(ctx, seedOrderID, providers.Cancellation{Reason: "wrong-info"})
			},
			want: providers.Observation{
				ID: seedOrderID, VendorState: "canceled", State: providers.StateCanceled,
				Requests: []providers.Request{{ID: seedRequestID, VendorState: "canceled", State: providers.StateCanceled}},
			},
		},
		{
			file: "reverify-response.json", status: 201,
			call: func(c clientUnderTest) (providers.Observation, error) {
				return c.Reverify(ctx, seedRequestID, "AAAAAAAAreport")
			},
			want: providers.Observation{
				ID: seedReverifyID, VendorState: "pending-approval", State: providers.StateActive,
				Requests: []providers.Request{{ID: seedReverifyID, VendorState: "pending-approval", State: providers.StateActive}},
			},
		},
		{file: "order-two-requests.json", status: 200, want: twoRequests},
		{file: "order-legacy-strings.json", status: 200, want: twoRequests},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			c := newClient(t, serveFile(t, tc.file, tc.status), twsim.TestAPIKey)
			call := tc.call
			if call == nil {
				call = func(c clientUnderTest) (providers.Observation, error) { return c.Observe(ctx, seedOrderID) }
			}
			obs, err := call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			assertClean(t, obs)
			if obs.ID != tc.want.ID || obs.VendorState != tc.want.VendorState || obs.State != tc.want.State ||
				!equalRequests(obs.Requests, tc.want.Requests) || obs.CompletedAt != nil {
				t.Errorf("observation = %+v\nwant          %+v", obs, tc.want)
			}
		})
	}
}

// A single completed request carries its date_of_completion, which the
// controller checks against the 90-day reverify window.
func TestDecodeCompletionDate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"id":"r1","state":"completed","date_of_completion":"2024-02-20T18:02:11.523114Z",
			"target":{"social_security_number":"437-28-9163"}}`))
	}))
	defer srv.Close()
	obs, err := newClient(t, srv.URL, twsim.TestAPIKey).Reverified().Observe(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2024, 2, 20, 18, 2, 11, 523114000, time.UTC)
	if obs.CompletedAt == nil || !obs.CompletedAt.Equal(want) {
		t.Errorf("CompletedAt = %v, want %v", obs.CompletedAt, want)
	}
	assertClean(t, obs)
}

// clientUnderTest is what the decode cases call.
type clientUnderTest interface {
	providers.Client
	providers.Reverifier
}

// State words in every form Truework uses, and words it may add later.
func TestDecodeStateForms(t *testing.T) {
	cases := []struct {
		name, state string
		wantWord    string
		wantState   providers.State
	}{
		{"plain string", `"processing"`, "processing", providers.StateActive},
		{"object", `{"canonical_value":"invalid","raw_value":"invalid"}`, "invalid", providers.StateFailed},
		{"raw value only", `{"canonical_value":"","raw_value":"completed"}`, "completed", providers.StateCompleted},
		// An unknown word keeps the order watched rather than dropped.
		{"unknown word", `"on-hold"`, "on-hold", providers.StateActive},
		{"missing", `null`, "", providers.StateActive},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"id":"o1","verification_requests":[{"id":"r1","state":` + tc.state + `}]}`
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(body)) }))
			defer srv.Close()
			obs, err := newClient(t, srv.URL, twsim.TestAPIKey).Observe(ctx, "o1")
			if err != nil {
				t.Fatal(err)
			}
			if obs.VendorState != tc.wantWord || obs.State != tc.wantState {
				t.Errorf("observation = %+v, want %q/%s", obs, tc.wantWord, tc.wantState)
			}
		})
	}
}

// Truework's error bodies become the error's message, field complaints
// included, with echoed personal data redacted.
func TestDecodeErrorBodies(t *testing.T) {
	cases := []struct {
		name, body string
		status     int
		want       string
	}{
		{"message", `{"error":{"message":"Order is locked."}}`, 400, "Order is locked."},
		{"fields", `{"error":{"message":"Invalid field values provided","invalid_fields":{"b":["too long"],"a":"required"}}}`, 400,
			"Invalid field values provided (a: required; b: too long)"},
		{"fields only", `{"error":{"invalid_fields":{"report_id":[]}}}`, 400, "report_id: invalid"},
		{"echoed SSN", `{"error":{"message":"SSN 437-28-9163 is frozen"}}`, 451, "SSN [redacted] is frozen"},
		{"not Truework's format", `{"detail":"nope"}`, 403, "Forbidden"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tc.status)
				_, _ = w.Write([]byte(tc.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, twsim.TestAPIKey).Observe(ctx, "o1")
			var perr *providers.Error
			if !errors.As(err, &perr) || perr.Message != tc.want || perr.StatusCode != tc.status {
				t.Errorf("error = %#v, want message %q", err, tc.want)
			}
			assertClean(t, err)
		})
	}
}
