package truework_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// serveFiles answers each "METHOD /path" (the query left out) with a
// testdata body and status, and anything else 404.
func serveFiles(t *testing.T, routes map[string]served) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answer, ok := routes[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		body := readTestdata(t, answer.file)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(answer.status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// served is a testdata file and the status it is served with.
type served struct {
	file   string
	status int
}

// The ids in testdata/.
const (
	seedOrderID      = "AAAAAAAAQnIAAYd5YDFVbNp5ls-iMKkX6EuxRcS0lWHtavg12A2Le7m1"
	seedRequestID    = "AAAAAAAAQnIAAYd5YHFVOm8PNX2ecFbEjqV__upOKUE8YE_IK2GwSQTP"
	seedCompletedID  = "AAAAAAAAQnIAAYd5YKx7Qm1Tz9Vb3Nc5Ld8Rf2Gh6Jk0Wp4Ys7Ua1Ie3"
	seedReverifiedID = "AAAAAAAAQnIAAYd5YLmN2kXqW8rT0pZ3vB6cH1sJ4uE7yD9fA5gK2oMw"
	seedReportID     = "AAAAAAAAQnIAAYd5YRp0Rt2Qx4Zb6Dc8Fe0Hg2Ji4Lk6Nm8Po0Rq2Ts4"
)

// Observations the documented examples decode to.
var (
	seedCompletedAt = time.Date(2024, 2, 20, 18, 2, 11, 523114000, time.UTC)
	seedOrder       = providers.Observation{ID: seedOrderID, VendorState: "processing", State: providers.StateActive, Requests: []providers.Request{
		{ID: seedRequestID, VendorState: "processing", State: providers.StateActive},
		{ID: seedCompletedID, VendorState: "completed", State: providers.StateCompleted},
	}}
	seedCanceledOrder = providers.Observation{ID: seedOrderID, VendorState: "canceled", State: providers.StateCanceled, Requests: []providers.Request{
		{ID: seedRequestID, VendorState: "canceled", State: providers.StateCanceled},
	}}
	seedCancelAnswer = providers.Observation{ID: seedOrderID, VendorState: "canceled", State: providers.StateCanceled, Requests: []providers.Request{
		{ID: seedRequestID, VendorState: "canceled", State: providers.StateCanceled},
		{ID: seedCompletedID, VendorState: "completed", State: providers.StateCompleted},
	}}
	seedReverified = request(seedReverifiedID, "pending-approval", providers.StateActive, nil)
)

// request is the Observation of a single verification request.
func request(id, word string, state providers.State, completedAt *time.Time) providers.Observation {
	return providers.Observation{ID: id, VendorState: word, State: state, CompletedAt: completedAt,
		Requests: []providers.Request{{ID: id, VendorState: word, State: state}}}
}

// The documented examples (testdata/README.md) decode to the Observations
// they describe, in the version they belong to, with nothing personal in
// them.
func TestDecodeDocumentedExamples(t *testing.T) {
	current, older := accounts[0], accounts[1]
	cases := []struct {
		name   string
		a      account
		routes map[string]served
		call   func(c *truework.Client) (providers.Observation, error)
		want   providers.Observation
	}{
		{
			name: "2023-10-30 order", a: current,
			routes: map[string]served{"GET /orders/" + seedOrderID: {"2023-10-30/order.json", 200}},
			call:   func(c *truework.Client) (providers.Observation, error) { return c.Observe(ctx, seedOrderID) },
			want:   seedOrder,
		},
		{
			name: "2023-10-30 canceled order", a: current,
			routes: map[string]served{"GET /orders/" + seedOrderID: {"2023-10-30/order-canceled.json", 200}},
			call:   func(c *truework.Client) (providers.Observation, error) { return c.Observe(ctx, seedOrderID) },
			want:   seedCanceledOrder,
		},
		{
			name: "2023-10-30 cancel", a: current,
			routes: map[string]served{"PUT /orders/" + seedOrderID + "/cancel": {"2023-10-30/order-cancel.json", 200}},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Cancel(ctx, seedOrderID, providers.Cancellation{Reason: "wrong-info"})
			},
			want: seedCancelAnswer,
		},
		{
			name: "2023-10-30 a request out of the order list", a: current,
			routes: map[string]served{"GET /orders": {"2023-10-30/order-list.json", 200}},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Reverified().Observe(ctx, seedReverifiedID)
			},
			want: seedReverified,
		},
		{
			name: "2023-10-30 a completed request out of its order", a: current,
			routes: map[string]served{"GET /orders": {"2023-10-30/order-list-of-order.json", 200}},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Reverified().Observe(ctx, seedCompletedID)
			},
			want: request(seedCompletedID, "completed", providers.StateCompleted, &seedCompletedAt),
		},
		{
			name: "2023-10-30 reverification", a: current,
			routes: map[string]served{
				"GET /reports/" + seedReportID: {"2023-10-30/report.json", 200},
				"POST /orders/reverification":  {"2023-10-30/reverification.json", 201},
			},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Reverify(ctx, seedCompletedID, seedReportID)
			},
			want: seedReverified,
		},
		{
			name: "older versions: a completed request", a: older,
			routes: map[string]served{"GET /verification-requests/" + seedCompletedID + "/": {"before-2023-10-30/verification-request.json", 200}},
			call:   func(c *truework.Client) (providers.Observation, error) { return c.Observe(ctx, seedCompletedID) },
			want:   request(seedCompletedID, "completed", providers.StateCompleted, &seedCompletedAt),
		},
		{
			name: "older versions: cancel", a: older,
			routes: map[string]served{"PUT /verification-requests/" + seedRequestID + "/cancel/": {"before-2023-10-30/verification-request-canceled.json", 200}},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Cancel(ctx, seedRequestID, providers.Cancellation{Reason: "wrong-info"})
			},
			want: request(seedRequestID, "canceled", providers.StateCanceled, nil),
		},
		{
			name: "older versions: reverify", a: older,
			routes: map[string]served{"PUT /verification-requests/" + seedCompletedID + "/reverify/": {"before-2023-10-30/reverify.json", 201}},
			call: func(c *truework.Client) (providers.Observation, error) {
				return c.Reverify(ctx, seedCompletedID, seedReportID)
			},
			want: seedReverified,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obs, err := tc.call(tc.a.client(t, serveFiles(t, tc.routes), nil))
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			assertClean(t, obs)
			if !sameObservation(obs, tc.want) {
				t.Errorf("observation = %+v\nwant          %+v", obs, tc.want)
			}
		})
	}
}

// The documented error bodies become the error's kind and message, in every
// version.
func TestDecodeDocumentedErrors(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		path := "/orders/" + seedOrderID
		if !a.orders() {
			path = "/verification-requests/" + seedOrderID + "/"
		}
		for _, tc := range []struct {
			file     string
			status   int
			wantKind providers.ErrorKind
			wantMsg  string
		}{
			{"errors/error.json", 404, providers.KindNotFound, "Not found."},
			{"errors/error-invalid-fields.json", 400, providers.KindRejected, `Invalid field values provided (cancellation_reason: "bored" is not a valid choice.)`},
		} {
			_, err := a.client(t, serveFiles(t, map[string]served{"GET " + path: {tc.file, tc.status}}), nil).Observe(ctx, seedOrderID)
			var perr *providers.Error
			if !errors.As(err, &perr) || perr.Kind != tc.wantKind || perr.Message != tc.wantMsg || perr.StatusCode != tc.status {
				t.Errorf("%s: error = %#v, want %s %q", tc.file, err, tc.wantKind, tc.wantMsg)
			}
		}
	})
}

// sameObservation compares observations, CompletedAt by instant.
func sameObservation(got, want providers.Observation) bool {
	sameTime := (got.CompletedAt == nil) == (want.CompletedAt == nil) &&
		(got.CompletedAt == nil || got.CompletedAt.Equal(*want.CompletedAt))
	return got.ID == want.ID && got.VendorState == want.VendorState && got.State == want.State &&
		equalRequests(got.Requests, want.Requests) && sameTime
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

// A (signed) answer about another order than the one asked for, such as a
// replayed answer of another call, is not believed.
func TestAnswerAboutAnotherOrder(t *testing.T) {
	const asked = "AAAAAAAAasked"
	forEachAccount(t, func(t *testing.T, a account) {
		route := served{"2023-10-30/order.json", 200}
		path := "GET /orders/" + asked
		if !a.orders() {
			route, path = served{"before-2023-10-30/verification-request.json", 200}, "GET /verification-requests/"+asked+"/"
		}
		_, err := a.client(t, serveFiles(t, map[string]served{path: route}), nil).Observe(ctx, asked)
		if perr := wantKind(t, err, providers.KindTransient); !strings.Contains(perr.Message, "when asked about "+asked) {
			t.Errorf("error = %v", perr)
		}
	})
}
