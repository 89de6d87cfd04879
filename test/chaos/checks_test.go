package chaos

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// The checks must catch what they claim to catch: each is run here on
// made-up timelines, without a control plane.

func testAccount(t *testing.T, vendor string) *account {
	t.Helper()
	v, err := registry.Default().Get(vendor)
	if err != nil {
		t.Fatal(err)
	}
	entry := simulators.Get(vendor)
	return &account{name: vendor, entry: entry, vendor: v, sim: entry.New()}
}

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func get(ms int, path, process string, status int) call {
	return call{Event: simkit.Event{At: at(ms), Method: http.MethodGet, Path: path, Status: status, Applied: status != 0}, process: process, answered: at(ms)}
}

func TestBudgetCheckIsTheDeclaredBucket(t *testing.T) {
	a := testAccount(t, "truework") // declared 10/s, burst 10: the client runs 9.7/s with a burst of 5
	var calls []call
	for i := range 5 { // the client's burst
		calls = append(calls, get(i, "/orders/a", "p", 200))
	}
	for i := 1; i <= 30; i++ { // then its rate, for three seconds
		calls = append(calls, get(i*103, "/orders/b", "p", 200))
	}
	f := checkBudget(a, calls)
	if len(f.refused) != 0 || f.maxPerSecond != 14 || f.clientCeiling != 14 {
		t.Errorf("the client's own pace: refused %v, most in 1s %d (ceiling %d)", f.refused, f.maxPerSecond, f.clientCeiling)
	}
	// Bunched: ten calls at once after the pace drained the slack.
	bunched := append([]call(nil), calls...)
	for range 10 {
		bunched = append(bunched, get(3100, "/orders/c", "p", 200))
	}
	if f := checkBudget(a, bunched); len(f.refused) == 0 {
		t.Error("ten calls at once on a drained bucket were not refused")
	}
	// A call the budget never paid for is left to refusedAll.
	resent := append(append([]call(nil), calls...), get(3100, "/orders/c", "p", 0), get(3101, "/orders/c", "p", 200))
	markUnpaid(resent)
	f = checkBudget(a, resent)
	if f.unpaid[unpaidResend] != 1 || len(f.refused) != 0 {
		t.Errorf("a resend: unpaid %v, refused %v", f.unpaid, f.refused)
	}
	throttled := []call{{Event: simkit.Event{At: at(0), Method: http.MethodGet, Status: 429, Applied: true}}}
	if f := checkBudget(a, throttled); f.throttled != 1 {
		t.Errorf("a 429 of the simulator's own limiter was not counted")
	}
}

func TestUnpaidCalls(t *testing.T) {
	o := &order{name: "o", play: play{kind: simkit.PlayCancel}}
	patch := func(ms, status int) call {
		return call{Event: simkit.Event{At: at(ms), Method: http.MethodPatch, Path: "/v1/o", Status: status, Applied: true}, process: "p", order: o}
	}
	on := func(c call, x *order) call { c.order = x; return c }
	calls := []call{
		get(0, "/v1/x", "p", 0), get(2, "/v1/x", "p", 200), // a resend
		get(100, "/v1/y", "p", 0), get(1500, "/v1/y", "p", 200), // the operator's own retry, a second later
		patch(2000, 422), on(get(2003, "/v1/o", "p", 200), o), // a refused repeat, and Settle's read: paid
	}
	markUnpaid(calls)
	want := []string{"", unpaidResend, "", "", "", ""}
	for i, c := range calls {
		if c.unpaid != want[i] {
			t.Errorf("call %d (%s %s at %s): unpaid %q, want %q", i, c.Method, c.Path, c.At.Format("05.000"), c.unpaid, want[i])
		}
	}
}

func TestRetryAfterCheck(t *testing.T) {
	a := testAccount(t, "truv")
	o1, o2 := &order{name: "o1"}, &order{name: "o2"}
	limited := get(0, "/v1/orders/1/", "p", 429)
	limited.RetryAfter, limited.order = 2*time.Second, o1
	unavailable := get(0, "/v1/orders/1/", "p", 503)
	unavailable.RetryAfter, unavailable.order = 2*time.Second, o1
	on := func(c call, o *order) call { c.order = o; return c }

	cases := []struct {
		name       string
		calls      []call
		violations int
		inFlight   int
	}{
		{"the same order waits", []call{limited, on(get(2000, "/v1/orders/1/", "p", 200), o1)}, 0, 0},
		{"the same order too soon after a 429", []call{limited, on(get(1500, "/v1/orders/1/", "p", 200), o1)}, 1, 0},
		{"the same order too soon after a 503", []call{unavailable, on(get(1000, "/v1/orders/1/", "p", 200), o1)}, 1, 0},
		{"another order after a 503 is fine", []call{unavailable, on(get(100, "/v1/orders/2/", "p", 200), o2)}, 0, 0},
		{"another order already under way after a 429", []call{limited, on(get(100, "/v1/orders/2/", "p", 200), o2)}, 0, 1},
		{"another order during the pause", []call{limited, on(get(900, "/v1/orders/2/", "p", 200), o2)}, 1, 0},
		{"another order after the pause", []call{limited, on(get(2100, "/v1/orders/2/", "p", 200), o2)}, 0, 0},
		{"a 429 the client never had asks nothing", []call{heldForever(limited), on(get(100, "/v1/orders/1/", "p", 200), o1)}, 0, 0},
		{"a late 429 counts from when it came", []call{heldUntil(limited, 3000), on(get(4500, "/v1/orders/2/", "p", 200), o2)}, 1, 0},
	}
	for _, tc := range cases {
		f := checkRetryAfter(a, tc.calls)
		if len(f.violations) != tc.violations || f.inFlight != tc.inFlight {
			t.Errorf("%s: violations %v, in flight %d; want %d and %d", tc.name, f.violations, f.inFlight, tc.violations, tc.inFlight)
		}
	}
}

func TestRetryAfterUnpaidCalls(t *testing.T) {
	a := testAccount(t, "accountchek")
	o1, o2 := &order{name: "o1"}, &order{name: "o2"}
	limited := get(0, "/v1/accountchekorders/1", "p", 429)
	limited.RetryAfter, limited.order = 2*time.Second, o1
	resend := get(900, "/v1/accountchekorders/2", "p", 200)
	resend.order, resend.unpaid = o2, unpaidResend
	paid := get(1000, "/v1/accountchekorders/2", "p", 200)
	paid.order = o2
	f := checkRetryAfter(a, []call{limited, resend, paid})
	// A call the budget never paid for ignores the pause: known, failed
	// only with -chaos.strict. A paid one is a violation.
	if len(f.violations) != 1 || len(f.knownViolations) != 1 {
		t.Errorf("violations %v, known %v; want one and one", f.violations, f.knownViolations)
	}
}

func heldForever(c call) call { c.undelivered = true; return c }

func heldUntil(c call, ms int) call { c.answered = at(ms); return c }

func TestInterleaved(t *testing.T) {
	a := testAccount(t, "truv")
	handover := ledger{a: {get(0, "/x", "one", 200), get(10, "/x", "one", 200), get(20000, "/x", "two", 200)}}
	if got := interleaved(handover); len(got) != 0 {
		t.Errorf("a clean handover: %v", got)
	}
	both := ledger{a: {get(0, "/x", "one", 200), get(20000, "/x", "two", 200), get(20001, "/x", "one", 200)}}
	if got := interleaved(both); len(got) != 1 {
		t.Errorf("the old process after the new one began: %v, want one", got)
	}
}

func TestStallTruth(t *testing.T) {
	tx := testAccount(t, "txcloud")
	verified, err := tx.sim.CreateOrder("verified")
	if err != nil {
		t.Fatal(err)
	}
	pending, err := tx.sim.CreateOrder("pending")
	if err != nil {
		t.Fatal(err)
	}
	cancelPlay := play{kind: simkit.PlayCancel, desired: canceled}
	if why := stallUntrue(&order{account: tx, play: cancelPlay, vendorID: verified}, "AlreadyTerminal", "verified"); why != "" {
		t.Errorf("a verification txcloud completed: %s", why)
	}
	if why := stallUntrue(&order{account: tx, play: cancelPlay, vendorID: pending}, "AlreadyTerminal", "pending"); why == "" {
		t.Error("AlreadyTerminal on a pending verification passed")
	}
	// The operator's own cancel, whose answer was lost, made it expired:
	// txcloud did not end it first.
	req := httptest.NewRequest(http.MethodPost, "/v1/identity/verifications/"+pending+"/cancel", nil)
	req.Header.Set("Authorization", "Bearer "+tx.entry.Credentials["apiKey"])
	tx.sim.ServeHTTP(httptest.NewRecorder(), req)
	if state, _ := tx.sim.OrderState(pending); state != "expired" {
		t.Fatalf("the cancel left the verification %s", state)
	}
	if why := stallUntrue(&order{account: tx, play: cancelPlay, vendorID: pending}, "AlreadyTerminal", "expired"); why == "" {
		t.Error("AlreadyTerminal after the operator's own cancel passed")
	}
	if why := stallUntrue(&order{account: tx, play: cancelPlay}, "IllegalTransition", "review"); why != "" {
		t.Errorf("cancel from review: %s", why)
	}
	if why := stallUntrue(&order{account: tx, play: cancelPlay}, "IllegalTransition", "pending"); why == "" {
		t.Error("IllegalTransition from pending passed")
	}
	if why := stallUntrue(&order{account: tx, play: play{kind: simkit.PlayUnsupported, desired: closed}}, "UnsupportedState", "pending"); why != "" {
		t.Errorf("close at txcloud: %s", why)
	}
	if why := stallUntrue(&order{account: tx, play: cancelPlay}, "UnsupportedState", "pending"); why == "" {
		t.Error("UnsupportedState for a cancel at txcloud passed")
	}
}
