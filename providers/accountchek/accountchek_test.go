package accountchek_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	acsim "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	"github.com/ordersync/verification-operator/providers/simkit"
)

// env is a client talking to a fresh simulator over real HTTP.
type env struct {
	sim    *acsim.Server
	srv    *httptest.Server
	client *accountchek.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	sim := acsim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &env{sim: sim, srv: srv, client: newClient(t, srv.URL+"/v1", testCredentials())}
}

func testCredentials() map[string][]byte {
	return map[string][]byte{
		accountchek.KeyUsername: []byte(acsim.TestUsername),
		accountchek.KeyPassword: []byte(acsim.TestPassword),
	}
}

func newClient(t *testing.T, baseURL string, creds map[string][]byte) *accountchek.Client {
	t.Helper()
	c, err := accountchek.New(providers.Config{
		BaseURL: baseURL, Environment: "sandbox", Credentials: creds,
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

func (e *env) order(t *testing.T, status string) string {
	t.Helper()
	id, err := e.sim.CreateOrder(status)
	if err != nil {
		t.Fatalf("CreateOrder(%q): %v", status, err)
	}
	return id
}

func (e *env) state(t *testing.T, id string) string {
	t.Helper()
	s, ok := e.sim.OrderState(id)
	if !ok {
		t.Fatalf("order %s vanished", id)
	}
	return s
}

// assertNoPII fails when any value the simulator serves as PII (plus the
// borrower's names and city, which are safe to check here) shows up in v.
func assertNoPII(t *testing.T, what string, v any) {
	t.Helper()
	text := fmt.Sprintf("%+v", v)
	if err, ok := v.(error); ok && err != nil {
		text = err.Error()
	}
	for _, pii := range append([]string{"John", "Athens", "Informative Research"}, acsim.PII...) {
		if strings.Contains(text, pii) {
			t.Errorf("%s contains PII %q: %s", what, pii, text)
		}
	}
}

func wantKind(t *testing.T, err error, kind providers.ErrorKind) *providers.Error {
	t.Helper()
	if got := providers.KindOf(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
	var perr *providers.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %T is not a *providers.Error", err)
	}
	assertNoPII(t, "error", err)
	return perr
}

func TestVendor(t *testing.T) {
	v := accountchek.Vendor()
	if v.Name != "accountchek" {
		t.Errorf("Name = %q", v.Name)
	}
	if got := v.BaseURLs["production"]; got != "https://verifierapi.accountchek.com/v1" {
		t.Errorf("production URL = %q", got)
	}
	if got := v.BaseURLs["sandbox"]; got != "https://verifierapi.accountchek.net/v1" {
		t.Errorf("sandbox URL = %q", got)
	}
	if v.RateLimit.RequestsPerSecond <= 0 || v.RateLimit.Burst <= 0 {
		t.Errorf("RateLimit = %+v, want a positive default", v.RateLimit)
	}
	if got := v.Capabilities.Describe(); got != "Cancel (from building, opened), Close (from opened, inprogress)" {
		t.Errorf("Capabilities = %q", got)
	}
	if v.Capabilities.Supports(providers.ActionReverify) {
		t.Error("AccountChek cannot reverify")
	}

	c, err := v.New(providers.Config{Environment: "sandbox", Credentials: testCredentials()})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, ok := c.(providers.Closer); !ok {
		t.Error("the client does not implement providers.Closer")
	}
	c, err = v.Connect(providers.Config{Environment: "sandbox", Credentials: map[string][]byte{}})
	if c != nil || providers.KindOf(err) != providers.KindUnauthorized {
		t.Errorf("New without credentials = (%v, %v), want (nil, Unauthorized)", c, err)
	}
}

func TestObserveEveryStatus(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		status string
		want   providers.State
	}{
		{"building", providers.StateActive},
		{"opened", providers.StateActive},
		{"inprogress", providers.StateActive},
		{"closed", providers.StateClosed},
		{"canceled", providers.StateCanceled},
	}
	for _, c := range cases {
		t.Run(c.status, func(t *testing.T) {
			id := e.order(t, c.status)
			obs, err := e.client.Observe(context.Background(), id)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			want := providers.Observation{ID: id, VendorState: c.status, State: c.want}
			if fmt.Sprintf("%+v", obs) != fmt.Sprintf("%+v", want) {
				t.Errorf("Observe = %+v, want %+v", obs, want)
			}
			assertNoPII(t, "observation", obs)
		})
	}
}

// TestMutationsFromEveryStatus runs Cancel and Close from every status and
// checks the client's Capabilities say exactly what the simulator accepts.
// Asking for the status the order already has succeeds: that is the repeat
// after a lost response.
func TestMutationsFromEveryStatus(t *testing.T) {
	type outcome struct {
		state string              // vendor status afterwards
		kind  providers.ErrorKind // "" for success
	}
	cases := []struct {
		action       providers.Action
		from         string
		want         outcome
		capabilityOK bool
	}{
		{providers.ActionCancel, "building", outcome{"canceled", ""}, true},
		{providers.ActionCancel, "opened", outcome{"canceled", ""}, true},
		{providers.ActionCancel, "inprogress", outcome{"inprogress", providers.KindRejected}, false},
		{providers.ActionCancel, "closed", outcome{"closed", providers.KindRejected}, false},
		{providers.ActionCancel, "canceled", outcome{"canceled", ""}, false},
		{providers.ActionClose, "building", outcome{"building", providers.KindRejected}, false},
		{providers.ActionClose, "opened", outcome{"closed", ""}, true},
		{providers.ActionClose, "inprogress", outcome{"closed", ""}, true},
		{providers.ActionClose, "closed", outcome{"closed", ""}, false},
		{providers.ActionClose, "canceled", outcome{"canceled", providers.KindRejected}, false},
	}
	caps := accountchek.Capabilities()
	for _, c := range cases {
		t.Run(string(c.action)+"/"+c.from, func(t *testing.T) {
			if got := caps.Allows(c.action, c.from); got != c.capabilityOK {
				t.Errorf("Capabilities.Allows(%s, %s) = %v, want %v", c.action, c.from, got, c.capabilityOK)
			}
			e := newEnv(t) // a fresh budget of requests per case
			id := e.order(t, c.from)
			obs, err := mutate(e.client, c.action, id)
			if c.want.kind == "" {
				if err != nil {
					t.Fatalf("%s: %v", c.action, err)
				}
				if obs.VendorState != c.want.state || obs.State != accountchek.Normalize(c.want.state) || obs.ID != id {
					t.Errorf("%s returned %+v, want status %s", c.action, obs, c.want.state)
				}
				assertNoPII(t, "observation", obs)
			} else {
				perr := wantKind(t, err, c.want.kind)
				if perr.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(perr.Message, "status: ") {
					t.Errorf("error = %v, want a 422 naming the status property", perr)
				}
			}
			if got := e.state(t, id); got != c.want.state {
				t.Errorf("simulator status = %s, want %s", got, c.want.state)
			}
		})
	}
}

func mutate(c *accountchek.Client, action providers.Action, id string) (providers.Observation, error) {
	if action == providers.ActionClose {
		return c.Close(context.Background(), id)
	}
	return c.Cancel(context.Background(), id, providers.Cancellation{Reason: "other", Details: "test"})
}

func TestRepeatAfterLostResponse(t *testing.T) {
	cases := []struct {
		action providers.Action
		from   string
		want   string
	}{
		{providers.ActionCancel, "opened", "canceled"},
		{providers.ActionClose, "inprogress", "closed"},
	}
	for _, c := range cases {
		t.Run(string(c.action), func(t *testing.T) {
			e := newEnv(t)
			id := e.order(t, c.from)

			e.sim.SetFaults(simkit.Faults{DropAfterCommit: 1})
			_, err := mutate(e.client, c.action, id)
			wantKind(t, err, providers.KindTransient)
			if got := e.state(t, id); got != c.want {
				t.Fatalf("the lost call was not applied: status %s", got)
			}

			e.sim.SetFaults(simkit.Faults{})
			obs, err := mutate(e.client, c.action, id)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if obs.VendorState != c.want {
				t.Errorf("retry returned %+v, want %s", obs, c.want)
			}
			applied := 0
			for _, call := range e.sim.Calls(id) {
				if call.Method == http.MethodPatch && call.Status == http.StatusOK {
					applied++
				}
			}
			if applied != 1 || e.sim.CountCalls(id, http.MethodPatch) != 2 {
				t.Errorf("calls = %+v, want two PATCHes of which one applied", e.sim.Calls(id))
			}
		})
	}
}

func TestWrongCredentials(t *testing.T) {
	e := newEnv(t)
	id := e.order(t, "opened")
	cases := map[string]map[string][]byte{
		"wrong password": {accountchek.KeyUsername: []byte(acsim.TestUsername), accountchek.KeyPassword: []byte("not-the-password")},
		"unknown user":   {accountchek.KeyUsername: []byte("someone-else"), accountchek.KeyPassword: []byte(acsim.TestPassword)},
	}
	for name, creds := range cases {
		t.Run(name, func(t *testing.T) {
			c := newClient(t, e.srv.URL+"/v1", creds)
			_, err := c.Observe(context.Background(), id)
			perr := wantKind(t, err, providers.KindUnauthorized)
			if !strings.Contains(perr.Message, "username") {
				t.Errorf("message %q does not say what to check", perr.Message)
			}
			for _, secret := range []string{"not-the-password", acsim.TestPassword} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error reveals a password: %v", err)
				}
			}
			_, err = c.Cancel(context.Background(), id, providers.Cancellation{})
			wantKind(t, err, providers.KindUnauthorized)
		})
	}
	if got := e.state(t, id); got != "opened" {
		t.Errorf("refused calls changed the order to %s", got)
	}
}

func TestRotatedPassword(t *testing.T) {
	e := newEnv(t)
	id := e.order(t, "opened")
	e.sim.AddCredentials(acsim.TestUsername, "rotated-password")

	_, err := e.client.Observe(context.Background(), id)
	wantKind(t, err, providers.KindUnauthorized)

	creds := testCredentials()
	creds[accountchek.KeyPassword] = []byte("rotated-password")
	if _, err := newClient(t, e.srv.URL+"/v1", creds).Observe(context.Background(), id); err != nil {
		t.Errorf("rotated password refused: %v", err)
	}
}

func TestIntegratorHeader(t *testing.T) {
	var got http.Header
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		fmt.Fprint(w, `{"id":"x","status":"opened"}`)
	}))
	defer capture.Close()
	creds := testCredentials()
	creds[accountchek.KeyIntegratorID] = []byte(acsim.TestIntegratorID)

	if _, err := newClient(t, capture.URL, creds).Observe(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if v := got.Get(accountchek.IntegratorHeader); v != acsim.TestIntegratorID {
		t.Errorf("%s = %q", accountchek.IntegratorHeader, v)
	}

	// The simulator accepts the integrator id alongside the Basic credentials.
	e := newEnv(t)
	id := e.order(t, "opened")
	if _, err := newClient(t, e.srv.URL+"/v1", creds).Cancel(context.Background(), id, providers.Cancellation{}); err != nil {
		t.Errorf("Cancel with integrator id: %v", err)
	}

	// Without the key, no header.
	if _, err := newClient(t, capture.URL, testCredentials()).Observe(context.Background(), "x"); err != nil {
		t.Fatal(err)
	}
	if _, sent := got[http.CanonicalHeaderKey(accountchek.IntegratorHeader)]; sent {
		t.Error("integrator header sent without an integratorID")
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct{ method, path, contentType, body, user, pass string }
	var got seen
	capture := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		u, p, _ := r.BasicAuth()
		got = seen{r.Method, r.URL.EscapedPath(), r.Header.Get("Content-Type"), string(body), u, p}
		fmt.Fprint(w, `{"id":"b943cae2-a8f5-e911-b5e9-0003ff4f1b49","status":"canceled"}`)
	}))
	defer capture.Close()
	c := newClient(t, capture.URL+"/v1/", testCredentials()) // a trailing slash on the base is tolerated

	if _, err := c.Cancel(context.Background(), "b943cae2-a8f5-e911-b5e9-0003ff4f1b49", providers.Cancellation{}); err != nil {
		t.Fatal(err)
	}
	want := seen{"PATCH", "/v1/accountchekorders/b943cae2-a8f5-e911-b5e9-0003ff4f1b49", "application/json",
		`{"status":"canceled"}`, acsim.TestUsername, acsim.TestPassword}
	if got != want {
		t.Errorf("request = %+v\nwant      %+v", got, want)
	}

	// An id is one path segment, whatever it contains.
	if _, err := c.Observe(context.Background(), "a/b?c"); err != nil {
		t.Fatal(err)
	}
	if got.method != "GET" || got.path != "/v1/accountchekorders/a%2Fb%3Fc" {
		t.Errorf("request = %s %s", got.method, got.path)
	}
}

func TestEmptyOrderIDMakesNoCall(t *testing.T) {
	e := newEnv(t)
	_, err := e.client.Observe(context.Background(), " ")
	wantKind(t, err, providers.KindRejected)
	_, err = e.client.Close(context.Background(), "")
	wantKind(t, err, providers.KindRejected)
	if stats := e.sim.Stats(); len(stats) != 0 {
		t.Errorf("calls made: %+v", stats)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	const unknown = "00000000-0000-4000-8000-000000000000"
	_, err := e.client.Observe(context.Background(), unknown)
	perr := wantKind(t, err, providers.KindNotFound)
	if !strings.Contains(perr.Message, "not found") {
		t.Errorf("message %q does not carry the vendor's text", perr.Message)
	}
	_, err = e.client.Cancel(context.Background(), unknown, providers.Cancellation{})
	wantKind(t, err, providers.KindNotFound)
	_, err = e.client.Close(context.Background(), unknown)
	wantKind(t, err, providers.KindNotFound)
}

func TestRateLimited(t *testing.T) {
	e := newEnv(t)
	id := e.order(t, "opened")

	t.Run("injected with Retry-After", func(t *testing.T) {
		e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}, RetryAfterSeconds: 7})
		defer e.sim.SetFaults(simkit.Faults{})
		_, err := e.client.Observe(context.Background(), id)
		wantKind(t, err, providers.KindRateLimited)
		if got := providers.RetryAfterOf(err); got != 7*time.Second {
			t.Errorf("RetryAfter = %v, want 7s", got)
		}
	})
	t.Run("injected without Retry-After", func(t *testing.T) {
		e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}})
		defer e.sim.SetFaults(simkit.Faults{})
		_, err := e.client.Observe(context.Background(), id)
		wantKind(t, err, providers.KindRateLimited)
		if got := providers.RetryAfterOf(err); got != 0 {
			t.Errorf("RetryAfter = %v, want 0", got)
		}
	})
	t.Run("the simulator's per-user limit", func(t *testing.T) {
		var err error
		for i := 0; i < 3*acsim.Burst && err == nil; i++ {
			_, err = e.client.Observe(context.Background(), id)
		}
		wantKind(t, err, providers.KindRateLimited)
		if got := providers.RetryAfterOf(err); got != 0 {
			t.Errorf("RetryAfter = %v, want 0 (AccountChek sends none)", got)
		}
		e.sim.AddCredentials("second-user", "second-password")
		other := newClient(t, e.srv.URL+"/v1", map[string][]byte{
			accountchek.KeyUsername: []byte("second-user"), accountchek.KeyPassword: []byte("second-password"),
		})
		if _, err := other.Observe(context.Background(), id); err != nil {
			t.Errorf("another user is limited too: %v", err)
		}
	})
}

func TestServerErrorsAreTransient(t *testing.T) {
	e := newEnv(t)
	id := e.order(t, "opened")
	for _, status := range []int{500, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}})
			defer e.sim.SetFaults(simkit.Faults{})
			_, err := e.client.Cancel(context.Background(), id, providers.Cancellation{})
			perr := wantKind(t, err, providers.KindTransient)
			if perr.StatusCode != status {
				t.Errorf("StatusCode = %d", perr.StatusCode)
			}
		})
	}
	if got := e.state(t, id); got != "opened" {
		t.Errorf("a faulted call changed the order to %s", got)
	}
}

func TestUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	_, err := newClient(t, url+"/v1", testCredentials()).Observe(context.Background(), "x")
	wantKind(t, err, providers.KindTransient)
}
