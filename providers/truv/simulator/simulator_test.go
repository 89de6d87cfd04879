package simulator

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

func start(t *testing.T) (*Server, *httptest.Server) {
	t.Helper()
	s := New()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

type response struct {
	status int
	header http.Header
	body   string
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	return m
}

func (r response) errorCode(t *testing.T) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

func do(t *testing.T, srv *httptest.Server, method, path, body string, authed bool) response {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if authed {
		req.Header.Set("X-Access-Client-Id", TestClientID)
		req.Header.Set("X-Access-Secret", TestAccessSecret)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func TestAuthentication(t *testing.T) {
	s, srv := start(t)
	id, _ := s.CreateOrder("pending")
	cases := []struct {
		name, clientID, secret string
		want                   int
	}{
		{"right", TestClientID, TestAccessSecret, 200},
		{"wrong secret", TestClientID, "sandbox-wrong", 401},
		{"unknown client", "ffffffffffffffffffffffffffffffff", TestAccessSecret, 401},
		{"no headers", "", "", 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", srv.URL+"/v1/orders/"+id+"/", nil)
			if c.clientID != "" {
				req.Header.Set("X-Access-Client-Id", c.clientID)
				req.Header.Set("X-Access-Secret", c.secret)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status = %d, want %d", resp.StatusCode, c.want)
			}
			if c.want == 401 && strings.TrimSpace(string(b)) != `{"error":{"code":"authentication_failed","message":"No such token"}}` {
				t.Errorf("401 body = %s", b)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	s, srv := start(t)
	id, _ := s.CreateOrder("pending")
	cases := []struct {
		method, path string
		want         int
		code         string
	}{
		{"GET", "/v1/orders/" + id + "/", 200, ""},
		// A 404 is {"detail": "Not Found."}, with no error code (Truv's
		// "Errors & Rate Limits"); Truv paths end with a slash.
		{"GET", "/v1/orders/" + id, 404, ""},
		{"POST", "/v1/orders/" + id + "/cancel", 404, ""},
		{"GET", "/v1/orders/" + id + "/cancel/", 405, "method_not_allowed"},
		{"DELETE", "/v1/orders/" + id + "/", 405, "method_not_allowed"},
		{"GET", "/v1/orders/0123456789abcdef0123456789abcdef/", 404, ""},
		{"GET", "/v1/nothing/", 404, ""},
	}
	for _, c := range cases {
		r := do(t, srv, c.method, c.path, "", true)
		if r.status != c.want {
			t.Errorf("%s %s = %d, want %d", c.method, c.path, r.status, c.want)
			continue
		}
		if c.code != "" && r.errorCode(t) != c.code {
			t.Errorf("%s %s: error code %q, want %q (%s)", c.method, c.path, r.errorCode(t), c.code, r.body)
		}
		if c.want == 404 && r.json(t)["detail"] != "Not Found." {
			t.Errorf("%s %s: %s, want Truv's {\"detail\": \"Not Found.\"}", c.method, c.path, r.body)
		}
	}
	if got, _ := s.OrderState(id); got != "pending" {
		t.Errorf("state = %s after failed calls, want pending", got)
	}
}

// The order looks like the seed's example: the same fields, PII included.
func TestOrderShapeLikeSeed(t *testing.T) {
	s, srv := start(t)
	id, _ := s.CreateOrder("completed")
	r := do(t, srv, "GET", "/v1/orders/"+id+"/", "", true)
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("id %q is not shaped like Truv's", id)
	}
	for _, pii := range PII {
		if !strings.Contains(r.body, pii) {
			t.Errorf("body lacks PII value %q listed in PII", pii)
		}
	}
	doc := r.json(t)
	for _, key := range []string{"products", "employers", "financial_accounts", "insurance", "loan", "expired_at", "is_expired", "completed_at", "canceled_at", "bridge_token"} {
		if _, ok := doc[key]; !ok {
			t.Errorf("order lacks %q", key)
		}
	}
	emp := doc["employers"].([]any)[0].(map[string]any)
	// The documented employer carries no timestamps but created_at; the
	// order's canceled_at and completed_at say when.
	if emp["status"] != "completed" || doc["completed_at"] == nil || doc["canceled_at"] != nil {
		t.Errorf("employer status %v, order completed_at %v canceled_at %v", emp["status"], doc["completed_at"], doc["canceled_at"])
	}
	profile := emp["employments"].([]any)[0].(map[string]any)["profile"].(map[string]any)
	if profile["ssn"] == nil || profile["date_of_birth"] == nil {
		t.Errorf("profile lacks ssn or date_of_birth: %v", profile)
	}
	if doc["completed_at"] == nil {
		t.Error("completed order lacks completed_at")
	}
	if st := doc["financial_accounts"].([]any)[0].(map[string]any)["status"]; st != "completed" {
		t.Errorf("financial account status = %v, want it to follow the order", st)
	}
	if st := doc["insurance"].(map[string]any)["status"]; st != "completed" {
		t.Errorf("insurance status = %v, want it to follow the order", st)
	}
}

func TestCancel(t *testing.T) {
	s, srv := start(t)
	for _, st := range append(append([]string{}, openStatuses...), terminalStatuses...) {
		t.Run(st, func(t *testing.T) {
			id, _ := s.CreateOrder(st)
			r := do(t, srv, "POST", "/v1/orders/"+id+"/cancel/", "", true)
			if isOpen(st) {
				if r.status != 200 {
					t.Fatalf("status %d: %s", r.status, r.body)
				}
				doc := r.json(t)
				emp := doc["employers"].([]any)[0].(map[string]any)
				if emp["status"] != "canceled" || doc["canceled_at"] == nil {
					t.Errorf("after cancel: employer status %v, order canceled_at %v", emp["status"], doc["canceled_at"])
				}
				return
			}
			if r.status != 400 || r.errorCode(t) != "incorrect_parameters" || !strings.Contains(r.body, `"invalid-params":[{"field":"status"`) {
				t.Errorf("cancel from %s = %d %s, want 400 incorrect_parameters with invalid-params", st, r.status, r.body)
			}
		})
	}
}

func TestCancelStampsClockTime(t *testing.T) {
	s, srv := start(t)
	id, _ := s.CreateOrder("pending")
	s.Clock.Advance(time.Hour)
	want := s.Clock.Now().UTC()
	r := do(t, srv, "POST", "/v1/orders/"+id+"/cancel/", "", true)
	got, err := time.Parse(time.RFC3339Nano, r.json(t)["canceled_at"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if d := got.Sub(want); d < -time.Millisecond || d > time.Second {
		t.Errorf("canceled_at = %v, want the simulator clock %v", got, want)
	}
}

func TestRateLimit(t *testing.T) {
	s, srv := start(t)
	id, _ := s.CreateOrder("pending")
	for i := 0; i < 100; i++ {
		r := do(t, srv, "GET", "/v1/orders/"+id+"/", "", true)
		if r.status == 429 {
			if r.header.Get("Retry-After") != "1" || r.errorCode(t) != "throttled" {
				t.Errorf("429 = Retry-After %q body %s", r.header.Get("Retry-After"), r.body)
			}
			return
		}
	}
	t.Fatal("no 429 after 100 quick calls")
}

func TestStateMachine(t *testing.T) {
	cases := []struct {
		from, to string
		wantErr  bool
	}{
		{"pending", "sent", false},
		{"pending", "completed", false},
		{"sent", "completed", false},
		{"sent", "no_data", false},
		{"pending", "canceled", false},
		{"sent", "pending", true},
		{"completed", "completed", false},
		{"completed", "pending", true},
		{"canceled", "sent", true},
		{"expired", "completed", true},
		{"error", "canceled", true},
	}
	for _, c := range cases {
		s := New()
		id, err := s.CreateOrder(c.from)
		if err != nil {
			t.Fatal(err)
		}
		err = s.SetOrderState(id, c.to)
		if (err != nil) != c.wantErr {
			t.Errorf("%s → %s: err = %v, want error %v", c.from, c.to, err, c.wantErr)
		}
		want := c.to
		if c.wantErr {
			want = c.from
		}
		if got, _ := s.OrderState(id); got != want {
			t.Errorf("%s → %s: state %s, want %s", c.from, c.to, got, want)
		}
	}
}

func TestUnknownStatesAndOrders(t *testing.T) {
	s := New()
	if _, err := s.CreateOrder("done"); !errors.Is(err, simkit.ErrUnknownState) || !strings.Contains(err.Error(), "pending, sent") {
		t.Errorf("CreateOrder(done) = %v, want ErrUnknownState listing the words", err)
	}
	id, _ := s.CreateOrder("pending")
	if err := s.SetOrderState(id, "done"); !errors.Is(err, simkit.ErrUnknownState) {
		t.Errorf("SetOrderState(done) = %v, want ErrUnknownState", err)
	}
	if err := s.SetOrderState("nope", "sent"); !errors.Is(err, simkit.ErrNoOrder) {
		t.Errorf("SetOrderState on unknown order = %v, want ErrNoOrder", err)
	}
}

func TestDerivedOrderStatus(t *testing.T) {
	cases := []struct {
		employers []string
		want      string
	}{
		{[]string{"completed", "pending"}, "pending"},
		{[]string{"pending", "sent"}, "sent"},
		{[]string{"canceled", "canceled"}, "canceled"},
		{[]string{"canceled", "completed"}, "completed"},
		{[]string{"expired", "error"}, "expired"},
		{[]string{"canceled", "skipped", "error"}, "skipped"},
	}
	s := New()
	for _, c := range cases {
		id, err := s.CreateOrderWithEmployers(c.employers...)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := s.OrderState(id); got != c.want {
			t.Errorf("%v → %s, want %s", c.employers, got, c.want)
		}
	}
}

func TestExpiryDeadlineSkipsWeekends(t *testing.T) {
	cases := []struct{ created, want string }{
		// Wednesday: the seed's example shows 72 straight hours (Saturday),
		// docs/vendors.md: weekends are not counted.
		{"2021-04-21T21:45:14Z", "2021-04-26T21:45:14Z"},
		{"2021-04-19T08:00:00Z", "2021-04-22T08:00:00Z"}, // Monday: no weekend in between
		{"2021-04-24T10:00:00Z", "2021-04-29T00:00:00Z"}, // Saturday: counting starts Monday
		{"2024-06-07T12:00:00Z", "2024-06-12T12:00:00Z"}, // Friday: the weekend does not count
	}
	for _, c := range cases {
		created, _ := time.Parse(time.RFC3339, c.created)
		want, _ := time.Parse(time.RFC3339, c.want)
		if got := addWeekdayHours(created, expiryAfter); !got.Equal(want) {
			t.Errorf("deadline for %s = %s, want %s", c.created, got, want)
		}
	}
}

func TestAdminAPI(t *testing.T) {
	_, srv := start(t)
	r := do(t, srv, "POST", "/_sandbox/orders", `{"state":"sent"}`, false)
	if r.status != 201 {
		t.Fatalf("create = %d %s", r.status, r.body)
	}
	id, _ := r.json(t)["id"].(string)

	do(t, srv, "GET", "/v1/orders/"+id+"/", "", true)
	r = do(t, srv, "GET", "/_sandbox/orders/"+id, "", false)
	view := r.json(t)
	if view["state"] != "sent" || len(view["calls"].([]any)) != 1 {
		t.Errorf("get = %s, want state sent and one call", r.body)
	}

	r = do(t, srv, "POST", "/_sandbox/orders/"+id+"/state", `{"state":"completed"}`, false)
	if r.status != 200 || r.json(t)["state"] != "completed" {
		t.Errorf("set state = %d %s", r.status, r.body)
	}
	r = do(t, srv, "POST", "/_sandbox/orders/"+id+"/state", `{"state":"pending"}`, false)
	if r.status != 400 {
		t.Errorf("leaving a terminal state = %d %s, want 400", r.status, r.body)
	}
	r = do(t, srv, "POST", "/_sandbox/orders", `{"state":"bogus"}`, false)
	if r.status != 400 || !strings.Contains(r.body, "unknown state") {
		t.Errorf("create bogus = %d %s, want 400 unknown state", r.status, r.body)
	}
	r = do(t, srv, "GET", "/_sandbox/orders/0123456789abcdef0123456789abcdef", "", false)
	if r.status != 404 {
		t.Errorf("get unknown = %d, want 404", r.status)
	}
}

// Expiry is the order's, as the seed's example shows: past its lifetime
// the order says is_expired while its employer still says pending, and it
// can no longer be canceled.
func TestOrdersExpireAsAWholeAfterTheirLifetime(t *testing.T) {
	s, srv := start(t)
	s.SetOrderLifetime(24 * time.Hour)
	for s.Clock.Now().UTC().Weekday() == time.Saturday || s.Clock.Now().UTC().Weekday() == time.Friday || s.Clock.Now().UTC().Weekday() == time.Sunday {
		s.Clock.Advance(24 * time.Hour) // start on a Monday to Thursday: 24 weekday hours are one day
	}
	id, _ := s.CreateOrder("sent")
	s.Clock.Advance(23 * time.Hour)
	if doc := do(t, srv, "GET", "/v1/orders/"+id+"/", "", true).json(t); doc["is_expired"] != false {
		t.Fatalf("is_expired = %v before the lifetime is over", doc["is_expired"])
	}
	s.Clock.Advance(2 * time.Hour)
	doc := do(t, srv, "GET", "/v1/orders/"+id+"/", "", true).json(t)
	emp := doc["employers"].([]any)[0].(map[string]any)
	if doc["is_expired"] != true || emp["status"] != "sent" {
		t.Errorf("past its lifetime: is_expired %v, employer %v; want an expired order whose employer still says sent", doc["is_expired"], emp["status"])
	}
	if state, _ := s.OrderState(id); state != "expired" {
		t.Errorf("order state %q, want expired", state)
	}
	if r := do(t, srv, "POST", "/v1/orders/"+id+"/cancel/", "", true); r.status != 400 {
		t.Errorf("cancel of an expired order = %d, want 400", r.status)
	}
}
