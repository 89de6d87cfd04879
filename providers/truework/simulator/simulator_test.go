package simulator_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers/simkit"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// The Accept headers of the two families of routes.
const (
	current = "application/json; version=2023-10-30"
	legacy  = "application/json; version=2022-08-01"
)

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
		{"legacy key, asking for the current version", twsim.LegacyTestAPIKey, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := send(t, http.MethodGet, url, tc.key, current, "")
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
	if r := send(t, http.MethodGet, url, twsim.PublishableKey, current, ""); r.status != 401 {
		t.Errorf("added publishable key: status %d", r.status)
	}
	sim.RevokeCredentials(twsim.TestAPIKey)
	if r := send(t, http.MethodGet, url, twsim.TestAPIKey, current, ""); r.status != 401 {
		t.Errorf("revoked key: status %d", r.status)
	}
}

// A call is served in the version it asks for, else in its key's; older
// than the key's, or unknown, is 406; each route exists only in the
// versions that have it.
func TestVersionNegotiation(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "canceled")
	old := "tw_sk_test_pinned_2019"
	if err := sim.PinCredentials(old, "2019-10-15"); err != nil {
		t.Fatal(err)
	}
	if err := sim.PinCredentials("tw_sk_test_x", "2024-01-01"); err == nil {
		t.Error("PinCredentials took an unknown version")
	}
	order, request := "/orders/"+orderID, "/verification-requests/"+requestID+"/"
	cases := []struct {
		key, accept, path string
		wantStatus        int
		wantState         string // the JSON of the (first) request's state
	}{
		// A key pinned to 2023-10-30: orders, enum objects.
		{twsim.TestAPIKey, current, order, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
		{twsim.TestAPIKey, "application/json", order, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
		{twsim.TestAPIKey, "", order, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
		{twsim.TestAPIKey, current, request, 404, ""},
		{twsim.TestAPIKey, legacy, order, 406, ""},
		{twsim.TestAPIKey, "application/json; version=2099-01-01", order, 406, ""},
		{twsim.TestAPIKey, "application/json; version=latest", order, 406, ""},
		// A key pinned to 2022-08-01: requests, plain strings; it may ask
		// for a newer version, not an older one.
		{twsim.LegacyTestAPIKey, "", request, 200, `"canceled"`},
		{twsim.LegacyTestAPIKey, legacy, request, 200, `"canceled"`},
		{twsim.LegacyTestAPIKey, "", order, 404, ""},
		{twsim.LegacyTestAPIKey, current, order, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
		{twsim.LegacyTestAPIKey, current, request, 404, ""},
		{twsim.LegacyTestAPIKey, "application/json; version=2020-12-07", request, 406, ""},
		// A key pinned to 2019-10-15 may ask for any version.
		{old, "", request, 200, `"canceled"`},
		{old, "application/json; version=2020-12-07", request, 200, `"canceled"`},
		{old, current, order, 200, `{"canonical_value":"canceled","raw_value":"canceled"}`},
	}
	for _, tc := range cases {
		r := send(t, http.MethodGet, srv.URL+tc.path, tc.key, tc.accept, "")
		name := fmt.Sprintf("%s with %s, Accept %q", tc.path, tc.key, tc.accept)
		if r.status != tc.wantStatus {
			t.Errorf("%s: status %d, want %d: %s", name, r.status, tc.wantStatus, r.body)
			continue
		}
		if tc.wantStatus != 200 {
			errorMessage(t, r)
			continue
		}
		var body struct {
			State                json.RawMessage `json:"state"`
			VerificationRequests []struct {
				State json.RawMessage `json:"state"`
			} `json:"verification_requests"`
		}
		if err := json.Unmarshal([]byte(r.body), &body); err != nil {
			t.Fatal(err)
		}
		got := string(body.State)
		if len(body.VerificationRequests) > 0 {
			got = string(body.VerificationRequests[0].State)
		}
		if got != tc.wantState {
			t.Errorf("%s: state %s, want %s", name, got, tc.wantState)
		}
	}
	if r := send(t, http.MethodGet, srv.URL+order, twsim.TestAPIKey, legacy, ""); !strings.Contains(errorMessage(t, r), "older than the version pinned") {
		t.Errorf("406 says %q", errorMessage(t, r))
	}
}

// Every route, in the versions that serve it and in the others.
func TestRoutesPerVersion(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	report := sim.ReportID(requestID)
	routes := []struct {
		method, path string
		current      bool // served in 2023-10-30, else in the older versions
	}{
		{"GET", "/orders/" + orderID, true},
		{"GET", "/orders", true},
		{"GET", "/orders?verification_id=" + requestID, true},
		{"PUT", "/orders/" + orderID + "/cancel", true},
		{"POST", "/orders/reverification", true},
		{"GET", "/reports/" + report, true},
		{"GET", "/verification-requests/", false},
		{"GET", "/verification-requests/" + requestID + "/", false},
		{"PUT", "/verification-requests/" + requestID + "/cancel/", false},
		{"PUT", "/verification-requests/" + requestID + "/reverify/", false},
	}
	for _, version := range []string{"2019-10-15", "2020-12-07", "2022-08-01", "2023-10-30"} {
		// A key per version, pinned to the oldest so that every version
		// may be asked for, each within its 10 requests/s.
		key := "tw_sk_test_routes_" + version
		if err := sim.PinCredentials(key, "2019-10-15"); err != nil {
			t.Fatal(err)
		}
		for _, rt := range routes {
			// An empty body: a served route answers 400 to the mutations,
			// an absent one 404 before reading it.
			r := send(t, rt.method, srv.URL+rt.path, key, "application/json; version="+version, "", "Request-Sync", "async")
			served := rt.current == (version == "2023-10-30")
			if got := r.status != http.StatusNotFound; got != served {
				t.Errorf("%s %s in %s: %d, served = %v", rt.method, rt.path, version, r.status, served)
			}
			if !served && errorMessage(t, r) != "Not found." {
				t.Errorf("404 body %s", r.body)
			}
		}
	}
}

// Bodies carry the PII of the documented shapes: the simulator must serve
// every value it lists, or leak tests would prove nothing.
func TestBodiesCarryPII(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	// absent are the values the documented shape has no place for.
	bodies := map[string]struct {
		r      response
		absent []string
	}{
		"order": {send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, ""), nil},
		// A report's employee has no date of birth or phone; the former
		// surname is in the request's additional_information.
		"report": {send(t, http.MethodGet, srv.URL+"/reports/"+sim.ReportID(requestID), twsim.TestAPIKey, current, ""),
			[]string{"1986-07-19", "415-555-0187", "Bellweather"}}, //nolint:misspell // a surname
		// The older target (Truework's SDK mocks) has no phone.
		"request": {send(t, http.MethodGet, srv.URL+"/verification-requests/"+requestID+"/", twsim.LegacyTestAPIKey, legacy, ""),
			[]string{"415-555-0187"}},
	}
	for name, b := range bodies {
		r := b.r
		if r.status != 200 {
			t.Fatalf("%s: %d %s", name, r.status, r.body)
		}
		for _, v := range twsim.PII {
			if !slices.Contains(b.absent, v) && !strings.Contains(r.body, v) {
				t.Errorf("%s body lacks PII value %q", name, v)
			}
		}
		if !strings.Contains(r.body, sim.ReportID(requestID)) || sim.ReportID(requestID) == "" {
			t.Errorf("%s: report id missing from the completed request", name)
		}
	}
}

func TestNotFoundAndRoutes(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "processing")
	cases := []struct {
		method, path, key string
		want              int
	}{
		{"GET", "/orders/AAAAAAAAnope", twsim.TestAPIKey, 404},
		{"GET", "/orders/" + requestID, twsim.TestAPIKey, 404}, // a request id is not an order id
		{"PUT", "/orders/AAAAAAAAnope/cancel", twsim.TestAPIKey, 404},
		{"GET", "/reports/AAAAAAAAnope", twsim.TestAPIKey, 404},
		{"POST", "/orders/" + orderID + "/cancel", twsim.TestAPIKey, 405},
		{"GET", "/verification-requests/" + orderID + "/", twsim.LegacyTestAPIKey, 404},
		// Without its trailing slash the route redirects to the slash form.
		{"GET", "/verification-requests/" + requestID, twsim.LegacyTestAPIKey, http.StatusTemporaryRedirect},
		{"GET", "/verification-requests/" + requestID + "/extra", twsim.LegacyTestAPIKey, 404},
		{"GET", "/verification-requests/" + requestID + "/", twsim.LegacyTestAPIKey, 200},
	}
	for _, tc := range cases {
		r := send(t, tc.method, srv.URL+tc.path, tc.key, "", `{"cancellation_reason":"other"}`)
		if r.status != tc.want {
			t.Errorf("%s %s: %d, want %d", tc.method, tc.path, r.status, tc.want)
		}
	}
	if r := send(t, "GET", srv.URL+"/orders/AAAAAAAAnope", twsim.TestAPIKey, current, ""); errorMessage(t, r) != "Not found." {
		t.Errorf("404 body = %s", r.body)
	}
}

func TestCancelValidation(t *testing.T) {
	for _, tc := range []struct{ name, key, accept, path string }{
		{"order", twsim.TestAPIKey, current, "/orders/%s/cancel"},
		{"request", twsim.LegacyTestAPIKey, legacy, "/verification-requests/%s/cancel/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim, srv := start(t)
			orderID, requestID := mustCreate(t, sim, "processing")
			id := orderID
			if tc.name == "request" {
				id = requestID
			}
			url := srv.URL + fmt.Sprintf(tc.path, id)
			for _, bad := range []struct{ body, wantField string }{
				{`{}`, "cancellation_reason"},
				{`{"cancellation_reason": "bored"}`, "cancellation_reason"},
				{`not json`, ""},
			} {
				r := send(t, http.MethodPut, url, tc.key, tc.accept, bad.body)
				if r.status != 400 {
					t.Errorf("%s: status %d", bad.body, r.status)
				}
				if bad.wantField != "" && !strings.Contains(r.body, `"invalid_fields":{"`+bad.wantField) {
					t.Errorf("%s: body %s", bad.body, r.body)
				}
			}
			if got, _ := sim.OrderState(orderID); got != "processing" {
				t.Errorf("an invalid cancel moved the order to %s", got)
			}
			ok := send(t, http.MethodPut, url, tc.key, tc.accept, `{"cancellation_reason":"competitor","cancellation_details":null}`)
			if ok.status != 200 || !strings.Contains(ok.body, `"competitor"`) {
				t.Errorf("cancel: %d %s", ok.status, ok.body)
			}
			again := send(t, http.MethodPut, url, tc.key, tc.accept, `{"cancellation_reason":"competitor"}`)
			if again.status != 400 || !strings.Contains(errorMessage(t, again), "cannot be canceled") {
				t.Errorf("second cancel: %d %s", again.status, again.body)
			}
		})
	}
}

// PUT /verification-requests/{id}/reverify/, the older versions' route.
func TestReverifyRequestEndpoint(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	url := srv.URL + "/verification-requests/" + requestID + "/reverify/"
	body := `{"report_id":"` + sim.ReportID(requestID) + `"}`
	put := func(body, sync string) response {
		return send(t, http.MethodPut, url, twsim.LegacyTestAPIKey, legacy, body, "Request-Sync", sync)
	}
	for _, sync := range []string{"", "sync"} {
		if r := put(body, sync); r.status != 400 || !strings.Contains(errorMessage(t, r), "Request-Sync") {
			t.Errorf("Request-Sync %q: %d %s", sync, r.status, r.body)
		}
	}
	if r := put(`{}`, "async"); r.status != 400 || !strings.Contains(r.body, "report_id") {
		t.Errorf("no report_id: %d %s", r.status, r.body)
	}
	if r := put(`{"report_id":"AAAAAAAAother"}`, "async"); r.status != 400 || !strings.Contains(errorMessage(t, r), "does not belong") {
		t.Errorf("another report: %d %s", r.status, r.body)
	}
	r := put(body, "async")
	if r.status != http.StatusCreated {
		t.Fatalf("reverify: %d %s", r.status, r.body)
	}
	var created struct {
		ID     string `json:"id"`
		State  string `json:"state"`
		LoanID string `json:"loan_id"`
		Type   string `json:"type"`
		Target struct {
			Company struct {
				ID string `json:"id"`
			} `json:"company"`
		} `json:"target"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil {
		t.Fatal(err)
	}
	loan, _ := sim.LoanID(orderID)
	if created.ID == requestID || created.State != "pending-approval" || created.LoanID != loan ||
		created.Type != "employment-income" || created.Target.Company.ID != "2" {
		t.Errorf("created = %s", r.body)
	}
	checkReverification(t, sim, orderID, requestID, created.ID)
	// Every call is logged on the source order.
	if n := sim.CountCalls(orderID, http.MethodPut); n != 5 {
		t.Errorf("source order logged %d PUTs, want 5", n)
	}
}

// POST /orders/reverification, 2023-10-30's: by report, answered with an
// order.
func TestReverifyReportEndpoint(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	_, pending := mustCreate(t, sim, "processing")
	url := srv.URL + "/orders/reverification"
	body := `{"report_id":"` + sim.ReportID(requestID) + `"}`
	post := func(body string, header ...string) response {
		return send(t, http.MethodPost, url, twsim.TestAPIKey, current, body, header...)
	}
	if r := post(body, "Request-Sync", "sync"); r.status != 400 || !strings.Contains(errorMessage(t, r), "synchronously") {
		t.Errorf("Request-Sync sync: %d %s", r.status, r.body)
	}
	if r := post(`{}`); r.status != 400 || !strings.Contains(r.body, `"invalid_fields":{"report_id"`) {
		t.Errorf("no report_id: %d %s", r.status, r.body)
	}
	if r := post(`{"report_id":"AAAAAAAAnope"}`); r.status != 404 {
		t.Errorf("unknown report: %d %s", r.status, r.body)
	}
	if sim.ReportID(pending) != "" {
		t.Fatal("a processing request has a report")
	}
	r := post(body) // Request-Sync defaults to async
	if r.status != http.StatusCreated {
		t.Fatalf("reverify: %d %s", r.status, r.body)
	}
	var created struct {
		ID             string `json:"id"`
		LoanID         string `json:"loan_id"`
		Reverification struct {
			ParentOrderID string `json:"parent_order_id"`
		} `json:"reverification"`
		VerificationRequests []struct {
			ID     string `json:"id"`
			LoanID string `json:"loan_id"`
			Type   string `json:"type"`
			State  struct {
				CanonicalValue string `json:"canonical_value"`
			} `json:"state"`
			Target struct {
				Company struct {
					ID int `json:"id"`
				} `json:"company"`
			} `json:"target"`
		} `json:"verification_requests"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil {
		t.Fatal(err)
	}
	loan, _ := sim.LoanID(orderID)
	if len(created.VerificationRequests) != 1 || created.Reverification.ParentOrderID != orderID || created.LoanID != loan {
		t.Fatalf("created = %s", r.body)
	}
	req := created.VerificationRequests[0]
	if req.State.CanonicalValue != "pending-approval" || req.LoanID != loan || req.Type != "employment-income" || req.Target.Company.ID != 2 {
		t.Errorf("created request = %+v", req)
	}
	checkReverification(t, sim, orderID, requestID, req.ID)
	if sim.OrderOf(req.ID) != created.ID {
		t.Errorf("the new request is not in the order answered")
	}
	// Calls naming the report are logged on the source order.
	if n := sim.CountCalls(orderID, http.MethodPost); n != 2 {
		t.Errorf("source order logged %d POSTs, want 2 (sync refused, then created)", n)
	}
}

// checkReverification: created is the one request reverifying source made,
// alone in an order of its own.
func checkReverification(t *testing.T, sim *twsim.Server, orderID, source, created string) {
	t.Helper()
	newOrder := sim.OrderOf(created)
	if newOrder == orderID || newOrder == created {
		t.Errorf("new request's order = %q", newOrder)
	}
	if got := sim.RequestIDs(newOrder); len(got) != 1 || got[0] != created {
		t.Errorf("new order holds %v", got)
	}
	if got := sim.Reverifications(source); len(got) != 1 || got[0] != created {
		t.Errorf("Reverifications = %v", got)
	}
}

func TestReportEndpoint(t *testing.T) {
	sim, srv := start(t)
	_, requestID := mustCreate(t, sim, "completed")
	r := send(t, http.MethodGet, srv.URL+"/reports/"+sim.ReportID(requestID), twsim.TestAPIKey, current, "")
	var report struct {
		ID                  string `json:"id"`
		VerificationRequest struct {
			ID string `json:"id"`
		} `json:"verification_request"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &report) != nil ||
		report.ID != sim.ReportID(requestID) || report.VerificationRequest.ID != requestID {
		t.Errorf("report: %d %s", r.status, r.body)
	}
}

func TestFreeze(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "completed")
	if err := sim.Freeze(requestID); err != nil {
		t.Fatal(err)
	}
	for _, call := range []struct{ method, path, key, accept, body string }{
		{"GET", "/orders/" + orderID, twsim.TestAPIKey, current, ""},
		{"GET", "/reports/" + sim.ReportID(requestID), twsim.TestAPIKey, current, ""},
		{"POST", "/orders/reverification", twsim.TestAPIKey, current, `{"report_id":"` + sim.ReportID(requestID) + `"}`},
		{"GET", "/verification-requests/" + requestID + "/", twsim.LegacyTestAPIKey, legacy, ""},
	} {
		if r := send(t, call.method, srv.URL+call.path, call.key, call.accept, call.body); r.status != 451 {
			t.Errorf("%s %s: %d", call.method, call.path, r.status)
		} else {
			errorMessage(t, r)
		}
	}
	if err := sim.Unfreeze(orderID); err != nil {
		t.Fatal(err)
	}
	if r := send(t, http.MethodGet, srv.URL+"/orders/"+orderID, twsim.TestAPIKey, current, ""); r.status != 200 {
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
		if r := send(t, http.MethodGet, url, twsim.TestAPIKey, current, ""); r.status == 429 {
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
	if r := send(t, http.MethodGet, url, twsim.LiveAPIKey, current, ""); r.status != 200 {
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
