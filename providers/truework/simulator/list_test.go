package simulator_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// listPage is a page of either list: requests (older versions) or orders
// (2023-10-30), each entry's id, its requests and loan_id.
type listPage struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []struct {
		ID                   string `json:"id"`
		LoanID               string `json:"loan_id"`
		VerificationRequests []struct {
			ID string `json:"id"`
		} `json:"verification_requests"`
	} `json:"results"`
}

// lists are the two lists, each with a key pinned to its version.
var lists = []struct {
	name, path, key, accept string
	// entry is the listed id of a created order's request.
	entry func(orderID, requestID string) string
}{
	{"requests", "/verification-requests/", twsim.LegacyTestAPIKey, legacy, func(_, requestID string) string { return requestID }},
	{"orders", "/orders", twsim.TestAPIKey, current, func(orderID, _ string) string { return orderID }},
}

func list(t *testing.T, srvURL, path, key, accept, query string) listPage {
	t.Helper()
	r := send(t, http.MethodGet, srvURL+path+query, key, accept, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET %s%s: %d %s", path, query, r.status, r.body)
	}
	var p listPage
	if err := json.Unmarshal([]byte(r.body), &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(p listPage) []string {
	out := make([]string, 0, len(p.Results))
	for _, r := range p.Results {
		out = append(out, r.ID)
	}
	return out
}

func offsetOf(t *testing.T, path string, link *string) string {
	t.Helper()
	if link == nil {
		return "null"
	}
	u, err := url.Parse(*link)
	if err != nil || !u.IsAbs() || u.Path != path {
		t.Fatalf("link %q is not an absolute list URL", *link)
	}
	return u.Query().Get("limit") + "/" + u.Query().Get("offset")
}

// Both lists are newest first and paged with limit and offset, next (and
// for orders previous) being absolute URLs as in Django REST framework.
func TestListPagination(t *testing.T) {
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			sim, srv := start(t)
			var created []string // oldest first
			for i := 0; i < 7; i++ {
				orderID, requestID := mustCreate(t, sim, "processing")
				created = append(created, l.entry(orderID, requestID))
				sim.Clock.Advance(time.Second)
			}
			newest := func(from, to int) []string { // newest-first slice of created
				var out []string
				for i := len(created) - 1 - from; i > len(created)-1-to; i-- {
					out = append(out, created[i])
				}
				return out
			}
			cases := []struct {
				query              string
				want               []string
				wantNext, wantPrev string
			}{
				{"", newest(0, 7), "null", "null"},
				{"?limit=3", newest(0, 3), "3/3", "null"},
				{"?limit=3&offset=3", newest(3, 6), "3/6", "3/"},
				{"?limit=3&offset=6", newest(6, 7), "null", "3/3"},
				{"?limit=3&offset=9", nil, "null", "3/6"},
				{"?limit=0&offset=-2", newest(0, 7), "null", "null"}, // defaults
				{"?limit=x&offset=y", newest(0, 7), "null", "null"},
			}
			for _, tc := range cases {
				p := list(t, srv.URL, l.path, l.key, l.accept, tc.query)
				if p.Count != len(created) {
					t.Errorf("%s: count = %d", tc.query, p.Count)
				}
				if got := ids(p); strings.Join(got, ",") != strings.Join(tc.want, ",") {
					t.Errorf("%s: results = %v, want %v", tc.query, got, tc.want)
				}
				if got := offsetOf(t, l.path, p.Next); got != tc.wantNext {
					t.Errorf("%s: next = %s, want %s", tc.query, got, tc.wantNext)
				}
				// The older list has no previous link (Truework's SDK fixture).
				if got := offsetOf(t, l.path, p.Previous); l.name == "orders" && got != tc.wantPrev {
					t.Errorf("%s: previous = %s, want %s", tc.query, got, tc.wantPrev)
				}
			}
			// A list is a call on no order: counted in stats, in no call log.
			n := 0
			for _, st := range sim.Stats() {
				if strings.HasPrefix(st.Pattern, "GET "+l.path) && !strings.Contains(st.Pattern, "{id}") {
					n += st.Count
				}
			}
			if n != len(cases) {
				t.Errorf("stats count %d list calls, want %d", n, len(cases))
			}
		})
	}
}

// GET /orders filters by verification_id (the order holding that request)
// and by search_key (orders created with it: the simulator creates none).
func TestListOrdersFilters(t *testing.T) {
	sim, srv := start(t)
	orderID, requestID := mustCreate(t, sim, "processing")
	second, err := sim.AddRequest(orderID, "completed")
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, sim, "processing")
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"?verification_id=" + requestID, []string{orderID}},
		{"?verification_id=" + second, []string{orderID}},
		{"?verification_id=" + orderID, nil}, // an order id is no request id
		{"?verification_id=AAAAAAAAnope", nil},
		{"?search_key=loan-1", nil},
	} {
		p := list(t, srv.URL, "/orders", twsim.TestAPIKey, current, tc.query)
		if got := ids(p); strings.Join(got, ",") != strings.Join(tc.want, ",") || p.Count != len(tc.want) {
			t.Errorf("%s: results = %v (count %d), want %v", tc.query, got, p.Count, tc.want)
		}
	}
}

// Every order has its own loan_id; a reverification copies it, and is
// listed first.
func TestListLoanIDs(t *testing.T) {
	sim, srv := start(t)
	sourceOrder, source := mustCreate(t, sim, "completed")
	otherOrder, _ := mustCreate(t, sim, "processing")
	sim.Clock.Advance(time.Minute)
	r := send(t, http.MethodPost, srv.URL+"/orders/reverification", twsim.TestAPIKey, current,
		`{"report_id":"`+sim.ReportID(source)+`"}`)
	if r.status != http.StatusCreated {
		t.Fatalf("reverify: %d %s", r.status, r.body)
	}
	p := list(t, srv.URL, "/orders", twsim.TestAPIKey, current, "")
	loans := map[string]string{}
	for _, res := range p.Results {
		loans[res.ID] = res.LoanID
	}
	reverified := p.Results[0].ID
	if len(p.Results) != 3 || reverified == sourceOrder || reverified == otherOrder {
		t.Fatalf("results = %v, want the reverification first", ids(p))
	}
	if got := sim.Reverifications(source); len(got) != 1 || sim.OrderOf(got[0]) != reverified {
		t.Errorf("reverifications = %v, first listed %s", got, reverified)
	}
	if !strings.HasPrefix(loans[sourceOrder], "loan-") || loans[sourceOrder] == loans[otherOrder] {
		t.Errorf("loan ids: source %q, other %q", loans[sourceOrder], loans[otherOrder])
	}
	if loans[reverified] != loans[sourceOrder] {
		t.Errorf("reverification's loan_id %q, source's %q", loans[reverified], loans[sourceOrder])
	}
}

func TestListAuthAndRateLimit(t *testing.T) {
	for _, l := range lists {
		t.Run(l.name, func(t *testing.T) {
			_, srv := start(t)
			if r := send(t, http.MethodGet, srv.URL+l.path, "", l.accept, ""); r.status != http.StatusUnauthorized {
				t.Errorf("no key: %d", r.status)
			}
			if r := send(t, http.MethodGet, srv.URL+l.path, l.key, "application/json; version=2019-10-15", ""); r.status != http.StatusNotAcceptable {
				t.Errorf("old version: %d", r.status)
			}
			limited := false
			for i := 0; i < 30 && !limited; i++ {
				r := send(t, http.MethodGet, srv.URL+l.path, l.key, l.accept, "")
				limited = r.status == http.StatusTooManyRequests
			}
			if !limited {
				t.Error("the list is not rate limited")
			}
		})
	}
}
