package simulator

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// quota mirrors the kit's per-key token bucket (same rate and burst) so the
// responses can carry X-RateLimit-Remaining and -Reset; the kit's Allow
// still makes the decision. The kit exposes no token count, hence the
// mirror.
type quota struct {
	mu      sync.Mutex
	limit   int
	perSec  rate.Limit
	buckets map[string]*rate.Limiter
}

func newQuota(perMinute int) *quota {
	return &quota{limit: perMinute, perSec: rate.Limit(float64(perMinute) / 60), buckets: map[string]*rate.Limiter{}}
}

// usage is what the headers say after one call.
type usage struct {
	limit  int
	tokens float64 // left in the bucket, fractional
	perSec float64
}

// take records a call by key (when the kit allowed it) and returns the usage.
func (q *quota) take(key string, allowed bool) usage {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.buckets[key]
	if !ok {
		b = rate.NewLimiter(q.perSec, q.limit)
		q.buckets[key] = b
	}
	now := time.Now() // the buckets, like the kit's, run on the wall clock
	if allowed {
		b.AllowN(now, 1)
	}
	return usage{limit: q.limit, tokens: max(b.TokensAt(now), 0), perSec: float64(q.perSec)}
}

// setHeaders writes the X-RateLimit-* headers. Reset is the unix time at
// which the bucket is full again, on the simulator's clock.
func (u usage) setHeaders(h http.Header, now time.Time) {
	untilFull := time.Duration((float64(u.limit) - u.tokens) / u.perSec * float64(time.Second))
	h.Set("X-RateLimit-Limit", strconv.Itoa(u.limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(int(math.Floor(u.tokens))))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(now.Add(untilFull).Unix(), 10))
}

// retryAfterSeconds is how long until the next token, in whole seconds (at
// least 1, as Retry-After has no fractions).
func (u usage) retryAfterSeconds() int {
	return max(1, int(math.Ceil((1-u.tokens)/u.perSec)))
}
