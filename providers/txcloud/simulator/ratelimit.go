package simulator

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Plan is one of txcloud's pricing plans and its limits, from txcloud's
// "Rate limits" page (https://docs.txcloud.thetekcircle.io/rate-limits):
// requests per minute, requests per day, and the burst, "the maximum number
// of concurrent requests allowed". Every limit is per API key.
type Plan struct {
	Name      string
	PerMinute int
	PerDay    int
	Burst     int
}

// txcloud's plans. A key the simulator was not told about is on Free.
var (
	PlanFree    = Plan{Name: "free", PerMinute: 60, PerDay: 1000, Burst: 10}
	PlanStarter = Plan{Name: "starter", PerMinute: 300, PerDay: 10000, Burst: 50}
	PlanGrowth  = Plan{Name: "growth", PerMinute: 1000, PerDay: 100000, Burst: 100}
)

// Plans are txcloud's plans, smallest first.
var Plans = []Plan{PlanFree, PlanStarter, PlanGrowth}

// PlanNamed finds a plan by its name (free, starter, growth), any case.
func PlanNamed(name string) (Plan, bool) {
	for _, p := range Plans {
		if strings.EqualFold(p.Name, name) {
			return p, true
		}
	}
	return Plan{}, false
}

// The windows' lengths, as X-RateLimit-Window says them (seconds).
const (
	minuteWindow = time.Minute
	dayWindow    = 24 * time.Hour
)

// quotas count each API key's calls against its plan: a minute window that
// starts with the key's first call after the previous one ended (so a burst
// of calls is never split by a boundary the caller cannot see), a day
// window that is the UTC calendar day (it resets at the next UTC midnight),
// and the requests in flight. Only admitted calls count; a refused one
// spends nothing. Times are the simulator's clock, so tests can cross a
// minute or a day without waiting.
type quotas struct {
	mu    sync.Mutex
	plans map[string]Plan
	keys  map[string]*keyUsage
}

type keyUsage struct {
	minuteStart time.Time // zero: no window open
	minuteCount int
	day         time.Time // the UTC midnight that starts the counted day
	dayCount    int
	inFlight    int
}

func newQuotas() *quotas {
	return &quotas{plans: map[string]Plan{}, keys: map[string]*keyUsage{}}
}

func (q *quotas) setPlan(key string, p Plan) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.plans[key] = p
}

func (q *quotas) planOf(key string) Plan {
	if p, ok := q.plans[key]; ok {
		return p
	}
	return PlanFree
}

// usageOf returns key's counters with expired windows rolled over; callers
// hold q.mu.
func (q *quotas) usageOf(key string, now time.Time) *keyUsage {
	u, ok := q.keys[key]
	if !ok {
		u = &keyUsage{}
		q.keys[key] = u
	}
	if !u.minuteStart.IsZero() && !now.Before(u.minuteStart.Add(minuteWindow)) {
		u.minuteStart, u.minuteCount = time.Time{}, 0
	}
	if day := utcMidnight(now); !day.Equal(u.day) {
		u.day, u.dayCount = day, 0
	}
	return u
}

func utcMidnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// enter and leave count a call in flight from its arrival to its answer.
func (q *quotas) enter(key string, now time.Time) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	u := q.usageOf(key, now)
	u.inFlight++
	return u.inFlight
}

func (q *quotas) leave(key string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if u, ok := q.keys[key]; ok && u.inFlight > 0 {
		u.inFlight--
	}
}

// refusal says which limit refused a call.
type refusal string

const (
	admitted      refusal = ""
	overBurst     refusal = "burst"
	overMinute    refusal = "minute"
	overDailyPlan refusal = "day"
)

// verdict is the outcome of one call and what its headers say.
type verdict struct {
	refused refusal
	plan    Plan
	// The window the headers describe.
	limit, remaining int
	reset            time.Time
	window           time.Duration
	now              time.Time
}

// admit decides a call that arrived as the concurrent-th call in flight for
// key, counts it when admitted, and picks the window the headers describe:
// the one closer to exhaustion (the day once its remaining is below the
// minute's), or the one that refused.
func (q *quotas) admit(key string, concurrent int, now time.Time) verdict {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.planOf(key)
	u := q.usageOf(key, now)
	v := verdict{plan: p, now: now}
	switch {
	case concurrent > p.Burst:
		v.refused = overBurst
	case u.dayCount >= p.PerDay:
		v.refused = overDailyPlan
	case u.minuteCount >= p.PerMinute:
		v.refused = overMinute
	default:
		if u.minuteStart.IsZero() {
			u.minuteStart = now
		}
		u.minuteCount++
		u.dayCount++
	}
	minuteReset := now.Add(minuteWindow)
	if !u.minuteStart.IsZero() {
		minuteReset = u.minuteStart.Add(minuteWindow)
	}
	minuteLeft, dayLeft := max(p.PerMinute-u.minuteCount, 0), max(p.PerDay-u.dayCount, 0)
	if v.refused == overDailyPlan || (v.refused != overMinute && dayLeft < minuteLeft) {
		v.limit, v.remaining, v.reset, v.window = p.PerDay, dayLeft, u.day.Add(dayWindow), dayWindow
	} else {
		v.limit, v.remaining, v.reset, v.window = p.PerMinute, minuteLeft, minuteReset, minuteWindow
	}
	return v
}

// setHeaders writes the X-RateLimit-* headers every response carries.
// Reset is the unix time at which the described window starts over.
func (v verdict) setHeaders(h http.Header) {
	h.Set("X-RateLimit-Limit", strconv.Itoa(v.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(v.remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(int64(math.Ceil(float64(v.reset.UnixNano())/1e9)), 10))
	h.Set("X-RateLimit-Window", strconv.Itoa(int(v.window/time.Second)))
}

// retryAfterSeconds is how long a refused call should wait, in whole
// seconds (at least 1, as Retry-After has no fractions): until the window
// that refused it starts over, or a second for too many calls at once.
func (v verdict) retryAfterSeconds() int {
	if v.refused == overBurst {
		return 1
	}
	return max(1, int(math.Ceil(v.reset.Sub(v.now).Seconds())))
}

// message is the 429's explanation.
func (v verdict) message() string {
	switch v.refused {
	case overBurst:
		return fmt.Sprintf("Too many concurrent requests: the %s plan allows %d at a time.", v.plan.Name, v.plan.Burst)
	case overDailyPlan:
		return fmt.Sprintf("Daily request limit exceeded: the %s plan allows %d requests per day. Retry after the time in Retry-After.", v.plan.Name, v.plan.PerDay)
	default:
		return fmt.Sprintf("Rate limit exceeded: the %s plan allows %d requests per minute. Retry after the time in Retry-After.", v.plan.Name, v.plan.PerMinute)
	}
}

// concurrencyKey carries how many calls of the key were in flight when a
// call arrived (itself included), from ServeHTTP to the API handler.
type concurrencyKey struct{}

func concurrentAt(ctx context.Context) int {
	if n, ok := ctx.Value(concurrencyKey{}).(int); ok {
		return n
	}
	return 1
}

// hold keeps admitted calls waiting, for tests that need calls in flight.
type hold struct {
	arrived chan struct{}
	release chan struct{}
}
