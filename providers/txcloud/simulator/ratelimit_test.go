package simulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	sim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

// The plans as txcloud's "Rate limits" page states them, restated here
// rather than read from the simulator: Free 60/min, 1,000/day, burst 10;
// Starter 300/min, 10,000/day, burst 50; Growth 1,000/min, 100,000/day,
// burst 100.
var documentedPlans = []struct {
	name                     string
	perMinute, perDay, burst int
}{
	{"free", 60, 1000, 10},
	{"starter", 300, 10000, 50},
	{"growth", 1000, 100000, 100},
}

// answer is one API call's outcome, served in-process (no sockets), so the
// day's quotas can be spent quickly.
type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// read serves one GET of path.
func read(t *testing.T, s *sim.Server, path, key string) answer {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	return answer{status: rec.Code, header: rec.Header(), body: body}
}

// spend makes n admitted calls (each a read of an unknown verification,
// which counts like any other), failing on the first refusal.
func spend(t *testing.T, s *sim.Server, key string, n int) {
	t.Helper()
	for i := range n {
		if a := read(t, s, verificationPath("ver_000000000000"), key); a.status != http.StatusNotFound {
			t.Fatalf("call %d of %d: HTTP %d %v", i+1, n, a.status, a.body)
		}
	}
}

func headerInt(t *testing.T, h http.Header, name string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(h.Get(name), 10, 64)
	if err != nil {
		t.Fatalf("%s = %q: %v", name, h.Get(name), err)
	}
	return v
}

// startOfNextUTCDay moves the simulator's clock to one minute past the next
// UTC midnight, so a test has a whole day before it.
func startOfNextUTCDay(s *sim.Server) {
	now := s.Clock.Now().UTC()
	next := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 1, 0, 0, time.UTC)
	s.Clock.Advance(next.Sub(now))
}

func nextUTCMidnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
}

// want429 checks a refusal's status, Retry-After (within a second of
// retryAfter, the clock moving on meanwhile) and documented body.
func want429(t *testing.T, a answer, retryAfter time.Duration) {
	t.Helper()
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("HTTP %d, want 429: %v", a.status, a.body)
	}
	ra := int(headerInt(t, a.header, "Retry-After"))
	if want := int(retryAfter.Round(time.Second) / time.Second); ra < want-1 || ra > want+1 {
		t.Errorf("Retry-After %d, want about %d", ra, want)
	}
	if errorField(a.body, "code") != "rate_limit_exceeded" || errorField(a.body, "type") != "rate_limit_error" ||
		errorField(a.body, "retry_after") != float64(ra) || errorField(a.body, "message") == "" {
		t.Errorf("429 body %v: want the documented rate_limit_error with retry_after %d", a.body, ra)
	}
}

// wantWindow checks the X-RateLimit-* headers describe the window.
func wantWindow(t *testing.T, h http.Header, limit, remaining int, window time.Duration, reset time.Time) {
	t.Helper()
	if got := headerInt(t, h, "X-RateLimit-Limit"); got != int64(limit) {
		t.Errorf("X-RateLimit-Limit %d, want %d", got, limit)
	}
	if got := headerInt(t, h, "X-RateLimit-Remaining"); got != int64(remaining) {
		t.Errorf("X-RateLimit-Remaining %d, want %d", got, remaining)
	}
	if got := headerInt(t, h, "X-RateLimit-Window"); got != int64(window/time.Second) {
		t.Errorf("X-RateLimit-Window %d, want %d", got, int64(window/time.Second))
	}
	if got := headerInt(t, h, "X-RateLimit-Reset"); got < reset.Unix()-1 || got > reset.Unix()+1 {
		t.Errorf("X-RateLimit-Reset %d, want about %d (%s)", got, reset.Unix(), reset.UTC().Format(time.RFC3339))
	}
}

func TestPlansAreTheDocumentedOnes(t *testing.T) {
	if len(sim.Plans) != len(documentedPlans) {
		t.Fatalf("%d plans, txcloud documents %d", len(sim.Plans), len(documentedPlans))
	}
	for _, d := range documentedPlans {
		p, ok := sim.PlanNamed(strings.ToUpper(d.name))
		if !ok || p.Name != d.name || p.PerMinute != d.perMinute || p.PerDay != d.perDay || p.Burst != d.burst {
			t.Errorf("plan %s = %+v (found %v), want %d/min, %d/day, burst %d", d.name, p, ok, d.perMinute, d.perDay, d.burst)
		}
	}
	if _, ok := sim.PlanNamed("enterprise"); ok {
		t.Error("an undocumented plan was found")
	}
}

// Every key starts on Free, the sandbox's test key included; each plan's
// per-minute limit refuses the next call with the minute's Retry-After, and
// the next minute admits calls again.
func TestPerMinuteLimitOfEachPlan(t *testing.T) {
	for _, d := range documentedPlans {
		t.Run(d.name, func(t *testing.T) {
			s := sim.New()
			startOfNextUTCDay(s)
			if d.name != "free" {
				p, _ := sim.PlanNamed(d.name)
				s.SetPlan(sim.TestAPIKey, p)
			}
			first := read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			start := s.Clock.Now()
			wantWindow(t, first.header, d.perMinute, d.perMinute-1, time.Minute, start.Add(time.Minute))
			spend(t, s, sim.TestAPIKey, d.perMinute-1)
			refused := read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			want429(t, refused, start.Add(time.Minute).Sub(s.Clock.Now()))
			wantWindow(t, refused.header, d.perMinute, 0, time.Minute, start.Add(time.Minute))
			// Another key has its own budget.
			if a := read(t, s, verificationPath("ver_000000000000"), sim.LiveAPIKey); a.status != http.StatusNotFound {
				t.Errorf("another key: HTTP %d", a.status)
			}
			s.Clock.Advance(time.Minute)
			if a := read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey); a.status != http.StatusNotFound {
				t.Errorf("next minute: HTTP %d, want the call admitted", a.status)
			}
		})
	}
}

// The day's quota: once spent, every call that day is refused with
// Retry-After up to the next UTC midnight and the day window in the
// headers; the headers switch to the day window as soon as it has less left
// than the minute window; the next UTC day starts afresh.
func TestPerDayLimitOfEachPlan(t *testing.T) {
	for _, d := range documentedPlans {
		t.Run(d.name, func(t *testing.T) {
			s := sim.New()
			startOfNextUTCDay(s)
			p, _ := sim.PlanNamed(d.name)
			s.SetPlan(sim.TestAPIKey, p)
			spent := 0
			// Whole minutes of calls, leaving less than a minute's worth
			// of the day.
			for d.perDay-spent > d.perMinute {
				spend(t, s, sim.TestAPIKey, d.perMinute)
				spent += d.perMinute
				s.Clock.Advance(time.Minute)
			}
			// A fresh minute: the day now has less left than the minute,
			// and the headers say so.
			a := read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			spent++
			midnight := nextUTCMidnight(s.Clock.Now())
			if d.perDay-spent < d.perMinute-1 {
				wantWindow(t, a.header, d.perDay, d.perDay-spent, 24*time.Hour, midnight)
			} else {
				wantWindow(t, a.header, d.perMinute, d.perMinute-1, time.Minute, s.Clock.Now().Add(time.Minute))
			}
			spend(t, s, sim.TestAPIKey, d.perDay-spent)
			refused := read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			want429(t, refused, midnight.Sub(s.Clock.Now()))
			wantWindow(t, refused.header, d.perDay, 0, 24*time.Hour, midnight)
			// Still refused a minute later: it is the day that is spent.
			s.Clock.Advance(time.Minute)
			refused = read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			want429(t, refused, midnight.Sub(s.Clock.Now()))
			// A refused call spends nothing, and the next UTC day admits calls.
			s.Clock.Advance(midnight.Sub(s.Clock.Now()))
			a = read(t, s, verificationPath("ver_000000000000"), sim.TestAPIKey)
			if a.status != http.StatusNotFound {
				t.Fatalf("after midnight: HTTP %d %v", a.status, a.body)
			}
			wantWindow(t, a.header, d.perMinute, d.perMinute-1, time.Minute, s.Clock.Now().Add(time.Minute))
		})
	}
}

// The burst is the number of calls a key may have in flight at once: one
// more is refused at once, and once they are answered calls go through.
func TestBurstCapsConcurrentCalls(t *testing.T) {
	for _, d := range []struct {
		plan  sim.Plan
		burst int
	}{{sim.PlanFree, 10}, {sim.PlanGrowth, 100}} {
		t.Run(d.plan.Name, func(t *testing.T) {
			s := sim.New()
			startOfNextUTCDay(s)
			s.SetPlan(sim.TestAPIKey, d.plan)
			id, _ := s.CreateOrder(sim.StatePending)
			arrived, release := s.HoldRequests()
			defer release()
			var wg sync.WaitGroup
			statuses := make(chan int, d.burst)
			for range d.burst {
				wg.Add(1)
				go func() {
					defer wg.Done()
					statuses <- read(t, s, verificationPath(id), sim.TestAPIKey).status
				}()
			}
			for i := range d.burst {
				select {
				case <-arrived:
				case <-time.After(30 * time.Second):
					t.Fatalf("only %d of %d calls arrived", i, d.burst)
				}
			}
			// One more: refused at once. Were it admitted, it would be
			// held like the others and arrive instead.
			extra := make(chan answer, 1)
			go func() { extra <- read(t, s, verificationPath(id), sim.TestAPIKey) }()
			var refused answer
			select {
			case refused = <-extra:
			case <-arrived:
				t.Fatalf("call %d of a burst of %d was admitted", d.burst+1, d.burst)
			}
			want429(t, refused, time.Second)
			if msg, _ := errorField(refused.body, "message").(string); !strings.Contains(msg, fmt.Sprint(d.burst)) {
				t.Errorf("message %q does not name the burst", msg)
			}
			release()
			wg.Wait()
			close(statuses)
			for st := range statuses {
				if st != http.StatusOK {
					t.Errorf("a call within the burst: HTTP %d", st)
				}
			}
			if a := read(t, s, verificationPath(id), sim.TestAPIKey); a.status != http.StatusOK {
				t.Errorf("after the burst: HTTP %d", a.status)
			}
		})
	}
}

// The sandbox puts a key on a plan through the admin API.
func TestAdminSetsAPlan(t *testing.T) {
	s, ts := start(t)
	put := func(body string) int {
		t.Helper()
		req, _ := http.NewRequest("PUT", ts.URL+"/_sandbox/plans", strings.NewReader(body))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := put(`{"apiKey":"` + sim.TestAPIKey + `","plan":"starter"}`); st != 200 {
		t.Fatalf("PUT /_sandbox/plans: %d", st)
	}
	for _, bad := range []string{`{"apiKey":"` + sim.TestAPIKey + `","plan":"enterprise"}`, `{"plan":"growth"}`, `{"apiKey":"k","plan":"free","x":1}`} {
		if st := put(bad); st != 400 {
			t.Errorf("%s: %d, want 400", bad, st)
		}
	}
	id, _ := s.CreateOrder(sim.StatePending)
	if _, h, _ := call(t, ts, "GET", verificationPath(id), bearer); h.Get("X-RateLimit-Limit") != "300" || h.Get("X-RateLimit-Window") != "60" {
		t.Errorf("after moving to starter: limit %q window %q", h.Get("X-RateLimit-Limit"), h.Get("X-RateLimit-Window"))
	}
	if _, h, _ := call(t, ts, "GET", verificationPath(id), "Bearer "+sim.LiveAPIKey); h.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("a key left alone: limit %q, want Free's 60", h.Get("X-RateLimit-Limit"))
	}
}
