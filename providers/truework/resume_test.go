package truework_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// A search for a lost reverification that stops short goes on where it
// stopped in the next call, and makes no call within a Retry-After it
// received. The scenarios below page a list of three pages (offsets 0, 25
// and 50) whose last holds the reverification.

// resumeEnv is a simulator whose list is three pages long, the
// reverification on the last, behind a front that logs every page asked
// for and may answer some itself; and a client on a fake clock.
type resumeEnv struct {
	t          *testing.T
	a          account
	sim        *twsim.Server
	c          *truework.Client
	clock      *clocktesting.FakePassiveClock
	source     string
	since      time.Time
	reverified string

	mu sync.Mutex
	// pages are the offsets of the list pages asked for, in order.
	pages []string
	// answer answers a page itself when it returns true.
	answer func(w http.ResponseWriter, offset string) bool
}

func newResumeEnv(t *testing.T, a account) *resumeEnv {
	t.Helper()
	sim, _, source, since, reverified := reverifiedOnce(t, a)
	for range 60 { // above the reverification: it lands on the third page
		createOrder(t, sim, "processing")
	}
	e := &resumeEnv{t: t, a: a, sim: sim, source: source, since: since, reverified: reverified.ID,
		clock: clocktesting.NewFakePassiveClock(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))}
	srv := serveFront(t, sim, e.front)
	e.c = a.client(t, srv.URL, nil)
	truework.SetClock(e.c, e.clock.Now)
	return e
}

func (e *resumeEnv) front(w http.ResponseWriter, r *http.Request) bool {
	q := r.URL.Query()
	if !q.Has("offset") {
		return false
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pages = append(e.pages, q.Get("offset"))
	return e.answer != nil && e.answer(w, q.Get("offset"))
}

// answerWith has the front answer pages with f (nil: the simulator does).
// f runs holding e.mu, and may set e.answer.
func (e *resumeEnv) answerWith(f func(w http.ResponseWriter, offset string) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.answer = f
}

// pagesSince are the offsets asked for after the first n.
func (e *resumeEnv) pagesSince(n int) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.pages[n:]...)
}

// sourceReads counts the reads of the source request (the search's first
// call), which a search that goes on does not make again.
func (e *resumeEnv) sourceReads() int {
	n := 0
	for _, ev := range e.sim.Timeline() {
		if ev.Method == http.MethodGet && (ev.Query == "verification_id="+e.source || ev.Path == "/verification-requests/"+e.source+"/") {
			n++
		}
	}
	return n
}

// find calls FindReverification under ctx.
func (e *resumeEnv) find(ctx context.Context) (providers.Observation, bool, error) {
	return e.c.FindReverification(ctx, e.source, e.since)
}

// wantFound fails unless the search found the reverification.
func (e *resumeEnv) wantFound(obs providers.Observation, found bool, err error) {
	e.t.Helper()
	if err != nil || !found || obs.ID != e.reverified {
		e.t.Fatalf("FindReverification = %q, %v, %v; want %s found", obs.ID, found, err, e.reverified)
	}
}

// budgetOf is a pacer that pays for n calls, then refuses, as the
// account's budget does when the reconcile's deadline comes first.
func budgetOf(n int) providers.Pacer {
	var mu sync.Mutex
	return func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		if n == 0 {
			return context.DeadlineExceeded
		}
		n--
		return nil
	}
}

func wantPages(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s read the pages at offsets %v, want %v", what, got, want)
	}
}

// TestFindReverificationGoesOnWhereItStopped: a search whose budget ran out
// after two pages goes on at the third in the next call, without reading
// the source again, then looks at the top of the list once more.
func TestFindReverificationGoesOnWhereItStopped(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		e := newResumeEnv(t, a)
		_, _, err := e.find(providers.WithPacer(ctx, budgetOf(3))) // the source and two pages
		if perr := wantKind(t, err, providers.KindTransient); !perr.NotSent {
			t.Fatalf("the call the budget refused: %v, want not sent", perr)
		}
		wantPages(t, "the first call", e.pagesSince(0), "0", "25")
		e.wantFound(e.find(ctx))
		wantPages(t, "the second call", e.pagesSince(2), "50", "0")
		if n := e.sourceReads(); n != 1 {
			t.Errorf("the source was read %d times, want once", n)
		}
	})
}

// TestFindReverificationGoesOnAfterAFailedPage: a page that fails on every
// attempt of a call is the page the next call reads first.
func TestFindReverificationGoesOnAfterAFailedPage(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		e := newResumeEnv(t, a)
		e.answerWith(func(w http.ResponseWriter, offset string) bool {
			if offset != "50" {
				return false
			}
			e.sim.WriteError(w, http.StatusBadGateway, "upstream failed")
			return true
		})
		_, _, err := e.find(ctx)
		wantKind(t, err, providers.KindTransient)
		wantPages(t, "the first call", e.pagesSince(0), "0", "25", "50", "50", "50")
		e.answerWith(nil)
		e.wantFound(e.find(ctx))
		wantPages(t, "the second call", e.pagesSince(5), "50", "0")
	})
}

// TestFindReverificationStopsAtRetryAfter: a page answered with a
// Retry-After, 429 or 503, ends the call at once (the page is not read
// again), and no page is asked for until the wait is over; then the search
// goes on at that page.
func TestFindReverificationStopsAtRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(strconv.Itoa(status), func(t *testing.T) { stopsAtRetryAfter(t, status) })
	}
}

func stopsAtRetryAfter(t *testing.T, status int) {
	forEachAccount(t, func(t *testing.T, a account) {
		e := newResumeEnv(t, a)
		e.answerWith(func(w http.ResponseWriter, offset string) bool {
			if offset != "25" {
				return false
			}
			e.answer = nil // once
			w.Header().Set("Retry-After", "30")
			e.sim.WriteError(w, status, "slow down")
			return true
		})
		var heard []time.Duration
		throttled := providers.WithThrottle(ctx, func(w time.Duration) { heard = append(heard, w) })
		_, _, err := e.find(throttled)
		if ra := providers.RetryAfterOf(err); ra != 30*time.Second {
			t.Fatalf("FindReverification = %v carrying %v, want the page's Retry-After of 30s", err, ra)
		}
		if !slices.Equal(heard, []time.Duration{30 * time.Second}) {
			t.Errorf("the throttle heard %v, want [30s]", heard)
		}
		wantPages(t, "the first call", e.pagesSince(0), "0", "25")

		e.clock.SetTime(e.clock.Now().Add(29 * time.Second))
		_, _, err = e.find(ctx)
		if perr := wantKind(t, err, providers.KindRateLimited); !perr.NotSent || perr.RetryAfter != time.Second {
			t.Errorf("a call within the wait: %v (%v left, not sent: %v), want 1s left, not sent", perr, perr.RetryAfter, perr.NotSent)
		}
		wantPages(t, "a call within the wait", e.pagesSince(2))

		e.clock.SetTime(e.clock.Now().Add(time.Second))
		e.wantFound(e.find(ctx))
		wantPages(t, "the call after the wait", e.pagesSince(2), "25", "50", "0")
	})
}

// TestFindReverificationSeesWhatLandedWhileStopped: the reverification
// lands (its call was still in flight) while the search is stopped, on the
// top of the list, above where the search goes on. The second look at the
// top finds it: not found would let the controller reverify again.
func TestFindReverificationSeesWhatLandedWhileStopped(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		sim.Clock.Advance(time.Hour)
		since := sim.Clock.Now()
		for range 30 {
			createOrder(t, sim, "processing")
		}
		c := a.client(t, srv.URL, nil)
		_, _, err := c.FindReverification(providers.WithPacer(ctx, budgetOf(2)), source, since) // the source and a page
		wantKind(t, err, providers.KindTransient)
		landed, err := c.Reverify(ctx, source, sim.ReportID(source))
		if err != nil {
			t.Fatal(err)
		}
		obs, found, err := c.FindReverification(ctx, source, since)
		if err != nil || !found || obs.ID != landed.ID {
			t.Fatalf("FindReverification = %q, %v, %v; want %s, which landed while the search was stopped", obs.ID, found, err, landed.ID)
		}
	})
}

// TestFindReverificationGoesOnAfterMoreThanAPageWasCreated: while the
// search is stopped, more orders are created than it had read: the page it
// goes on with starts with some of them, newer than any it read. They are
// new, not the list out of order.
func TestFindReverificationGoesOnAfterMoreThanAPageWasCreated(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		e := newResumeEnv(t, a)
		_, _, err := e.find(providers.WithPacer(ctx, budgetOf(2))) // the source and a page
		wantKind(t, err, providers.KindTransient)
		e.sim.Clock.Advance(time.Minute)
		for range 30 {
			createOrder(t, e.sim, "processing")
		}
		e.wantFound(e.find(ctx))
	})
}

// TestAKeptSearchExpires: a search not taken up again within an hour
// starts over: the source read again, the list from its top.
func TestAKeptSearchExpires(t *testing.T) {
	e := newResumeEnv(t, accounts[0])
	_, _, err := e.find(providers.WithPacer(ctx, budgetOf(3)))
	wantKind(t, err, providers.KindTransient)
	e.clock.SetTime(e.clock.Now().Add(time.Hour))
	e.wantFound(e.find(ctx))
	wantPages(t, "the call an hour later", e.pagesSince(2), "0", "25", "50")
	if n := e.sourceReads(); n != 2 {
		t.Errorf("the source was read %d times, want twice", n)
	}
}

// TestSearchesOfTwoOrdersGoOnConcurrently: one client (as the controller
// keeps one per provider) serves two stopped searches that go on at the
// same time, each with its own progress.
func TestSearchesOfTwoOrdersGoOnConcurrently(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
		setup := a.simClient(t, sim, srv) // a key of its own: c's 10 calls/s are for the searches
		var sources, reverified [2]string
		sim.Clock.Advance(time.Hour)
		since := sim.Clock.Now()
		for i := range sources {
			sources[i] = onlyRequest(t, sim, createOrder(t, sim, "completed"))
			obs, err := setup.Reverify(ctx, sources[i], sim.ReportID(sources[i]))
			if err != nil {
				t.Fatal(err)
			}
			reverified[i] = obs.ID
		}
		for range 40 {
			createOrder(t, sim, "processing")
		}
		for _, s := range sources {
			_, _, err := c.FindReverification(providers.WithPacer(ctx, budgetOf(2)), s, since)
			wantKind(t, err, providers.KindTransient)
		}
		var wg sync.WaitGroup
		errs := make([]error, len(sources))
		for i, s := range sources {
			wg.Go(func() {
				obs, found, err := c.FindReverification(ctx, s, since)
				if err == nil && (!found || obs.ID != reverified[i]) {
					err = errors.New("found " + obs.ID + ", want " + reverified[i])
				}
				errs[i] = err
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("search %d: %v", i, err)
			}
		}
	})
}

// TestReverifyStopsAtTheReportsRetryAfter: in 2023-10-30 Reverify reads the
// report, then reverifies. A report read answered with a Retry-After (a 503
// here, which otherwise lets the reverification go ahead unchecked) stops
// it: nothing is created, and the error says so (rate limited, not sent).
func TestReverifyStopsAtTheReportsRetryAfter(t *testing.T) {
	sim := twsim.New()
	source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
	srv := serveFront(t, sim, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/reports/"+sim.ReportID(source) {
			return false
		}
		w.Header().Set("Retry-After", "30")
		sim.WriteError(w, http.StatusServiceUnavailable, "down for maintenance")
		return true
	})
	c := accounts[0].client(t, srv.URL, nil)
	truework.SetClock(c, clocktesting.NewFakePassiveClock(time.Now()).Now)
	var heard []time.Duration
	_, err := c.Reverify(providers.WithThrottle(ctx, func(w time.Duration) { heard = append(heard, w) }), source, sim.ReportID(source))
	if perr := wantKind(t, err, providers.KindRateLimited); !perr.NotSent || perr.RetryAfter != 30*time.Second {
		t.Errorf("Reverify = %v (%v, not sent: %v), want the reverification not sent for 30s", perr, perr.RetryAfter, perr.NotSent)
	}
	if !slices.Equal(heard, []time.Duration{30 * time.Second}) {
		t.Errorf("the throttle heard %v, want [30s]", heard)
	}
	if n := len(sim.Reverifications(source)); n != 0 {
		t.Errorf("%d reverifications created, want none", n)
	}
	for _, ev := range sim.Timeline() {
		if ev.Method == http.MethodPost {
			t.Errorf("%s %s went within the report's Retry-After", ev.Method, ev.Path)
		}
	}
}

// TestCancelIsNotReadBackWithinARefusalsRetryAfter: a refused cancel is
// read back to tell a repeat from a refusal, unless the refusal asked to
// wait.
func TestCancelIsNotReadBackWithinARefusalsRetryAfter(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim := twsim.New()
		order := createOrder(t, sim, "completed") // all terminal: Truework refuses the cancel
		id := a.managed(t, sim, order)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPut {
				w.Header().Set("Retry-After", "20")
			}
			sim.ServeHTTP(w, r)
		}))
		t.Cleanup(srv.Close)
		_, err := a.client(t, srv.URL, nil).Cancel(ctx, id, providers.Cancellation{})
		if perr := wantKind(t, err, providers.KindRateLimited); !perr.NotSent || perr.RetryAfter != 20*time.Second {
			t.Errorf("Cancel = %v (%v, not sent: %v), want the read back not made for 20s", perr, perr.RetryAfter, perr.NotSent)
		}
		for _, call := range sim.Calls(order) {
			if call.Method == http.MethodGet {
				t.Errorf("read back within the refusal's Retry-After: %s %s", call.Method, call.Path)
			}
		}
	})
}
