package truework_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// findEnv is one FindReverification scenario on a simulator of its own (the
// list is account-wide, so scenarios must not see each other's requests).
type findEnv struct {
	t      *testing.T
	sim    *twsim.Server
	c      *truework.Client
	source string
	// pages counts the list pages read.
	pages *atomic.Int32
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
func (e findEnv) sameLoan(kind string, employerID int) {
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

func (e findEnv) listCalls() int { return int(e.pages.Load()) }

// countPages counts the calls that read a page of a list (they name an
// offset; a lookup by verification_id does not).
type countPages struct {
	next  http.RoundTripper
	pages *atomic.Int32
}

func (c countPages) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Has("offset") {
		c.pages.Add(1)
	}
	return c.next.RoundTrip(r)
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
				e.sameLoan("employment-income", 77) // another employer: the co-borrower
				return nil
			},
		},
		{
			name: "not the employment request beside the income one",
			setup: func(e findEnv, _ *time.Time) []string {
				e.sameLoan("employment", 2)
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
	forEachAccount(t, func(t *testing.T, a account) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				sim, srv := startSim(t)
				// The page cap case reads 21 pages: stay under Truework's
				// 10 requests/s, paying for each page as the operator's
				// budget does (providers.Pacer).
				pages := &atomic.Int32{}
				counted := &http.Client{Transport: countPages{pages: pages, next: http.DefaultTransport}}
				e := findEnv{t: t, sim: sim, c: a.client(t, srv.URL, counted), pages: pages}
				lim := rate.NewLimiter(8, 8)
				ctx := providers.WithPacer(ctx, lim.Wait)
				e.source = onlyRequest(t, sim, createOrder(t, sim, "completed"))
				loanID, _ := sim.LoanID(e.source)
				sim.Clock.Advance(time.Hour) // the intent comes well after the source
				since := sim.Clock.Now()
				want := tc.setup(e, &since)
				pages.Store(0)

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
				mutations := 0
				for _, call := range sim.Calls(sim.OrderOf(e.source)) {
					if call.Method != http.MethodGet {
						mutations++
					}
				}
				if mutations != len(sim.Reverifications(e.source)) {
					t.Errorf("FindReverification made mutating calls")
				}
			})
		}
	})
}

func TestFindReverificationErrors(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		t.Run("unknown source", func(t *testing.T) {
			_, srv := startSim(t)
			_, _, err := a.client(t, srv.URL, nil).FindReverification(ctx, "AAAAAAAAnosuchrequest", time.Now())
			wantKind(t, err, providers.KindNotFound)
		})
		t.Run("empty id", func(t *testing.T) {
			_, srv := startSim(t)
			_, _, err := a.client(t, srv.URL, nil).FindReverification(ctx, "", time.Now())
			wantKind(t, err, providers.KindRejected)
		})
		t.Run("list unavailable", func(t *testing.T) {
			sim := twsim.New()
			source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			srv := serveFront(t, sim, func(w http.ResponseWriter, r *http.Request) bool {
				if !r.URL.Query().Has("offset") {
					return false
				}
				w.WriteHeader(http.StatusServiceUnavailable)
				return true
			})
			_, _, err := a.client(t, srv.URL, nil).FindReverification(ctx, source, time.Now())
			wantKind(t, err, providers.KindTransient)
		})
	})
}

// Lists shaped in ways the simulator never serves, from a fake Truework:
// the same requests listed alone (older versions) or in orders
// (2023-10-30, where the employer's id is an integer and a request may
// leave its loan_id to its order).
func TestFindReverificationListShapes(t *testing.T) {
	const source = `{"id":"SRC","state":"completed","created":"2024-01-01T00:00:00.000000Z","loan_id":"loan-7","type":"employment","target":{"company":{"id":%s}}}`
	since := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	type item struct{ id, created, loan string }
	newer, newest, older := "2024-03-01T12:00:05.000000Z", "2024-03-01T12:00:09.000000Z", "2024-02-01T00:00:00Z"
	cases := []struct {
		name     string
		pages    map[string][]item // offset -> results
		next     map[string]string // offset -> next link
		wantID   string
		wantKind providers.ErrorKind
		wantMsg  string
	}{
		{
			name:   "next on another host: only its offset is used",
			pages:  map[string][]item{"0": {{"A", newest, "loan-8"}}, "25": {{"NEW", newer, "loan-7"}, {"SRC", older, "loan-7"}}},
			next:   map[string]string{"0": "https://elsewhere.example/v/?limit=25&offset=25"},
			wantID: "NEW",
		},
		{
			name:   "a result repeated across pages counts once",
			pages:  map[string][]item{"0": {{"A", newest, "loan-8"}, {"NEW", newer, "loan-7"}}, "25": {{"NEW", newer, "loan-7"}, {"SRC", older, "loan-7"}}},
			next:   map[string]string{"0": "http://x/list/?limit=25&offset=25"},
			wantID: "NEW",
		},
		{
			name:     "not newest first",
			pages:    map[string][]item{"0": {{"NEW", newer, "loan-7"}, {"B", newest, "loan-8"}}},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "newest-first",
		},
		{
			name:     "next without a later offset",
			pages:    map[string][]item{"0": {{"A", newest, "loan-8"}}},
			next:     map[string]string{"0": "http://x/list/?limit=25"},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "offset",
		},
		{
			name:     "candidate without a created date",
			pages:    map[string][]item{"0": {{"NEW", "", "loan-7"}}},
			wantKind: providers.KindOutcomeUnknown, wantMsg: "created",
		},
		{
			name:  "empty list",
			pages: map[string][]item{"0": {}},
		},
	}
	forEachAccount(t, func(t *testing.T, a account) {
		// The employer's id: an integer in 2023-10-30, a string before.
		employer := `"2"`
		if a.orders() {
			employer = `2`
		}
		request := func(it item, loan bool) string {
			loanID := "null"
			if loan {
				loanID = fmt.Sprintf("%q", it.loan)
			}
			return fmt.Sprintf(`{"id":%q,"state":"pending-approval","created":%q,"loan_id":%s,"type":"employment",`+
				`"target":{"social_security_number":"437-28-9163","company":{"id":%s}}}`, it.id, it.created, loanID, employer)
		}
		// entry lists a request alone, or in an order that holds its
		// loan_id (the request's own is null).
		entry := func(it item) string {
			if !a.orders() {
				return request(it, true)
			}
			return fmt.Sprintf(`{"id":"O-%s","loan_id":%q,"verification_requests":[%s]}`, it.id, it.loan, request(it, false))
		}
		page := func(next string, items []item) string {
			n := "null"
			if next != "" {
				n = fmt.Sprintf("%q", next)
			}
			entries := make([]string, 0, len(items))
			for _, it := range items {
				entries = append(entries, entry(it))
			}
			return fmt.Sprintf(`{"count":99,"next":%s,"previous":null,"results":[%s]}`, n, strings.Join(entries, ","))
		}
		src := fmt.Sprintf(source, employer)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					q := r.URL.Query()
					switch {
					case r.URL.Path == "/verification-requests/SRC/" && !a.orders():
						_, _ = w.Write([]byte(src))
					case r.URL.Path == "/orders" && q.Get("verification_id") == "SRC" && a.orders():
						_, _ = fmt.Fprintf(w, `{"count":1,"next":null,"previous":null,"results":[{"id":"O-SRC","loan_id":"loan-7","verification_requests":[%s]}]}`, src)
					case r.URL.Path == map[bool]string{true: "/orders", false: "/verification-requests/"}[a.orders()] && q.Get("limit") == "25":
						items, ok := tc.pages[q.Get("offset")]
						if !ok {
							http.NotFound(w, r)
							return
						}
						_, _ = w.Write([]byte(page(tc.next[q.Get("offset")], items)))
					default:
						http.NotFound(w, r)
					}
				}))
				defer srv.Close()
				obs, found, err := a.client(t, srv.URL, nil).FindReverification(ctx, "SRC", since)
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
	})
}

// reverifiedOnce makes a completed request and reverifies it an hour
// later (since), on a simulator of its own.
func reverifiedOnce(t *testing.T, a account) (sim *twsim.Server, srv *httptest.Server, source string, since time.Time, reverified providers.Observation) {
	t.Helper()
	sim, srv = startSim(t)
	source = onlyRequest(t, sim, createOrder(t, sim, "completed"))
	sim.Clock.Advance(time.Hour)
	since = sim.Clock.Now()
	reverified, err := a.client(t, srv.URL, nil).Reverify(ctx, source, sim.ReportID(source))
	if err != nil {
		t.Fatal(err)
	}
	return sim, srv, source, since, reverified
}

// TestFindReverificationWhileOrdersAreCreated: orders created while the
// search pages shift the list down, so the next page starts with groups
// the page before ended with. That repeat is not the list going out of
// newest-first order.
func TestFindReverificationWhileOrdersAreCreated(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv, source, since, reverified := reverifiedOnce(t, a)
		for range 30 { // more than a page of 25
			createOrder(t, sim, "processing")
		}
		var pages atomic.Int32
		shifting := &http.Client{Transport: afterPage{next: http.DefaultTransport, pages: &pages, each: func() {
			createOrder(t, sim, "processing") // two land at the top while we page
			createOrder(t, sim, "processing")
		}}}
		obs, found, err := a.client(t, srv.URL, shifting).FindReverification(ctx, source, since)
		if err != nil || !found || obs.ID != reverified.ID {
			t.Fatalf("FindReverification = %v, %v, %v; want %s found (after %d pages)", obs.ID, found, err, reverified.ID, pages.Load())
		}
		if pages.Load() < 2 {
			t.Fatalf("read %d pages; the test needs the search to page", pages.Load())
		}
	})
}

// afterPage calls each after every list page it fetched.
type afterPage struct {
	next  http.RoundTripper
	pages *atomic.Int32
	each  func()
}

func (p afterPage) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := p.next.RoundTrip(r)
	if err == nil && r.URL.Query().Has("offset") {
		p.pages.Add(1)
		p.each()
	}
	return resp, err
}

// TestFindReverificationReadsAFailedPageAgain: a search reads many pages in
// one go; a page lost on the way (a 503) is read again, not the whole
// search given up.
func TestFindReverificationReadsAFailedPageAgain(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		_, srv, source, since, reverified := reverifiedOnce(t, a)
		var seen, failed atomic.Int32
		flaky := &http.Client{Transport: failFirstPages{next: http.DefaultTransport, left: 2, seen: &seen, failed: &failed}}
		obs, found, err := a.client(t, srv.URL, flaky).FindReverification(ctx, source, since)
		if err != nil || !found || obs.ID != reverified.ID || failed.Load() != 2 {
			t.Fatalf("FindReverification = %v, %v, %v after %d failed pages; want %s found", obs.ID, found, err, failed.Load(), reverified.ID)
		}
	})
}

// failFirstPages answers the first left list pages with a 503.
type failFirstPages struct {
	next         http.RoundTripper
	left         int32
	seen, failed *atomic.Int32
}

func (f failFirstPages) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Has("offset") && f.seen.Add(1) <= f.left {
		f.failed.Add(1)
		rec := httptest.NewRecorder()
		rec.WriteHeader(http.StatusServiceUnavailable)
		return rec.Result(), nil
	}
	return f.next.RoundTrip(r)
}
