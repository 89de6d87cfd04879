package conformance

import (
	"strconv"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// OwnRateLimit is what the vendor documents (or what docs/vendors.md
// assumes) of its 429, which the simulator's own limiter, not an injected
// fault, must answer.
type OwnRateLimit struct {
	// MaxCalls bounds the reads the suite makes to reach the limit; the
	// limiter must answer 429 before.
	MaxCalls int
	// RetryAfter: the 429 carries Retry-After (whole seconds, at least 1),
	// and the client's error must carry exactly that wait. Otherwise it
	// carries none and the client must not invent one.
	RetryAfter bool
	// Body is the documented 429 body under testdata/, whose shape the
	// answer must have; "" when none is documented: the body is empty.
	Body string
	// Headers the 429 carries, each an integer: with the value given, or
	// any when "".
	Headers map[string]string
}

// checkOwnRateLimit reads one order as fast as the client goes until the
// simulator's limiter refuses, then holds that refusal and the client's
// error to the vendor's documented 429.
func checkOwnRateLimit(t *testing.T, a Adapter) {
	spec := a.OwnRateLimit
	if spec == nil {
		t.Skipf("%s: no rate limit of its own in the adapter", a.Name)
	}
	e := start(t, a)
	id := e.create(t, firstState(a))
	var err error
	for i := 0; i < spec.MaxCalls && providers.KindOf(err) != providers.KindRateLimited; i++ {
		var obs providers.Observation
		obs, err = e.client.Observe(t.Context(), id)
		e.assertClean(t, obs, err)
		if err != nil && providers.KindOf(err) != providers.KindRateLimited {
			t.Fatalf("read %d: %v", i+1, err)
		}
	}
	perr := wantKind(t, err, providers.KindRateLimited)
	if perr == nil {
		t.Fatalf("the simulator's limiter never refused %d reads", spec.MaxCalls)
	}
	tl := e.sim.Timeline()
	if ev := tl[len(tl)-1]; ev.Status != 429 || ev.Injected {
		t.Fatalf("the last call was answered %d (injected: %v), want the simulator's own 429", ev.Status, ev.Injected)
	}
	ans, _ := e.answers.last("")
	if ans.status != 429 {
		t.Fatalf("the client's last answer was %d", ans.status)
	}
	ra := ans.header.Get("Retry-After")
	switch {
	case spec.RetryAfter && !isPositiveInt(ra):
		t.Errorf("Retry-After %q, want whole seconds", ra)
	case spec.RetryAfter:
		if want := vendorhttp.ParseRetryAfter(ra, time.Now()); perr.RetryAfter != want {
			t.Errorf("the client's RetryAfter is %v, the vendor sent %v", perr.RetryAfter, want)
		}
	case ra != "":
		t.Errorf("Retry-After %q: the vendor documents none", ra)
	case perr.RetryAfter != 0:
		t.Errorf("the client invented a RetryAfter of %v", perr.RetryAfter)
	}
	for name, want := range spec.Headers {
		got := ans.header.Get(name)
		if _, err := strconv.ParseInt(got, 10, 64); err != nil || (want != "" && got != want) {
			t.Errorf("%s = %q, want %s", name, got, orAnyInteger(want))
		}
	}
	if spec.Body == "" {
		if len(ans.body) != 0 {
			t.Errorf("429 body %q: the vendor documents none", ans.body)
		}
		return
	}
	if diffs := CompareShapes("", decodeJSON(t, readSeed(t, spec.Body)), decodeJSON(t, ans.body), nil); len(diffs) > 0 {
		t.Errorf("the 429's body differs from %s: %v", spec.Body, diffs)
	}
}

func isPositiveInt(s string) bool {
	n, err := strconv.Atoi(s)
	return err == nil && n >= 1
}

func orAnyInteger(want string) string {
	if want == "" {
		return "an integer"
	}
	return want
}
