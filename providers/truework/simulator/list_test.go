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

type listPage struct {
	Count    int     `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []struct {
		ID      string          `json:"id"`
		Created string          `json:"created"`
		LoanID  string          `json:"loan_id"`
		State   json.RawMessage `json:"state"`
		Target  struct {
			SSN string `json:"social_security_number"`
		} `json:"target"`
	} `json:"results"`
}

func list(t *testing.T, srvURL, query string) listPage {
	t.Helper()
	r := send(t, http.MethodGet, srvURL+"/verification-requests/"+query, twsim.TestAPIKey, versioned, "")
	if r.status != http.StatusOK {
		t.Fatalf("GET /verification-requests/%s: %d %s", query, r.status, r.body)
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

func offsetOf(t *testing.T, link *string) string {
	t.Helper()
	if link == nil {
		return "null"
	}
	u, err := url.Parse(*link)
	if err != nil || !u.IsAbs() || u.Path != "/verification-requests/" {
		t.Fatalf("link %q is not an absolute list URL", *link)
	}
	return u.Query().Get("limit") + "/" + u.Query().Get("offset")
}

// The list is newest first and paged with limit and offset, next and
// previous being absolute URLs as in Django REST framework.
func TestListPagination(t *testing.T) {
	sim, srv := start(t)
	var created []string // oldest first
	for i := 0; i < 7; i++ {
		_, id := mustCreate(t, sim, "processing")
		created = append(created, id)
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
		t.Run(tc.query, func(t *testing.T) {
			p := list(t, srv.URL, tc.query)
			if p.Count != len(created) {
				t.Errorf("count = %d", p.Count)
			}
			if got := ids(p); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("results = %v, want %v", got, tc.want)
			}
			if got := offsetOf(t, p.Next); got != tc.wantNext {
				t.Errorf("next = %s, want %s", got, tc.wantNext)
			}
			if got := offsetOf(t, p.Previous); got != tc.wantPrev {
				t.Errorf("previous = %s, want %s", got, tc.wantPrev)
			}
		})
	}
	// The list call is on no order: counted in stats, in no call log.
	n := 0
	for _, st := range sim.Stats() {
		if st.Pattern == "GET /verification-requests/{$}" {
			n += st.Count
		}
	}
	if n != len(cases) {
		t.Errorf("stats count %d list calls, want %d", n, len(cases))
	}
}

// Every order has its own loan_id; a reverification copies it, and the new
// request is listed first.
func TestListLoanIDs(t *testing.T) {
	sim, srv := start(t)
	_, source := mustCreate(t, sim, "completed")
	_, other := mustCreate(t, sim, "processing")
	sim.Clock.Advance(time.Minute)
	r := send(t, http.MethodPut, srv.URL+"/verification-requests/"+source+"/reverify/", twsim.TestAPIKey, versioned,
		`{"report_id":"`+sim.ReportID(source)+`"}`, "Request-Sync", "async")
	if r.status != http.StatusCreated {
		t.Fatalf("reverify: %d %s", r.status, r.body)
	}
	p := list(t, srv.URL, "")
	loans := map[string]string{}
	for _, res := range p.Results {
		loans[res.ID] = res.LoanID
		if res.Target.SSN == "" || !strings.Contains(string(res.State), "canonical_value") {
			t.Errorf("result %s is not a full versioned request", res.ID)
		}
	}
	reverified := p.Results[0].ID
	if len(p.Results) != 3 || reverified == source || reverified == other {
		t.Fatalf("results = %v, want the reverification first", ids(p))
	}
	if got := sim.Reverifications(source); len(got) != 1 || got[0] != reverified {
		t.Errorf("reverifications = %v, first listed %s", got, reverified)
	}
	if !strings.HasPrefix(loans[source], "loan-") || loans[source] == loans[other] {
		t.Errorf("loan ids: source %q, other %q", loans[source], loans[other])
	}
	if loans[reverified] != loans[source] {
		t.Errorf("reverification's loan_id %q, source's %q", loans[reverified], loans[source])
	}
	if got, _ := sim.LoanID(reverified); got != loans[source] {
		t.Errorf("LoanID = %q", got)
	}
}

func TestListAuthAndRateLimit(t *testing.T) {
	_, srv := start(t)
	if r := send(t, http.MethodGet, srv.URL+"/verification-requests/", "", versioned, ""); r.status != http.StatusUnauthorized {
		t.Errorf("no key: %d", r.status)
	}
	if r := send(t, http.MethodGet, srv.URL+"/verification-requests/", twsim.TestAPIKey, "application/json; version=2020-12-07", ""); r.status != http.StatusNotAcceptable {
		t.Errorf("old version: %d", r.status)
	}
	limited := false
	for i := 0; i < 30 && !limited; i++ {
		r := send(t, http.MethodGet, srv.URL+"/verification-requests/", twsim.LiveAPIKey, versioned, "")
		limited = r.status == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("the list is not rate limited")
	}
}
