package simulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers/simkit"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

const versioned = "application/json; version=2023-10-30"

func start(t *testing.T) (*twsim.Server, *httptest.Server) {
	t.Helper()
	sim := twsim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

type response struct {
	status int
	header http.Header
	body   string
}

// send makes one call; key "" sends no Authorization header.
func send(t *testing.T, method, url, key, accept, body string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// errorMessage reads Truework's {"error":{"message"}} body.
func errorMessage(t *testing.T, r response) string {
	t.Helper()
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("body %q is not Truework's error format", r.body)
	}
	return e.Error.Message
}

func mustCreate(t *testing.T, sim *twsim.Server, state string) (orderID, requestID string) {
	t.Helper()
	id, err := sim.CreateOrder(state)
	if err != nil {
		t.Fatal(err)
	}
	return id, sim.RequestIDs(id)[0]
}

func TestAuthentication(t *testing.T) {
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "processing")
	url := srv.URL + "/orders/" + orderID
	cases := []struct {
		name, key  string
		wantStatus int
		wantMsg    string
	}{
		{"no header", "", 401, "not provided"},
		{"publishable key", twsim.PublishableKey, 401, "Publishable keys"},
		{"unknown key", "tw_sk_test_unknown", 401, "Invalid token"},
		{"sandbox key", twsim.TestAPIKey, 200, ""},
		{"production key", twsim.LiveAPIKey, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, http.MethodGet, url, tc.key, versioned, "")
			if r.status != tc.wantStatus {
				t.Fatalf("status = %d, want %d: %s", r.status, tc.wantStatus, r.body)
			}
			if tc.wantMsg != "" && !strings.Contains(errorMessage(t, r), tc.wantMsg) {
				t.Errorf("message = %q, want %q", errorMessage(t, r), tc.wantMsg)
			}
		})
	}
	// Even a publishable key that was added is refused.
	sim.AddCredentials(twsim.PublishableKey)
	if r := send(t, http.MethodGet, url, twsim.PublishableKey, versioned, ""); r.status != 401 {
		t.Errorf("added publishable key: status %d", r.status)
	}
}

func TestVersionNegotiation(t *testing.T) {
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "canceled")
	url := srv.URL + "/orders/" + orderID
	cases := []struct {
		accept     string
		wantStatus int
		wantState  string // the JSON of the first request's state
	}{
		{versioned, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
		{"application/json", 200, `"canceled"`},
		{"", 200, `"canceled"`},
		{"application/json; version=2020-12-07", 406, ""},
		{"application/json; version=2099-01-01", 406, ""},
		{"application/json; version=latest", 406, ""},
	}
	for _, tc := range cases {
		r := send(t, http.MethodGet, url, twsim.TestAPIKey, tc.accept, "")
		if r.status != tc.wantStatus {
			t.Errorf("Accept %q: status %d, want %d", tc.accept, r.status, tc.wantStatus)
			continue
		}
		if tc.wantStatus != 200 {
			errorMessage(t, r)
			continue
		}
		var o struct {
			VerificationRequests []struct {
				State              json.RawMessage `json:"state"`
				CancellationReason json.RawMessage `json:"cancellation_reason"`
			} `json:"verification_requests"`
		}
		if err := json.Unmarshal([]byte(r.body), &o); err != nil {
			t.Fatal(err)
		}
		if got := string(o.VerificationRequests[0].State); got != tc.wantState {
			t.Errorf("Accept %q: state %s, want %s", tc.accept, got, tc.wantState)
		}
		if got := string(o.VerificationRequests[0].CancellationReason); !strings.Contains(got, "other") {
			t.Errorf("cancellation_reason %s", got)
		}
	}
}

// Bodies carry the PII of the seeds' shapes: the simulator must serve every
// value it lists, or leak tests would prove nothing.
func TestBodiesCarryPII(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	order := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, versioned, "")
	request := send(t, http.MethodGet, srv.URL+"/verification-requests/"+requestID+"/", twsim.TestAPIKey, versioned, "")
	for _, body := range []string{order.body, request.body} {
		for _, v := range twsim.PII {
			if !strings.Contains(body, v) {
				t.Errorf("body lacks PII value %q", v)
			}
		}
	}
	for _, field := range []string{`"loan_id"`, `"verification_requests"`, `"date_of_completion"`, `"reports"`, `"target"`, `"turnaround_time"`, `"permissible_purpose"`} {
		if !strings.Contains(order.body, field) {
			t.Errorf("order body lacks %s", field)
		}
	}
	if !strings.Contains(order.body, sim.ReportID(requestID)) || sim.ReportID(requestID) == "" {
		t.Errorf("report id missing from the completed request")
	}
}

func TestNotFoundAndRoutes(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "processing")
	cases := []struct {
		method, path string
		want         int
	}{
		{"GET", "/orders/AAAAAAAAnope", 404},
		{"GET", "/orders/" + requestID, 404}, // a request id is not an order id
		{"GET", "/verification-requests/" + orderID + "/", 404},
		// Without its trailing slash the route redirects to the slash form.
		{"GET", "/verification-requests/" + requestID, http.StatusTemporaryRedirect},
		{"GET", "/verification-requests/" + requestID + "/extra", 404},
		{"GET", "/verification-requests/" + requestID + "/", 200},
		{"POST", "/orders/" + orderID + "/cancel", 405},
	}
	for _, tc := range cases {
		r := send(t, tc.method, srv.URL+tc.path, twsim.TestAPIKey, versioned, "")
		if r.status != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.want)
		}
	}
	if r := send(t, "GET", srv.URL+"/orders/AAAAAAAAnope", twsim.TestAPIKey, versioned, ""); errorMessage(t, r) != "Not found." {
		t.Errorf("404 body = %s", r.body)
	}
}

func TestCancelValidation(t *testing.T) {
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "processing")
	url := srv.URL + "/orders/" + orderID + "/cancel"
	cases := []struct {
		body      string
		wantField string
	}{
		{`{}`, "cancellation_reason"},
		{`{"cancellation_reason": "bored"}`, "cancellation_reason"},
		{`not json`, ""},
	}
	for _, tc := range cases {
		r := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, tc.body)
		if r.status != 400 {
			t.Errorf("%s: status %d", tc.body, r.status)
		}
		if tc.wantField != "" && !strings.Contains(r.body, `"invalid_fields":{"`+tc.wantField) {
			t.Errorf("%s: body %s", tc.body, r.body)
		}
	}
	if got, _ := sim.OrderState(orderID); got != "processing" {
		t.Errorf("an invalid cancel moved the order to %s", got)
	}
	ok := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, `{"cancellation_reason":"competitor","cancellation_details":null}`)
	if ok.status != 200 || !strings.Contains(ok.body, `"canonical_value":"competitor"`) {
		t.Errorf("cancel: %d %s", ok.status, ok.body)
	}
	again := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, `{"cancellation_reason":"competitor"}`)
	if again.status != 400 || !strings.Contains(errorMessage(t, again), "cannot be canceled") {
		t.Errorf("second cancel: %d %s", again.status, again.body)
	}
}

func TestReverifyEndpoint(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	url := srv.URL + "/verification-requests/" + requestID + "/reverify/"
	body := `{"report_id":"` + sim.ReportID(requestID) + `"}`

	for _, sync := range []string{"", "sync"} {
		r := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, body, "Request-Sync", sync)
		if r.status != 400 || !strings.Contains(errorMessage(t, r), "Request-Sync") {
			t.Errorf("Request-Sync %q: %d %s", sync, r.status, r.body)
		}
	}
	if r := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, `{}`, "Request-Sync", "async"); r.status != 400 || !strings.Contains(r.body, "report_id") {
		t.Errorf("no report_id: %d %s", r.status, r.body)
	}

	r := send(t, http.MethodPut, url, twsim.TestAPIKey, versioned, body, "Request-Sync", "async")
	if r.status != http.StatusCreated {
		t.Fatalf("reverify: %d %s", r.status, r.body)
	}
	var created struct {
		ID     string          `json:"id"`
		State  json.RawMessage `json:"state"`
		Target struct {
			SSN string `json:"social_security_number"`
		} `json:"target"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil {
		t.Fatal(err)
	}
	if created.ID == requestID || !strings.Contains(string(created.State), "pending-approval") || created.Target.SSN == "" {
		t.Errorf("created = %s", r.body)
	}
	newOrder := sim.OrderOf(created.ID)
	if newOrder == orderID || newOrder == created.ID {
		t.Errorf("new request's order = %q", newOrder)
	}
	if got := sim.RequestIDs(newOrder); len(got) != 1 || got[0] != created.ID {
		t.Errorf("new order holds %v", got)
	}
	// The call is logged on the source order.
	if n := sim.CountCalls(orderID, http.MethodPut); n != 4 {
		t.Errorf("source order logged %d PUTs, want 4", n)
	}
}

func TestFreeze(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	if err := sim.Freeze(requestID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/orders/" + orderID, "/verification-requests/" + requestID + "/"} {
		if r := send(t, http.MethodGet, srv.URL+path, twsim.TestAPIKey, versioned, ""); r.status != 451 {
			t.Errorf("GET %s: %d", path, r.status)
		} else {
			errorMessage(t, r)
		}
	}
	if err := sim.Unfreeze(orderID); err != nil {
		t.Fatal(err)
	}
	if r := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, versioned, ""); r.status != 200 {
		t.Errorf("after Unfreeze: %d", r.status)
	}
	if err := sim.Freeze("AAAAAAAAnope"); !errors.Is(err, simkit.ErrNoOrder) {
		t.Errorf("Freeze(unknown) = %v", err)
	}
}

func TestRateLimitPerKey(t *testing.T) {
	sim, srv := start(t)
	orderID, _ := mustCreate(t, sim, "processing")
	url := srv.URL + "/orders/" + orderID
	var limited *response
	for i := 0; i < 30 && limited == nil; i++ {
		if r := send(t, http.MethodGet, url, twsim.TestAPIKey, versioned, ""); r.status == 429 {
			limited = &r
		}
	}
	if limited == nil {
		t.Fatal("30 quick calls were never limited")
	}
	if limited.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", limited.header.Get("Retry-After"))
	}
	errorMessage(t, *limited)
	// Another key has its own budget.
	if r := send(t, http.MethodGet, url, twsim.LiveAPIKey, versioned, ""); r.status != 200 {
		t.Errorf("other key: %d", r.status)
	}
}

// The admin API of docs/sandbox.md, through HTTP.
func TestAdminAPI(t *testing.T) {
	_, srv := start(t)
	post := func(path, body string) response { return send(t, http.MethodPost, srv.URL+path, "", "", body) }
	var created struct{ ID string }
	r := post("/_sandbox/orders", `{"state":"processing"}`)
	if r.status != 201 || json.Unmarshal([]byte(r.body), &created) != nil || !strings.HasPrefix(created.ID, "AAAAAAAA") {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	if r := post("/_sandbox/orders", `{"state":"done"}`); r.status != 400 || !strings.Contains(r.body, "pending-approval") {
		t.Errorf("unknown state: %d %s", r.status, r.body)
	}
	steps := []struct {
		state string
		want  int
	}{
		{"pending-approval", 200}, // processing may return to pending-approval
		{"action-required", 200},
		{"completed", 200},
		{"completed", 200}, // staying put is not leaving
		{"processing", 400},
		{"canceled", 400},
	}
	for _, st := range steps {
		if r := post("/_sandbox/orders/"+created.ID+"/state", `{"state":"`+st.state+`"}`); r.status != st.want {
			t.Errorf("to %s: %d %s", st.state, r.status, r.body)
		}
	}
	r = send(t, http.MethodGet, srv.URL+"/_sandbox/orders/"+created.ID, "", "", "")
	var view struct {
		State string
		Calls []simkit.Call
	}
	if err := json.Unmarshal([]byte(r.body), &view); err != nil || view.State != "completed" {
		t.Errorf("get: %s", r.body)
	}
	if r := send(t, http.MethodGet, srv.URL+"/_sandbox/orders/AAAAAAAAnope", "", "", ""); r.status != 404 {
		t.Errorf("get unknown: %d", r.status)
	}
}

func TestAdminGoHelpers(t *testing.T) {
	sim, _ := start(t)
	orderID, first := mustCreate(t, sim, "completed")
	second, err := sim.AddRequest(orderID, "processing")
	if err != nil {
		t.Fatal(err)
	}
	if got := sim.RequestIDs(orderID); len(got) != 2 || got[0] != first || got[1] != second {
		t.Errorf("RequestIDs = %v", got)
	}
	if sim.OrderOf(second) != orderID || sim.OrderOf(orderID) != orderID {
		t.Errorf("OrderOf does not map requests to their order")
	}
	if got, _ := sim.OrderState(orderID); got != "processing" {
		t.Errorf("order state = %s", got)
	}
	// Moving the whole order would take the completed request out of a
	// terminal state: refused, and nothing changes.
	if err := sim.SetOrderState(orderID, "canceled"); err == nil {
		t.Error("SetOrderState left a terminal state")
	}
	if got, _ := sim.OrderState(second); got != "processing" {
		t.Errorf("refused move changed a request to %s", got)
	}
	// A request id moves that request alone.
	if err := sim.SetOrderState(second, "invalid"); err != nil {
		t.Fatal(err)
	}
	if got, _ := sim.OrderState(orderID); got != "completed" {
		t.Errorf("order state = %s, want completed", got)
	}
	if sim.ReportID(second) != "" || sim.ReportID(first) == "" {
		t.Errorf("reports: only completed requests have one")
	}
	if _, err := sim.CreateOrder("Completed"); !errors.Is(err, simkit.ErrUnknownState) {
		t.Errorf("CreateOrder(unknown) = %v", err)
	}
}
