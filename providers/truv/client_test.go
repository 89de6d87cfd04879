package truv_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/truv"
	"github.com/ordersync/verification-operator/providers/truv/simulator"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

type env struct {
	sim    *simulator.Server
	srv    *httptest.Server
	client providers.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := simulator.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{sim: sim, srv: srv, client: newClient(t, srv, simulator.TestClientID, simulator.TestAccessSecret)}
}

func newClient(t *testing.T, srv *httptest.Server, id, secret string) providers.Client {
	t.Helper()
	c, err := truv.New(providers.Config{BaseURL: srv.URL, Environment: "sandbox",
		Credentials: creds(id, secret), HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (e *env) create(t *testing.T, statuses ...string) string {
	t.Helper()
	id, err := e.sim.CreateOrderWithEmployers(statuses...)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

var allStatuses = []struct {
	word  string
	state providers.State
}{
	{"pending", providers.StateActive},
	{"sent", providers.StateActive},
	{"completed", providers.StateCompleted},
	{"canceled", providers.StateCanceled},
	{"expired", providers.StateExpired},
	{"error", providers.StateFailed},
	{"no_data", providers.StateFailed},
	{"skipped", providers.StateFailed},
}

func TestObserveEveryStatus(t *testing.T) {
	e := newEnv(t)
	for _, st := range allStatuses {
		t.Run(st.word, func(t *testing.T) {
			id := e.create(t, st.word)
			obs, err := e.client.Observe(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			if obs.ID != id || obs.VendorState != st.word || obs.State != st.state {
				t.Errorf("observation = %+v, want %s %s/%s", obs, id, st.word, st.state)
			}
			if len(obs.Requests) != 1 || obs.Requests[0].VendorState != st.word || obs.Requests[0].State != st.state {
				t.Errorf("requests = %+v, want one employer %s", obs.Requests, st.word)
			}
			if (obs.CompletedAt != nil) != (st.state == providers.StateCompleted) {
				t.Errorf("CompletedAt = %v for %s", obs.CompletedAt, st.word)
			}
			assertNoPII(t, fmt.Sprintf("%+v", obs))
		})
	}
}

func TestObserveMixedEmployers(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "completed", "sent", "pending")
	obs, err := e.client.Observe(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if obs.VendorState != "sent" || obs.State != providers.StateActive || len(obs.Requests) != 3 {
		t.Errorf("observation = %+v, want sent/active with 3 employers", obs)
	}
}

func TestCancelFromEveryStatus(t *testing.T) {
	for _, st := range allStatuses {
		t.Run(st.word, func(t *testing.T) {
			e := newEnv(t) // a simulator each: together the cases outrun Truv's 300/min
			id := e.create(t, st.word)
			obs, err := e.client.Cancel(context.Background(), id, providers.Cancellation{Reason: "other"})
			switch st.word {
			case "pending", "sent", "canceled": // canceled: refused, then settled by observing
				if err != nil {
					t.Fatalf("Cancel: %v", err)
				}
				if obs.State != providers.StateCanceled || obs.VendorState != "canceled" {
					t.Errorf("observation = %+v, want canceled", obs)
				}
			default:
				if providers.KindOf(err) != providers.KindRejected {
					t.Fatalf("err = %v, want KindRejected", err)
				}
				if !strings.Contains(err.Error(), "Order cannot be canceled") || !strings.Contains(err.Error(), "status:") {
					t.Errorf("error %q should carry Truv's message and invalid-params", err)
				}
				assertNoPII(t, err.Error())
				if got, _ := e.sim.OrderState(id); got != st.word {
					t.Errorf("order moved to %s, want it left %s", got, st.word)
				}
			}
		})
	}
}

func TestCancelPartlyTerminalOrderIsRejected(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "completed", "pending")
	_, err := e.client.Cancel(context.Background(), id, providers.Cancellation{})
	if providers.KindOf(err) != providers.KindRejected {
		t.Fatalf("err = %v, want KindRejected", err)
	}
	if got, _ := e.sim.EmployerStates(id); strings.Join(got, ",") != "completed,pending" {
		t.Errorf("employers = %v, want them untouched", got)
	}
}

// A cancel whose response is lost is repeated; Truv refuses the repeat with
// a 400 and the client settles it by observing the canceled order.
func TestCancelRepeatAfterLostResponse(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "sent")

	e.sim.SetFaults(simkit.Faults{DropAfterCommit: 1})
	_, err := e.client.Cancel(context.Background(), id, providers.Cancellation{})
	if providers.KindOf(err) != providers.KindTransient {
		t.Fatalf("first cancel: err = %v, want KindTransient (lost response)", err)
	}
	e.sim.SetFaults(simkit.Faults{})

	obs, err := e.client.Cancel(context.Background(), id, providers.Cancellation{})
	if err != nil {
		t.Fatalf("repeat: %v", err)
	}
	if obs.State != providers.StateCanceled {
		t.Errorf("observation = %+v, want canceled", obs)
	}
	want := []simkit.Call{
		{Method: "POST", Path: "/v1/orders/" + id + "/cancel/", Status: 200},
		{Method: "POST", Path: "/v1/orders/" + id + "/cancel/", Status: 400},
		{Method: "GET", Path: "/v1/orders/" + id + "/", Status: 200},
	}
	if got := e.sim.Calls(id); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("calls = %v, want %v (the cancel applied once)", got, want)
	}
}

func TestCredentialsRefusedByTruv(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "pending")
	wrong := newClient(t, e.srv, simulator.TestClientID, "sandbox-not-the-secret")
	_, err := wrong.Observe(context.Background(), id)
	if providers.KindOf(err) != providers.KindUnauthorized {
		t.Fatalf("err = %v, want KindUnauthorized", err)
	}
	if !strings.Contains(err.Error(), "No such token") || strings.Contains(err.Error(), "not-the-secret") {
		t.Errorf("error %q should carry Truv's message and no secret", err)
	}
}

func TestRotatedCredentials(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "pending")
	const newID, newSecret = "9e8d7c6b5a4f30211f2e3d4c5b6a7988", "sandbox-rotated0123456789abcdef"
	e.sim.AddCredentials(newID, newSecret)
	e.sim.RevokeCredentials(simulator.TestClientID)

	if _, err := e.client.Observe(context.Background(), id); providers.KindOf(err) != providers.KindUnauthorized {
		t.Errorf("old credentials: err = %v, want KindUnauthorized", err)
	}
	if _, err := newClient(t, e.srv, newID, newSecret).Observe(context.Background(), id); err != nil {
		t.Errorf("rotated credentials: %v", err)
	}
}

func TestUnknownOrderIsNotFound(t *testing.T) {
	e := newEnv(t)
	for name, call := range map[string]func() error{
		"observe": func() error {
			_, err := e.client.Observe(context.Background(), "0123456789abcdef0123456789abcdef")
			return err
		},
		"cancel": func() error {
			_, err := e.client.Cancel(context.Background(), "0123456789abcdef0123456789abcdef", providers.Cancellation{})
			return err
		},
	} {
		if err := call(); providers.KindOf(err) != providers.KindNotFound {
			t.Errorf("%s: err = %v, want KindNotFound", name, err)
		}
	}
}

func TestRateLimited(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "pending")
	cases := []struct {
		name       string
		retryAfter int
		want       time.Duration
	}{
		{"with Retry-After", 3, 3 * time.Second},
		{"without Retry-After", 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}, RetryAfterSeconds: c.retryAfter})
			defer e.sim.SetFaults(simkit.Faults{})
			_, err := e.client.Observe(context.Background(), id)
			if providers.KindOf(err) != providers.KindRateLimited || providers.RetryAfterOf(err) != c.want {
				t.Errorf("err = %v (retry after %v), want KindRateLimited after %v", err, providers.RetryAfterOf(err), c.want)
			}
		})
	}
}

// Beyond the simulator's 20 requests/s per client id, Truv's 429 with
// Retry-After: 1 reaches the client as KindRateLimited.
func TestSimulatorRateLimitPerClientID(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "pending")
	var limited error
	for i := 0; i < 60 && limited == nil; i++ {
		if _, err := e.client.Observe(context.Background(), id); err != nil {
			limited = err
		}
	}
	if providers.KindOf(limited) != providers.KindRateLimited || providers.RetryAfterOf(limited) != time.Second {
		t.Fatalf("err = %v, want KindRateLimited with a 1s Retry-After", limited)
	}
}

func TestServerErrorIsTransient(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "pending")
	for _, status := range []int{500, 502, 503} {
		e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}})
		_, err := e.client.Observe(context.Background(), id)
		if providers.KindOf(err) != providers.KindTransient {
			t.Errorf("%d: err = %v, want KindTransient", status, err)
		}
	}
}

// Responses that are not Truv JSON, served by a stand-in for Truv.
func TestUnreadableResponses(t *testing.T) {
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		wantKind    providers.ErrorKind
		wantMessage string
	}{
		{"malformed JSON", 200, "application/json", `{"id": "abc", "employers": [`, providers.KindTransient, "malformed JSON"},
		{"HTML error page", 502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>", providers.KindTransient, "HTML"},
		{"HTML with 200", 200, "text/html", "<html>maintenance</html>", providers.KindTransient, "HTML"},
		{"no order id", 200, "application/json", `{"employers": []}`, providers.KindTransient, "without an order id"},
		{"too large", 200, "application/json", `{"id":"x","pad":"` + strings.Repeat("a", vendorhttp.MaxResponseBytes) + `"}`, providers.KindTransient, "larger than"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", c.contentType)
				w.WriteHeader(c.status)
				_, _ = w.Write([]byte(c.body))
			}))
			defer srv.Close()
			_, err := newClient(t, srv, clientID, "sandbox-4f1a9c0e7b2d").Observe(context.Background(), "abc")
			if providers.KindOf(err) != c.wantKind || !strings.Contains(err.Error(), c.wantMessage) {
				t.Errorf("err = %v, want %s mentioning %q", err, c.wantKind, c.wantMessage)
			}
		})
	}
}

func TestRequestShape(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, fmt.Sprintf("%s %s id=%s secret=%s body=%d", r.Method, r.URL.Path,
			r.Header.Get("X-Access-Client-Id"), r.Header.Get("X-Access-Secret"), r.ContentLength))
		_, _ = w.Write([]byte(`{"id":"abc","employers":[{"id":"e","status":"canceled"}]}`))
	}))
	defer srv.Close()
	c := newClient(t, srv, clientID, "sandbox-4f1a9c0e7b2d")
	if _, err := c.Observe(context.Background(), "abc"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Cancel(context.Background(), "abc", providers.Cancellation{Reason: "other", Details: "x"}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /v1/orders/abc/ id=" + clientID + " secret=sandbox-4f1a9c0e7b2d body=0",
		"POST /v1/orders/abc/cancel/ id=" + clientID + " secret=sandbox-4f1a9c0e7b2d body=0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestOrdersExpireByThemselves(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "sent")
	e.sim.Clock.Advance(8 * 24 * time.Hour) // past 72 weekday hours, whatever today is
	obs, err := e.client.Observe(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if obs.State != providers.StateExpired {
		t.Errorf("observation = %+v, want expired", obs)
	}
	if _, err := e.client.Cancel(context.Background(), id, providers.Cancellation{}); providers.KindOf(err) != providers.KindRejected {
		t.Errorf("cancel after expiry: err = %v, want KindRejected", err)
	}
}

// None of the simulator's PII reaches an Observation or an error message.
func TestNoPIIInObservationsOrErrors(t *testing.T) {
	e := newEnv(t)
	seen := make([]string, 0, 2*len(allStatuses))
	for _, st := range allStatuses {
		id := e.create(t, st.word)
		obs, err := e.client.Observe(context.Background(), id)
		seen = append(seen, fmt.Sprintf("%+v %v", obs, err))
		obs, err = e.client.Cancel(context.Background(), id, providers.Cancellation{})
		seen = append(seen, fmt.Sprintf("%+v %v", obs, err))
	}
	assertNoPII(t, strings.Join(seen, "\n"))
}

func assertNoPII(t *testing.T, s string) {
	t.Helper()
	for _, pii := range simulator.PII {
		if strings.Contains(s, pii) {
			t.Errorf("PII %q leaked into %q", pii, s)
		}
	}
}
