package simulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	acsim "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	"github.com/ordersync/verification-operator/providers/simkit"
)

type harness struct {
	sim *acsim.Server
	srv *httptest.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	sim := acsim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return &harness{sim: sim, srv: srv}
}

type response struct {
	status int
	header http.Header
	body   string
}

// call makes one request as the test user; edit can change it first.
func (h *harness) call(t *testing.T, method, path, body string, edit func(*http.Request)) response {
	t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(acsim.TestUsername, acsim.TestPassword)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if edit != nil {
		edit(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, string(b)}
}

func (h *harness) create(t *testing.T, status string) string {
	t.Helper()
	id, err := h.sim.CreateOrder(status)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func orderPath(id string) string { return "/v1/accountchekorders/" + id }

type errorBody struct {
	General    []string `json:"general"`
	Properties []struct {
		Property string `json:"property"`
		Message  string `json:"message"`
	} `json:"properties"`
}

func decodeErrorBody(t *testing.T, r response) errorBody {
	t.Helper()
	var e errorBody
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || len(e.General) == 0 || e.Properties == nil {
		t.Fatalf("body %q is not AccountChek's error format", r.body)
	}
	return e
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "opened")
	cases := []struct {
		name string
		edit func(*http.Request)
		want int
	}{
		{"valid", nil, 200},
		{"no credentials", func(r *http.Request) { r.Header.Del("Authorization") }, 401},
		{"wrong password", func(r *http.Request) { r.SetBasicAuth(acsim.TestUsername, "wrong") }, 401},
		{"unknown user", func(r *http.Request) { r.SetBasicAuth("nobody", acsim.TestPassword) }, 401},
		{"bearer instead of basic", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+acsim.TestPassword) }, 401},
		{"integrator GUID", func(r *http.Request) { r.Header.Set(acsim.IntegratorHeader, acsim.TestIntegratorID) }, 200},
		{"integrator not a GUID", func(r *http.Request) { r.Header.Set(acsim.IntegratorHeader, "not-a-guid") }, 422},
		{"empty integrator header", func(r *http.Request) { r.Header.Set(acsim.IntegratorHeader, "") }, 422},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.call(t, "GET", orderPath(id), "", c.edit)
			if r.status != c.want {
				t.Fatalf("status = %d, want %d (%s)", r.status, c.want, r.body)
			}
			switch c.want {
			case 401:
				if r.body != "" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic ") {
					t.Errorf("401 body %q, WWW-Authenticate %q", r.body, r.header.Get("WWW-Authenticate"))
				}
			case 422:
				e := decodeErrorBody(t, r)
				if len(e.Properties) != 1 || e.Properties[0].Property != acsim.IntegratorHeader {
					t.Errorf("properties = %+v", e.Properties)
				}
			}
		})
	}

	h.sim.AddCredentials("rotating", "old")
	h.sim.AddCredentials("rotating", "new")
	as := func(user, pass string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	if r := h.call(t, "GET", orderPath(id), "", as("rotating", "old")); r.status != 401 {
		t.Errorf("old password after rotation: %d", r.status)
	}
	if r := h.call(t, "GET", orderPath(id), "", as("rotating", "new")); r.status != 200 {
		t.Errorf("new password after rotation: %d", r.status)
	}
	h.sim.RemoveCredentials("rotating")
	if r := h.call(t, "GET", orderPath(id), "", as("rotating", "new")); r.status != 401 {
		t.Errorf("removed user: %d", r.status)
	}
}

// TestStateMachine PATCHes every status onto an order in every status.
func TestStateMachine(t *testing.T) {
	legal := map[string][]string{ // target -> statuses it is legal from
		"canceled": {"building", "opened"},
		"closed":   {"opened", "inprogress"},
	}
	for _, from := range acsim.Statuses {
		for _, to := range append(slices.Clone(acsim.Statuses), "bogus", "CANCELED") {
			t.Run(from+"->"+to, func(t *testing.T) {
				h := newHarness(t)
				id := h.create(t, from)
				r := h.call(t, "PATCH", orderPath(id), `{"status":"`+to+`"}`, nil)
				ok := slices.Contains(legal[to], from)
				want, after := 422, from
				if ok {
					want, after = 200, to
				}
				if r.status != want {
					t.Fatalf("status = %d, want %d (%s)", r.status, want, r.body)
				}
				if got, _ := h.sim.OrderState(id); got != after {
					t.Errorf("order is %s, want %s", got, after)
				}
				if ok {
					var o struct{ ID, Status string }
					_ = json.Unmarshal([]byte(r.body), &o)
					if o.ID != id || o.Status != to {
						t.Errorf("200 body = %s", r.body)
					}
					return
				}
				e := decodeErrorBody(t, r)
				if len(e.Properties) != 1 || e.Properties[0].Property != "status" || e.Properties[0].Message == "" {
					t.Errorf("properties = %+v, want one for status", e.Properties)
				}
			})
		}
	}
}

func TestBadBodies(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "opened")
	for _, body := range []string{``, `{`, `"canceled"`, `{}`, `{"status":null}`, `{"status":1}`} {
		r := h.call(t, "PATCH", orderPath(id), body, nil)
		if r.status != 422 {
			t.Errorf("body %q: status %d, want 422", body, r.status)
			continue
		}
		decodeErrorBody(t, r)
	}
	if got, _ := h.sim.OrderState(id); got != "opened" {
		t.Errorf("a bad body moved the order to %s", got)
	}
}

func TestRoutes(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "opened")
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", orderPath(id), 200},
		{"GET", orderPath(strings.ToUpper(id)), 200}, // GUIDs compare regardless of case
		{"GET", orderPath("00000000-0000-4000-8000-000000000000"), 404},
		{"GET", orderPath("not-a-guid"), 404},
		{"PATCH", orderPath("00000000-0000-4000-8000-000000000000"), 404},
		{"GET", orderPath(id) + "/", 404},
		{"GET", "/accountchekorders/" + id, 404}, // endpoint override without /v1
		{"POST", orderPath(id), 405},
		{"DELETE", orderPath(id), 405},
	}
	for _, c := range cases {
		r := h.call(t, c.method, c.path, `{"status":"canceled"}`, nil)
		if r.status != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, r.status, c.want)
			continue
		}
		if c.want != 200 {
			decodeErrorBody(t, r)
		}
	}
	if got, _ := h.sim.OrderState(id); got != "opened" {
		t.Errorf("order moved to %s", got)
	}
	if r := h.call(t, "GET", "/accountchekorders/"+id, "", nil); !strings.Contains(r.body, "/v1") {
		t.Errorf("a path without /v1 should hint at it: %s", r.body)
	}
}

// TestResponseShape: the simulator serves exactly the fields of the seed's
// example, PII included.
func TestResponseShape(t *testing.T) {
	seed, err := os.ReadFile("../testdata/seed-order-canceled.json")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t)
	id := h.create(t, "canceled")
	r := h.call(t, "GET", orderPath(id), "", nil)

	want, got := keysOf(t, string(seed)), keysOf(t, r.body)
	if !slices.Equal(got, want) {
		t.Errorf("fields = %v\nseed has %v", got, want)
	}
	for _, pii := range acsim.PII {
		if !strings.Contains(r.body, pii) {
			t.Errorf("PII %q is listed but not served", pii)
		}
	}
	if !strings.Contains(r.body, `"loginUrl":"https://s-borrower.accountchek.net/Account/Login?vodkey=`+strings.ReplaceAll(id, "-", "")+`"`) {
		t.Errorf("loginUrl does not carry the order's vodkey: %s", r.body)
	}
}

// keysOf lists the JSON object's keys, nested ones as parent.child, sorted.
func keysOf(t *testing.T, body string) []string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k, v := range m {
		keys = append(keys, k)
		if inner, ok := v.(map[string]any); ok {
			for ik := range inner {
				keys = append(keys, k+"."+ik)
			}
		}
	}
	slices.Sort(keys)
	return keys
}

// TestDaysRemaining: at 0 the system cancels orders the borrower never
// started and closes the ones in progress.
func TestDaysRemaining(t *testing.T) {
	h := newHarness(t)
	ids := map[string]string{}
	for _, s := range acsim.Statuses {
		ids[s] = h.create(t, s)
	}
	daysRemaining := func(id string) float64 {
		var o struct {
			DaysRemaining float64 `json:"daysRemaining"`
		}
		_ = json.Unmarshal([]byte(h.call(t, "GET", orderPath(id), "", nil).body), &o)
		return o.DaysRemaining
	}
	if d := daysRemaining(ids["opened"]); d < 59.9 || d > 60 {
		t.Errorf("a new order has %v days remaining, want 60", d)
	}
	h.sim.Clock.Advance(acsim.OrderLifetime)
	want := map[string]string{"building": "canceled", "opened": "canceled", "inprogress": "closed", "closed": "closed", "canceled": "canceled"}
	for from, to := range want {
		if got, _ := h.sim.OrderState(ids[from]); got != to {
			t.Errorf("%s after daysRemaining reached 0: %s, want %s", from, got, to)
		}
	}
	if d := daysRemaining(ids["opened"]); d != 0 {
		t.Errorf("daysRemaining = %v, want 0", d)
	}
}

func TestRateLimit(t *testing.T) {
	h := newHarness(t)
	id := h.create(t, "opened")
	var limited *response
	for i := 0; i < 3*acsim.Burst && limited == nil; i++ {
		if r := h.call(t, "GET", orderPath(id), "", nil); r.status == 429 {
			limited = &r
		}
	}
	if limited == nil {
		t.Fatalf("no 429 after %d calls", 3*acsim.Burst)
	}
	if limited.body != "" || limited.header.Get("Retry-After") != "" {
		t.Errorf("429 should be bare: body %q, headers %v", limited.body, limited.header)
	}
	h.sim.AddCredentials("other", "other-password")
	if r := h.call(t, "GET", orderPath(id), "", func(r *http.Request) { r.SetBasicAuth("other", "other-password") }); r.status != 200 {
		t.Errorf("another user got %d", r.status)
	}
}

func TestAdminAPI(t *testing.T) {
	h := newHarness(t)
	admin := func(method, path, body string) response {
		return h.call(t, method, path, body, func(r *http.Request) { r.Header.Del("Authorization") })
	}

	r := admin("POST", "/_sandbox/orders", `{"state":"opened"}`)
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var created struct{ ID string }
	_ = json.Unmarshal([]byte(r.body), &created)
	id := created.ID
	if len(id) != 36 || strings.Count(id, "-") != 4 {
		t.Errorf("id %q does not look like an AccountChek GUID", id)
	}

	h.call(t, "GET", orderPath(id), "", nil)
	r = admin("GET", "/_sandbox/orders/"+id, "")
	var view struct {
		State string
		Calls []simkit.Call
	}
	_ = json.Unmarshal([]byte(r.body), &view)
	if r.status != 200 || view.State != "opened" || len(view.Calls) != 1 || view.Calls[0].Path != orderPath(id) {
		t.Errorf("get: %d %s", r.status, r.body)
	}

	steps := []struct {
		state string
		want  int
		body  string
	}{
		{"inprogress", 200, `"state":"inprogress"`},
		{"inprogress", 200, `"state":"inprogress"`},
		{"archived", 400, "building, opened, inprogress, closed, canceled"},
		{"closed", 200, `"state":"closed"`},
		{"opened", 400, "cannot reopen"},
		{"canceled", 400, "cannot reopen"},
	}
	for _, s := range steps {
		r := admin("POST", "/_sandbox/orders/"+id+"/state", `{"state":"`+s.state+`"}`)
		if r.status != s.want || !strings.Contains(r.body, s.body) {
			t.Errorf("set %s: %d %s, want %d containing %q", s.state, r.status, r.body, s.want, s.body)
		}
	}

	if r := admin("POST", "/_sandbox/orders", `{"state":"pending"}`); r.status != 400 || !strings.Contains(r.body, "opened") {
		t.Errorf("create with unknown state: %d %s", r.status, r.body)
	}
	if r := admin("GET", "/_sandbox/orders/00000000-0000-4000-8000-000000000000", ""); r.status != 404 {
		t.Errorf("unknown order: %d", r.status)
	}
	if r := admin("POST", "/_sandbox/orders/00000000-0000-4000-8000-000000000000/state", `{"state":"opened"}`); r.status != 404 {
		t.Errorf("set state of unknown order: %d", r.status)
	}
}

func TestAdminErrors(t *testing.T) {
	sim := acsim.New()
	if _, err := sim.CreateOrder(""); !errors.Is(err, simkit.ErrUnknownState) {
		t.Errorf("CreateOrder(\"\") = %v, want ErrUnknownState", err)
	}
	if err := sim.SetOrderState("nope", "opened"); !errors.Is(err, simkit.ErrNoOrder) {
		t.Errorf("SetOrderState on unknown order = %v, want ErrNoOrder", err)
	}
	id, _ := sim.CreateOrder("building")
	if err := sim.SetOrderState(id, "nope"); !errors.Is(err, simkit.ErrUnknownState) {
		t.Errorf("SetOrderState to unknown state = %v", err)
	}
	if got := sim.OrderOf(strings.ToUpper(id)); got != id {
		t.Errorf("OrderOf(upper) = %q, want %q", got, id)
	}
}
