package truework_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// findEnv is one FindReverification scenario on a simulator of its own (the
// list is account-wide, so scenarios must not see each other's requests).
type findEnv struct {
	t      *testing.T
	sim    *twsim.Server
	c      *truework.Client
	source string
}

// reverify makes the call whose answer the operator is taken to have lost.
func (e findEnv) reverify() string {
	e.t.Helper()
	obs, err := e.c.Reverify(ctx, e.source, e.sim.ReportID(e.source))
	if err != nil {
		e.t.Fatalf("Reverify: %v", err)
	}
	return obs.ID
}

// others creates n orders (each with a loan_id of its own).
func (e findEnv) others(n int) {
	e.t.Helper()
	for i := 0; i < n; i++ {
		createOrder(e.t, e.sim, "processing")
	}
}

// sameLoan orders another verification on the source's loan, of the given
// type and employer, after the intent: a co-borrower's, or income beside
// employment.
func (e findEnv) sameLoan(kind, employerID string) {
	e.t.Helper()
	loanID, _ := e.sim.LoanID(e.source)
	order := createOrder(e.t, e.sim, "pending-approval")
	id := onlyRequest(e.t, e.sim, order)
	if err := e.sim.SetLoanID(order, loanID); err != nil {
		e.t.Fatal(err)
	}
	if err := e.sim.SetKind(id, kind, employerID); err != nil {
		e.t.Fatal(err)
	}
}

func (e findEnv) listCalls() int {
	n := 0
	for _, st := range e.sim.Stats() {
		if st.Pattern == "GET /verification-requests/{$}" {
			n += st.Count
		}
	}
	return n
}

func TestFindReverification(t *testing.T) {
	cases := []struct {
		name string
		// setup acts after the intent was recorded at since; it returns
		// the ids FindReverification must name: none (not found), one
		// (found) or several (KindRejected listing them).
		setup    func(e findEnv, since *time.Time) []string
		wantKind providers.ErrorKind
		wantMsg  string
		check    func(e findEnv)
	}{
		{
			name:  "found after a reverify",
			setup: func(e findEnv, _ *time.Time) []string { return []string{e.reverify()} },
		},
		{
			name:  "none when no reverify happened",
			setup: func(findEnv, *time.Time) []string { return nil },
		},
		{
			name: "not confused by requests for other loans",
			setup: func(e findEnv, _ *time.Time) []string {
				e.others(2)
				id := e.reverify()
				e.others(2)
				return []string{id}
			},
		},
		{
			name:  "only other loans' requests",
			setup: func(e findEnv, _ *time.Time) []string { e.others(3); return nil },
		},
		{
			name: "another loan's reverification",
			setup: func(e findEnv, _ *time.Time) []string {
				other := onlyRequest(e.t, e.sim, createOrder(e.t, e.sim, "completed"))
				if _, err := e.c.Reverify(ctx, other, e.sim.ReportID(other)); err != nil {
					e.t.Fatal(err)
				}
				return nil
			},
		},
		{
			name: "not the co-borrower's request on the same loan",
			setup: func(e findEnv, _ *time.Time) []string {
				e.sameLoan("employment-income", "77") // another employer: the co-borrower
				return nil
			},
		},
		{
			name: "not the employment request beside the income one",
			setup: func(e findEnv, _ *time.Time) []string {
				e.sameLoan("employment", "2")
				id := e.reverify()
				return []string{id}
			},
		},
		{
			name: "found although Truework's clock is 30 minutes behind ours",
			setup: func(e findEnv, since *time.Time) []string {
				id := e.reverify()
				*since = e.sim.Clock.Now().Add(30 * time.Minute)
				return []string{id}
			},
		},
		{
			name: "several candidates",
			setup: func(e findEnv, _ *time.Time) []string {
				return []string{e.reverify(), e.reverify()}
			},
			wantKind: providers.KindOutcomeUnknown,
			wantMsg:  "a person must decide",
		},
		{
			name: "found across pages",
			setup: func(e findEnv, _ *time.Time) []string {
				id := e.reverify()
				e.others(60) // newer: the reverification is on page 3
				return []string{id}
			},
			check: func(e findEnv) {
				if n := e.listCalls(); n != 3 {
					e.t.Errorf("read %d pages, want 3", n)
				}
			},
		},
		{
			name: "reverify older than since",
			setup: func(e findEnv, since *time.Time) []string {
				e.reverify()
				e.sim.Clock.Advance(truework.ReverifyClockSkew + 10*time.Minute)
				*since = e.sim.Clock.Now()
				return nil
			},
			check: func(e findEnv) {
				if n := e.listCalls(); n != 1 {
					e.t.Errorf("read %d pages, want 1", n)
				}
			},
		},
		{
			name: "reverify within the clock skew allowance",
			setup: func(e findEnv, since *time.Time) []string {
				id := e.reverify()
				*since = e.sim.Clock.Now().Add(truework.ReverifyClockSkew - time.Minute)
				return []string{id}
			},
		},
		{
			name: "older pages are not read",
			setup: func(e findEnv, since *time.Time) []string {
				e.others(60)
				e.sim.Clock.Advance(truework.ReverifyClockSkew + time.Hour)
				*since = e.sim.Clock.Now()
				return []string{e.reverify()}
			},
			check: func(e findEnv) {
				if n := e.listCalls(); n != 1 {
					e.t.Errorf("read %d pages, want 1", n)
				}
			},
		},
		{
			name: "source without loan_id",
			setup: func(e findEnv, _ *time.Time) []string {
				e.reverify()
				if err := e.sim.SetLoanID(e.source, ""); err != nil {
					e.t.Fatal(err)
				}
				return nil
			},
			wantKind: providers.KindOutcomeUnknown,
			wantMsg:  "no loan_id",
		},
		{
			name: "too many pages within the window",
			setup: func(e findEnv, _ *time.Time) []string {
				e.reverify()
				e.others(20*25 + 1)
				return nil
			},
			wantKind: providers.KindOutcomeUnknown,
			wantMsg:  "could not determine",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sim, srv := startSim(t)
			// The page cap case reads 21 pages: stay under Truework's
			// 10 requests/s as the operator's shared limiter would.
			throttled := &http.Client{Transport: vendorhttp.Throttled(nil, rate.NewLimiter(8, 8), 5*time.Second)}
			e := findEnv{t: t, sim: sim, c: newClientWith(t, srv.URL, twsim.TestAPIKey, throttled)}
			e.source = onlyRequest(t, sim, createOrder(t, sim, "completed"))
			loanID, _ := sim.LoanID(e.source)
			sim.Clock.Advance(time.Hour) // the intent comes well after the source
			since := sim.Clock.Now()
			want := tc.setup(e, &since)

			obs, found, err := e.c.FindReverification(ctx, e.source, since)
			assertClean(t, obs, err)
			if err != nil && loanID != "" && strings.Contains(err.Error(), loanID) {
				t.Errorf("error %q shows the loan_id", err)
			}
			switch {
			case tc.wantKind != "":
				wantKind(t, err, tc.wantKind)
				if found {
					t.Error("found with an error")
				}
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error = %v, want %q", err, tc.wantMsg)
				}
				for _, id := range want {
					if !strings.Contains(err.Error(), id) {
						t.Errorf("error = %v, want it to name %s", err, id)
					}
				}
			case err != nil:
				t.Fatalf("FindReverification: %v", err)
			case len(want) == 0:
				if found {
					t.Errorf("found %+v, want nothing", obs)
				}
			default:
				if !found || obs.ID != want[0] || obs.VendorState != "pending-approval" || obs.State != providers.StateActive ||
					len(obs.Requests) != 1 || obs.Requests[0].ID != want[0] {
					t.Errorf("found=%v %+v, want %s pending-approval", found, obs, want[0])
				}
			}
			if tc.check != nil {
				tc.check(e)
			}
			if n := sim.CountCalls(sim.OrderOf(e.source), http.MethodPut); n != len(sim.Reverifications(e.source)) {
				t.Errorf("FindReverification made PUT calls")
			}
		})
	}
}

func TestFindReverificationErrors(t *testing.T) {
	t.Run("unknown source", func(t *testing.T) {
		_, srv := startSim(t)
		_, _, err := newClient(t, srv.URL, twsim.TestAPIKey).FindReverification(ctx, "AAAAAAAAnosuchrequest", time.Now())
		wantKind(t, err, providers.KindNotFound)
	})
	t.Run("empty id", func(t *testing.T) {
		_, srv := startSim(t)
		_, _, err := newClient(t, srv.URL, twsim.TestAPIKey).FindReverification(ctx, "", time.Now())
		wantKind(t, err, providers.KindRejected)
	})
	t.Run("list unavailable", func(t *testing.T) {
		sim := twsim.New()
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/verification-requests/" {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			sim.ServeHTTP(w, r)
		}))
		defer srv.Close()
		_, _, err := newClient(t, srv.URL, twsim.TestAPIKey).FindReverification(ctx, source, time.Now())
		wantKind(t, err, providers.KindTransient)
	})
}

// Lists shaped in ways the simulator never serves, from a fake Truework.
func TestFindReverificationListShapes(t *testing.T) {
	const source = `{"id":"SRC","state":"completed","created":"2024-01-01T00:00:00.000000Z","loan_id":"loan-7"}`
	since := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	item := func(id, created, loan string) string {
		return fmt.Sprintf(`{"id":%q,"state":"pending-approval","created":%q,"loan_id":%q,"target":{"social_security_number":"437-28-9163"}}`, id, created, loan)
	}
	newer, newest, older := "2024-03-01T12:00:05.000000Z", "2024-03-01T12:00:09.000000Z", "2024-02-01T00:00:00Z"
	page := func(next string, items ...string) string {
		n := "null"
		if next != "" {
			n = fmt.Sprintf("%q", next)
		}
		return fmt.Sprintf(`{"count":99,"next":%s,"previous":null,"results":[%s]}`, n, strings.Join(items, ","))
	}
	cases := []struct {
		name     string
		pages    map[string]string // offset -> body
		wantID   string
		wantKind providers.ErrorKind
		wantMsg  string
	}{
		{
			name: "next on another host: only its offset is used",
			pages: map[string]string{
				"0":  page("https://elsewhere.example/v/?limit=25&offset=25", item("A", newest, "loan-8")),
				"25": page("", item("NEW", newer, "loan-7"), item("SRC", older, "loan-7")),
			},
			wantID: "NEW",
		},
		{
			name: "a result repeated across pages counts once",
			pages: map[string]string{
				"0":  page("http://x/verification-requests/?limit=25&offset=25", item("A", newest, "loan-8"), item("NEW", newer, "loan-7")),
				"25": page("", item("NEW", newer, "loan-7"), item("SRC", older, "loan-7")),
			},
			wantID: "NEW",
		},
		{
			name:     "not newest first",
			pages:    map[string]string{"0": page("", item("NEW", newer, "loan-7"), item("B", newest, "loan-8"))},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "newest-first",
		},
		{
			name:     "next without a later offset",
			pages:    map[string]string{"0": page("http://x/verification-requests/?limit=25", item("A", newest, "loan-8"))},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "offset",
		},
		{
			name:     "candidate without a created date",
			pages:    map[string]string{"0": page("", item("NEW", "", "loan-7"))},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "created",
		},
		{
			name:  "empty list",
			pages: map[string]string{"0": page("")},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch {
				case r.URL.Path == "/verification-requests/SRC/":
					_, _ = w.Write([]byte(source))
				case r.URL.Path == "/verification-requests/" && r.URL.Query().Get("limit") == "25":
					body, ok := tc.pages[r.URL.Query().Get("offset")]
					if !ok {
						http.NotFound(w, r)
						return
					}
					_, _ = w.Write([]byte(body))
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			obs, found, err := newClient(t, srv.URL, twsim.TestAPIKey).FindReverification(ctx, "SRC", since)
			assertClean(t, obs, err)
			if tc.wantKind != "" {
				wantKind(t, err, tc.wantKind)
				if !strings.Contains(err.Error(), tc.wantMsg) {
					t.Errorf("error = %v, want %q", err, tc.wantMsg)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindReverification: %v", err)
			}
			if found != (tc.wantID != "") || obs.ID != tc.wantID {
				t.Errorf("found=%v %+v, want %q", found, obs, tc.wantID)
			}
		})
	}
}
