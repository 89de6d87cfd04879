package simkit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// fakeVendor is the smallest simkit.Backend: orders in a map, two states.
// Ids of the form "req-<order>" are parts of an order.
type fakeVendor struct {
	mu     sync.Mutex
	next   int
	orders map[string]string
}

var fakeStates = map[string]bool{"pending": true, "completed": true}

func (v *fakeVendor) CreateOrder(state string) (string, error) {
	if !fakeStates[state] {
		return "", simkit.ErrUnknownState
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.next++
	id := fmt.Sprintf("ord-%d", v.next)
	v.orders[id] = state
	return id, nil
}

func (v *fakeVendor) OrderState(id string) (string, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.orders[id]
	return s, ok
}

func (v *fakeVendor) SetOrderState(id, state string) error {
	if !fakeStates[state] {
		return simkit.ErrUnknownState
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.orders[id]; !ok {
		return simkit.ErrNoOrder
	}
	v.orders[id] = state
	return nil
}

func (v *fakeVendor) OrderOf(pathID string) string { return strings.TrimPrefix(pathID, "req-") }

func (v *fakeVendor) WriteError(w http.ResponseWriter, status int, message string) {
	simkit.WriteJSON(w, status, map[string]string{"fault": message})
}

// sim is a running fake vendor simulator.
type sim struct {
	t      *testing.T
	s      *simkit.Server
	vendor *fakeVendor
	url    string
	http   *http.Client
}

// newSim starts a simulator with two vendor routes:
// GET /api/orders/{id} (the order's state) and
// POST /api/orders/{id}/complete (moves it to completed).
func newSim(t *testing.T) *sim {
	t.Helper()
	v := &fakeVendor{orders: map[string]string{}}
	s := simkit.New(v, 0, 0)
	s.Handle("GET /api/orders/{id}", func(w http.ResponseWriter, r *http.Request) {
		state, ok := v.OrderState(v.OrderOf(r.PathValue("id")))
		if !ok {
			v.WriteError(w, http.StatusNotFound, "no such order")
			return
		}
		simkit.WriteJSON(w, http.StatusOK, map[string]string{"state": state})
	})
	s.Handle("POST /api/orders/{id}/complete", func(w http.ResponseWriter, r *http.Request) {
		if err := v.SetOrderState(r.PathValue("id"), "completed"); err != nil {
			v.WriteError(w, http.StatusNotFound, err.Error())
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &sim{t: t, s: s, vendor: v, url: srv.URL, http: srv.Client()}
}

// call sends a request with an optional JSON body and returns the status,
// the headers and the body. It fails the test on a transport error.
func (m *sim) call(method, path string, body any) (int, http.Header, []byte) {
	m.t.Helper()
	resp, err := m.try(method, path, body)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		m.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

func (m *sim) try(method, path string, body any) (*http.Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			m.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, m.url+path, rd)
	if err != nil {
		m.t.Fatal(err)
	}
	return m.http.Do(req)
}

// callJSON is call that expects status want and decodes the body into out.
func (m *sim) callJSON(method, path string, body any, want int, out any) {
	m.t.Helper()
	status, _, b := m.call(method, path, body)
	if status != want {
		m.t.Fatalf("%s %s = %d %s, want %d", method, path, status, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			m.t.Fatalf("%s %s: body %q: %v", method, path, b, err)
		}
	}
}

func (m *sim) create(state string) string {
	m.t.Helper()
	var out struct{ ID string }
	m.callJSON("POST", "/_sandbox/orders", map[string]string{"state": state}, http.StatusCreated, &out)
	if out.ID == "" {
		m.t.Fatal("POST /_sandbox/orders returned no id")
	}
	return out.ID
}

type orderView struct {
	ID    string        `json:"id"`
	State string        `json:"state"`
	Calls []simkit.Call `json:"calls"`
}

func (m *sim) order(id string) orderView {
	m.t.Helper()
	var v orderView
	m.callJSON("GET", "/_sandbox/orders/"+id, nil, http.StatusOK, &v)
	return v
}

func (m *sim) setFaults(f any) {
	m.t.Helper()
	m.callJSON("PUT", "/_sandbox/faults", f, http.StatusOK, nil)
}

func TestAdminCreateAndGet(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")

	status, _, raw := m.call("GET", "/_sandbox/orders/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("GET order = %d", status)
	}
	// The contract's field names, with an empty call log as [] not null.
	var generic map[string]json.RawMessage
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	if got := string(generic["calls"]); got != "[]" {
		t.Errorf("calls of a new order = %s, want []", got)
	}
	if v := m.order(id); v.ID != id || v.State != "pending" {
		t.Errorf("order = %+v, want %s pending", v, id)
	}

	cases := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{name: "unknown state", method: "POST", path: "/_sandbox/orders", body: map[string]string{"state": "exploded"}, want: 400},
		{name: "unknown field", method: "POST", path: "/_sandbox/orders", body: `{"state":"pending","ssn":"x"}`, want: 400},
		{name: "not json", method: "POST", path: "/_sandbox/orders", body: `state=pending`, want: 400},
		{name: "unknown id", method: "GET", path: "/_sandbox/orders/ord-404", want: 404},
		{name: "set state unknown id", method: "POST", path: "/_sandbox/orders/ord-404/state", body: map[string]string{"state": "completed"}, want: 404},
		{name: "set unknown state", method: "POST", path: "/_sandbox/orders/" + id + "/state", body: map[string]string{"state": "exploded"}, want: 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, b := m.call(c.method, c.path, c.body)
			if status != c.want {
				t.Errorf("%s %s = %d %s, want %d", c.method, c.path, status, b, c.want)
			}
			var e struct{ Error string }
			if json.Unmarshal(b, &e) != nil || e.Error == "" {
				t.Errorf("error body %q has no \"error\"", b)
			}
		})
	}
	if v := m.order(id); v.State != "pending" {
		t.Errorf("failed admin calls changed the order: %+v", v)
	}
}

func TestAdminSetState(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	var v orderView
	m.callJSON("POST", "/_sandbox/orders/"+id+"/state", map[string]string{"state": "completed"}, http.StatusOK, &v)
	if v.ID != id || v.State != "completed" {
		t.Errorf("set state answered %+v, want %s completed", v, id)
	}
	if got := m.order(id).State; got != "completed" {
		t.Errorf("state = %q after the move, want completed", got)
	}
	if got, _ := m.vendor.OrderState(id); got != "completed" {
		t.Errorf("vendor state = %q, want completed", got)
	}
}

func TestCallLog(t *testing.T) {
	m := newSim(t)
	a, b := m.create("pending"), m.create("pending")

	m.callJSON("GET", "/api/orders/"+a, nil, http.StatusOK, nil)
	m.callJSON("GET", "/api/orders/req-"+a, nil, http.StatusOK, nil) // a part of order a
	m.callJSON("POST", "/api/orders/"+a+"/complete", nil, http.StatusAccepted, nil)
	m.callJSON("GET", "/api/orders/nope", nil, http.StatusNotFound, nil)
	m.callJSON("GET", "/api/orders/"+b, nil, http.StatusOK, nil)
	m.order(a) // admin calls are not logged

	want := []simkit.Call{
		{Method: "GET", Path: "/api/orders/" + a, Status: 200},
		{Method: "GET", Path: "/api/orders/req-" + a, Status: 200},
		{Method: "POST", Path: "/api/orders/" + a + "/complete", Status: 202},
	}
	got := m.order(a)
	if got.State != "completed" {
		t.Errorf("state = %q, want completed", got.State)
	}
	assertCalls(t, got.Calls, want)
	assertCalls(t, m.order(b).Calls, []simkit.Call{{Method: "GET", Path: "/api/orders/" + b, Status: 200}})
	if n := m.s.CountCalls(a, "GET"); n != 2 {
		t.Errorf("CountCalls(GET) = %d, want 2", n)
	}
}

func assertCalls(t *testing.T, got, want []simkit.Call) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("calls = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("call %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestFaultStatuses(t *testing.T) {
	cases := []struct {
		name       string
		status     int
		retryAfter int
		wantHeader string
	}{
		{name: "429 with Retry-After", status: 429, retryAfter: 3, wantHeader: "3"},
		{name: "503 with Retry-After", status: 503, retryAfter: 1, wantHeader: "1"},
		{name: "500 never has Retry-After", status: 500, retryAfter: 2},
		{name: "429 without retryAfterSeconds", status: 429},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newSim(t)
			id := m.create("pending")
			m.setFaults(map[string]any{"rate": 1, "statuses": []int{c.status}, "retryAfterSeconds": c.retryAfter})

			status, h, body := m.call("GET", "/api/orders/"+id, nil)
			if status != c.status || h.Get("Retry-After") != c.wantHeader {
				t.Errorf("vendor route = %d Retry-After %q, want %d %q", status, h.Get("Retry-After"), c.status, c.wantHeader)
			}
			if !strings.Contains(string(body), `"fault":"injected fault"`) {
				t.Errorf("fault body %s is not in the vendor's error format", body)
			}
			// Faults stay out of the admin API.
			v := m.order(id)
			assertCalls(t, v.Calls, []simkit.Call{{Method: "GET", Path: "/api/orders/" + id, Status: c.status}})
			m.create("completed")
			m.callJSON("POST", "/_sandbox/orders/"+id+"/state", map[string]string{"state": "completed"}, 200, nil)
			m.callJSON("GET", "/_sandbox/stats", nil, 200, nil)
		})
	}
}

func TestFaultsDefaultAndReset(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"rate": 1})
	if status, _, _ := m.call("GET", "/api/orders/"+id, nil); status != 503 {
		t.Errorf("fault without statuses = %d, want 503", status)
	}
	var f simkit.Faults
	m.callJSON("GET", "/_sandbox/faults", nil, 200, &f)
	if f.Rate != 1 {
		t.Errorf("GET faults = %+v, want rate 1", f)
	}
	m.setFaults(map[string]any{"rate": 0})
	if status, _, _ := m.call("GET", "/api/orders/"+id, nil); status != 200 {
		t.Errorf("after reset = %d, want 200", status)
	}
}

func TestInvalidFaults(t *testing.T) {
	cases := []struct {
		name string
		body any
	}{
		{name: "rate above 1", body: map[string]any{"rate": 2}},
		{name: "negative rate", body: map[string]any{"rate": -0.1}},
		{name: "success status", body: map[string]any{"rate": 1, "statuses": []int{200}}},
		{name: "status above 599", body: map[string]any{"rate": 1, "statuses": []int{429, 600}}},
		{name: "dropAfterCommit above 1", body: map[string]any{"dropAfterCommit": 1.5}},
		{name: "resetRate above 1", body: map[string]any{"resetRate": 1.01}},
		{name: "negative slowRate", body: map[string]any{"slowRate": -1}},
		{name: "negative slowMs", body: map[string]any{"slowRate": 0.5, "slowMs": -5}},
		{name: "unknown field", body: `{"rate":0.5,"ratee":1}`},
		{name: "not json", body: `rate=1`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := newSim(t)
			m.setFaults(map[string]any{"rate": 0.25, "statuses": []int{503}})
			if status, _, b := m.call("PUT", "/_sandbox/faults", c.body); status != 400 {
				t.Errorf("PUT faults = %d %s, want 400", status, b)
			}
			if f := m.s.Faults(); f.Rate != 0.25 || len(f.Statuses) != 1 {
				t.Errorf("a refused PUT changed the faults to %+v", f)
			}
		})
	}
}

func TestFullFaultBodyFromDesign(t *testing.T) {
	m := newSim(t)
	m.setFaults(`{"rate": 0.2, "statuses": [429, 503], "retryAfterSeconds": 1, "latencyMs": 0, "dropAfterCommit": 0.1}`)
	f := m.s.Faults()
	if f.Rate != 0.2 || len(f.Statuses) != 2 || f.RetryAfterSeconds != 1 || f.DropAfterCommit != 0.1 {
		t.Errorf("faults = %+v", f)
	}
}

func TestDropAfterCommit(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"dropAfterCommit": 1})

	resp, err := m.try("POST", "/api/orders/"+id+"/complete", nil)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the connection cut", resp.StatusCode)
	}
	// The vendor applied the call before the response was lost.
	v := m.order(id)
	if v.State != "completed" {
		t.Errorf("state = %q, want completed: the handler should have run", v.State)
	}
	assertCalls(t, v.Calls, []simkit.Call{{Method: "POST", Path: "/api/orders/" + id + "/complete", Status: 202}})
}

func TestLatency(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"latencyMs": 150})
	start := time.Now()
	m.callJSON("GET", "/api/orders/"+id, nil, 200, nil)
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("vendor call took %v, want at least 150ms", el)
	}
}

func TestStats(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.callJSON("GET", "/api/orders/"+id, nil, 200, nil)
	m.callJSON("GET", "/api/orders/req-"+id, nil, 200, nil)
	m.callJSON("GET", "/api/orders/missing", nil, 404, nil)
	m.callJSON("POST", "/api/orders/"+id+"/complete", nil, 202, nil)
	m.setFaults(map[string]any{"rate": 1, "statuses": []int{429}})
	m.callJSON("GET", "/api/orders/"+id, nil, 429, nil)

	var got struct{ Calls []simkit.Stat }
	m.callJSON("GET", "/_sandbox/stats", nil, 200, &got)
	want := []simkit.Stat{
		{Method: "GET", Pattern: "GET /api/orders/{id}", Status: 200, Count: 2},
		{Method: "GET", Pattern: "GET /api/orders/{id}", Status: 404, Count: 1},
		{Method: "GET", Pattern: "GET /api/orders/{id}", Status: 429, Count: 1},
		{Method: "POST", Pattern: "POST /api/orders/{id}/complete", Status: 202, Count: 1},
	}
	if len(got.Calls) != len(want) {
		t.Fatalf("stats = %+v, want %+v", got.Calls, want)
	}
	for i := range want {
		if got.Calls[i] != want[i] {
			t.Errorf("stat %d = %+v, want %+v", i, got.Calls[i], want[i])
		}
	}
}

func TestClock(t *testing.T) {
	m := newSim(t)
	const day = 24 * time.Hour
	var out struct{ Now string }
	m.callJSON("POST", "/_sandbox/clock", map[string]int64{"advanceSeconds": int64(90 * day / time.Second)}, 200, &out)
	now, err := time.Parse(time.RFC3339, out.Now)
	if err != nil {
		t.Fatalf("now %q: %v", out.Now, err)
	}
	if d := time.Until(now); d < 90*day-time.Minute || d > 90*day+time.Minute {
		t.Errorf("answered now %v ahead, want 90 days", d)
	}
	if d := time.Until(m.s.Clock.Now()); d < 90*day-time.Minute || d > 90*day+time.Minute {
		t.Errorf("Clock is %v ahead, want 90 days", d)
	}
	m.s.Clock.Advance(day)
	if d := time.Until(m.s.Clock.Now()); d < 91*day-time.Minute {
		t.Errorf("Clock is %v ahead after another day, want 91 days", d)
	}
}

func TestAllowPerKey(t *testing.T) {
	s := simkit.New(&fakeVendor{orders: map[string]string{}}, 0.001, 1)
	steps := []struct {
		key  string
		want bool
	}{
		{"key-a", true},
		{"key-a", false},
		{"key-b", true},
		{"key-a", false},
		{"key-b", false},
		{"key-c", true},
	}
	for i, st := range steps {
		if got := s.Allow(st.key); got != st.want {
			t.Errorf("step %d: Allow(%q) = %v, want %v", i, st.key, got, st.want)
		}
	}

	unlimited := simkit.New(&fakeVendor{orders: map[string]string{}}, 0, 0)
	for i := range 100 {
		if !unlimited.Allow("k") {
			t.Fatalf("rps 0 is unlimited, but call %d was refused", i)
		}
	}
}

func TestResetBeforeCommit(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"resetRate": 1})

	if resp, err := m.try("POST", "/api/orders/"+id+"/complete", nil); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the connection cut", resp.StatusCode)
	}
	if v := m.order(id); v.State != "pending" || len(v.Calls) != 0 {
		t.Errorf("after a reset the order is %q with calls %v; want it untouched: the vendor never saw the call", v.State, v.Calls)
	}
	tl := m.s.Timeline()
	if len(tl) != 1 || tl[0].Applied || tl[0].Status != 0 {
		t.Errorf("timeline %+v, want one call, not applied, without an answer", tl)
	}
}

func TestSlowResponseIsAppliedThenLate(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"slowRate": 1, "slowMs": 10_000})
	m.http.Timeout = 100 * time.Millisecond // the client gives up long before

	if resp, err := m.try("POST", "/api/orders/"+id+"/complete", nil); err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the client's timeout", resp.StatusCode)
	}
	if v := m.order(id); v.State != "completed" {
		t.Errorf("state %q, want completed: a slow answer is applied first", v.State)
	}
	if tl := m.s.Timeline(); len(tl) != 1 || !tl[0].Applied || tl[0].Status != http.StatusAccepted {
		t.Errorf("timeline %+v, want one applied call answered 202", tl)
	}
}

func TestSeedReplaysTheSameFaults(t *testing.T) {
	statuses := func() []int {
		m := newSim(t)
		id := m.create("pending")
		m.setFaults(map[string]any{"rate": 0.5, "statuses": []int{429, 500, 502, 503}, "seed": 42})
		got := make([]int, 0, 40)
		for range 40 {
			status, _, _ := m.call("GET", "/api/orders/"+id, nil)
			got = append(got, status)
		}
		return got
	}
	first, second := statuses(), statuses()
	if !slices.Equal(first, second) {
		t.Errorf("seed 42 gave %v, then %v: a seed must replay the same faults", first, second)
	}
	if !slices.Contains(first, 200) || !slices.ContainsFunc(first, func(s int) bool { return s != 200 }) {
		t.Errorf("seed 42 gave %v: want a mix of answers and faults", first)
	}
}

func TestTimelineRecordsRetryAfter(t *testing.T) {
	m := newSim(t)
	id := m.create("pending")
	m.setFaults(map[string]any{"rate": 1, "statuses": []int{429}, "retryAfterSeconds": 2})
	m.call("GET", "/api/orders/"+id, nil)
	m.setFaults(map[string]any{})
	m.call("GET", "/api/orders/"+id, nil)
	tl := m.s.Timeline()
	if len(tl) != 2 || tl[0].Status != 429 || tl[0].RetryAfter != 2*time.Second || tl[0].Applied || !tl[0].Injected || tl[1].Injected ||
		tl[1].Status != 200 || tl[1].RetryAfter != 0 || !tl[1].Applied || tl[1].At.Before(tl[0].At) {
		t.Errorf("timeline %+v, want a 429 with Retry-After 2s (not applied), then an applied 200", tl)
	}
}

func TestBusiestSecond(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	at := func(ms ...int) []simkit.Event {
		out := make([]simkit.Event, 0, len(ms))
		for _, m := range ms {
			out = append(out, simkit.Event{At: t0.Add(time.Duration(m) * time.Millisecond)})
		}
		return out
	}
	cases := []struct {
		name  string
		calls []simkit.Event
		want  int
		from  int // ms
	}{
		{"none", nil, 0, -1},
		{"one", at(5), 1, 5},
		{"a second apart is two seconds", at(0, 1000, 2000), 1, 0},
		{"just under a second apart", at(0, 999), 2, 0},
		// Unsorted, as the timeline is noted when each call is answered:
		// the busiest window is 1500..2499, not a calendar second.
		{"a window across a calendar second", at(2400, 100, 1500, 1900, 2100, 2499, 3600), 5, 1500},
	}
	for _, tc := range cases {
		n, from := simkit.BusiestSecond(tc.calls)
		if n != tc.want || (tc.from >= 0 && !from.Equal(t0.Add(time.Duration(tc.from)*time.Millisecond))) {
			t.Errorf("%s: %d calls from %s, want %d from %dms", tc.name, n, from.Sub(t0), tc.want, tc.from)
		}
	}
	// The simulator's own timeline: three calls at once.
	m := newSim(t)
	id := m.create("pending")
	for range 3 {
		m.call("GET", "/api/orders/"+id, nil)
	}
	if n, _ := simkit.BusiestSecond(m.s.Timeline()); n != 3 {
		t.Errorf("three calls at once: the busiest second of the simulator's timeline holds %d", n)
	}
}

// A client that gives up on a held answer to a call with a body, answered
// by an injected fault (its body never read by a handler), reads as gone:
// the hold ends when it goes, not when it would have been answered.
func TestAHeldFaultNoticesTheClientGoing(t *testing.T) {
	s := simkit.New(&fakeVendor{orders: map[string]string{}}, 0, 0)
	s.Handle("PUT /api/orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	s.SetFaults(simkit.Faults{Rate: 1, RetryAfterSeconds: 2, SlowRate: 1, SlowMs: int((90 * time.Second).Milliseconds())})
	gone := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		gone <- r.Context().Err()
	}))
	t.Cleanup(srv.Close)
	client := srv.Client()
	client.Timeout = 100 * time.Millisecond
	req, err := http.NewRequest(http.MethodPut, srv.URL+"/api/orders/X/cancel", strings.NewReader(`{"reason":"other"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Do(req)
	expectGone(t, resp, err, gone)
}

// expectGone: the call (resp, err) ended at the client's timeout, and the
// simulator's call (its context's error on gone) noticed it, well before
// the 90 s it was held for.
func expectGone(t *testing.T, resp *http.Response, err error, gone <-chan error) {
	t.Helper()
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got %d, want the client's timeout", resp.StatusCode)
	}
	select {
	case err := <-gone:
		if err == nil {
			t.Fatal("the call's context was not canceled: the client reads as having had the answer")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the simulator still holds the call of a client that is gone")
	}
}

// TestALatencyNoticesTheClientGoing: a client that gives up during the
// latency of a call with a body reads as gone, and the call is neither
// applied nor answered; one that waits gets its body to the handler.
func TestALatencyNoticesTheClientGoing(t *testing.T) {
	s := simkit.New(&fakeVendor{orders: map[string]string{}}, 0, 0)
	bodies := make(chan string, 2)
	s.Handle("PUT /api/orders/{id}/cancel", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- string(b)
		w.WriteHeader(http.StatusOK)
	})
	gone := make(chan error, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.ServeHTTP(w, r)
		gone <- r.Context().Err()
	}))
	t.Cleanup(srv.Close)
	put := func(timeout time.Duration) (*http.Response, error) {
		req, err := http.NewRequest(http.MethodPut, srv.URL+"/api/orders/X/cancel", strings.NewReader(`{"reason":"other"}`))
		if err != nil {
			t.Fatal(err)
		}
		client := srv.Client()
		client.Timeout = timeout
		return client.Do(req)
	}

	s.SetFaults(simkit.Faults{LatencyMs: int((90 * time.Second).Milliseconds())})
	resp, err := put(100 * time.Millisecond)
	expectGone(t, resp, err, gone)
	if n := len(s.Timeline()); n != 0 {
		t.Fatalf("%d calls in the timeline, want none: the client went before the call was made", n)
	}

	s.SetFaults(simkit.Faults{LatencyMs: 1})
	resp, err = put(30 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := <-bodies; got != `{"reason":"other"}` {
		t.Fatalf("the handler read %q, want the body sent", got)
	}
}
