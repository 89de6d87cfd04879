package conformance

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// checkFailures: every way a vendor call fails maps to the error kind the
// controller plans with, and none of them panics or leaks.
func checkFailures(t *testing.T, a Adapter) {
	t.Run("Unauthorized", func(t *testing.T) { checkUnauthorized(t, a) })
	t.Run("NotFound", func(t *testing.T) { checkNotFound(t, a) })
	t.Run("RateLimited", func(t *testing.T) { checkRateLimited(t, a, 0) })
	t.Run("RateLimitedRetryAfter", func(t *testing.T) { checkRateLimited(t, a, 7) })
	for _, status := range []int{500, 503} {
		t.Run(fmt.Sprintf("ServerError%d", status), func(t *testing.T) {
			e := start(t, a)
			id := e.create(t, firstState(a))
			e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{status}})
			obs, err := e.client.Observe(t.Context(), id)
			e.assertClean(t, obs, err)
			wantKind(t, err, providers.KindTransient)
		})
	}
	t.Run("MalformedJSON", func(t *testing.T) {
		checkUnreadable(t, a, http.StatusOK, "application/json", `{"id": "x", "status": "pend`)
	})
	t.Run("HTMLErrorPage", func(t *testing.T) {
		checkUnreadable(t, a, http.StatusBadGateway, "text/html", htmlErrorPage)
	})
	t.Run("Oversized", func(t *testing.T) { checkOversized(t, a) })
}

// checkUnauthorized: credentials the vendor does not know are refused as
// KindUnauthorized for every call, and nothing changes at the vendor.
func checkUnauthorized(t *testing.T, a Adapter) {
	e := start(t, a)
	from := firstState(a)
	id := e.create(t, from)
	bad := newClient(t, a, e.srv, a.BadCredentials)
	obs, err := bad.Observe(t.Context(), id)
	e.assertClean(t, obs, err)
	wantKind(t, err, providers.KindUnauthorized)
	for _, act := range a.Actions {
		obs, err := act.Invoke(t.Context(), bad, e.sim, id)
		e.assertClean(t, obs, err)
		wantKind(t, err, providers.KindUnauthorized)
	}
	if got := e.simState(t, id); got != from {
		t.Errorf("refused credentials changed the order from %q to %q", from, got)
	}
}

// checkNotFound: an unknown id is KindNotFound for reads and for every
// action (a refused mutation must not be "settled" into something else).
func checkNotFound(t *testing.T, a Adapter) {
	e := start(t, a)
	obs, err := e.client.Observe(t.Context(), a.UnknownID)
	e.assertClean(t, obs, err)
	wantKind(t, err, providers.KindNotFound)
	for _, act := range a.Actions {
		obs, err := act.Invoke(t.Context(), e.client, e.sim, a.UnknownID)
		e.assertClean(t, obs, err)
		if perr := wantKind(t, err, providers.KindNotFound); perr != nil && perr.StatusCode != http.StatusNotFound {
			t.Errorf("%s: StatusCode = %d, want 404", act.Name, perr.StatusCode)
		}
	}
}

// checkRateLimited: a 429 is KindRateLimited, carrying the vendor's
// Retry-After when it sent one and no invented wait when it did not.
func checkRateLimited(t *testing.T, a Adapter, retryAfterSeconds int) {
	e := start(t, a)
	id := e.create(t, firstState(a))
	e.sim.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{http.StatusTooManyRequests}, RetryAfterSeconds: retryAfterSeconds})
	obs, err := e.client.Observe(t.Context(), id)
	e.assertClean(t, obs, err)
	perr := wantKind(t, err, providers.KindRateLimited)
	want := time.Duration(retryAfterSeconds) * time.Second
	if perr != nil && perr.RetryAfter != want {
		t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, want)
	}
}

// htmlErrorPage is what a proxy in front of a vendor answers. Its personal
// data stands for a page that echoes the request: none may reach the error.
const htmlErrorPage = `<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>
<body><h1>502 Bad Gateway</h1><p>upstream failed for jane.roe@example.com, SSN 123-45-6789</p></body></html>`

var htmlPII = []string{"jane.roe@example.com", "123-45-6789", "<html", "<h1>"}

// checkUnreadable: a body the client cannot read is a clear transient error.
func checkUnreadable(t *testing.T, a Adapter, status int, contentType, body string) {
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	c := newClient(t, a, srv, a.Credentials)
	obs, err := callSafely(t, func() (providers.Observation, error) { return c.Observe(t.Context(), a.UnknownID) })
	assertClean(t, a.secrets(), htmlPII, obs, err)
	if perr := wantKind(t, err, providers.KindTransient); perr != nil && strings.TrimSpace(perr.Message) == "" {
		t.Errorf("error %#v has no message for a person", perr)
	}
}

// oversizedBytes is how much the oversized handler offers, and maxBuffered
// how much of it a client that stops at vendorhttp.MaxResponseBytes may still
// let through: loopback socket buffers take a few MiB before the server's
// writes block (about 4 MiB measured on Linux).
const (
	oversizedBytes = 64 * vendorhttp.MaxResponseBytes
	maxBuffered    = 16 * vendorhttp.MaxResponseBytes
)

// checkOversized serves the vendor's first seed (a response it decodes)
// padded beyond vendorhttp.MaxResponseBytes. A client that read it all would
// decode it fine, so an error proves the cap, and the byte count proves the
// client stopped reading instead of reading it all and refusing afterwards.
func checkOversized(t *testing.T, a Adapter) {
	seed := a.firstDecodableSeed(t)
	var written atomic.Int64
	done := make(chan struct{})
	var once sync.Once // a client might call twice; the first answer counts
	srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
		defer once.Do(func() { close(done) })
		writePadded(w, readSeed(t, seed.File), &written)
	})
	c := newClient(t, a, srv, a.Credentials)
	obs, err := callSafely(t, func() (providers.Observation, error) { return seed.Call(t.Context(), c) })
	assertClean(t, a.secrets(), append(a.PII, seed.PII...), obs, err)
	wantKind(t, err, providers.KindTransient)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the client neither read the body nor closed the connection")
	}
	if n := written.Load(); n > maxBuffered {
		t.Errorf("the client let the server send %d bytes; it must stop reading after %d", n, vendorhttp.MaxResponseBytes)
	}
}

// writePadded streams seed with a huge "padding" field inserted first,
// keeping it valid JSON, until the client hangs up.
func writePadded(w http.ResponseWriter, seed []byte, written *atomic.Int64) {
	w.Header().Set("Content-Type", "application/json")
	write := func(b []byte) bool {
		n, err := w.Write(b)
		written.Add(int64(n))
		return err == nil
	}
	chunk := bytes.Repeat([]byte("x"), 32<<10)
	if !write([]byte(`{"padding":"`)) {
		return
	}
	for written.Load() < oversizedBytes {
		if !write(chunk) {
			return
		}
	}
	rest := bytes.TrimPrefix(bytes.TrimSpace(seed), []byte("{"))
	write(append([]byte(`",`), rest...))
}

// serve starts a tiny vendor stand-in.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// callSafely turns a client panic into a test failure with a message,
// rather than a crash of the whole suite.
func callSafely(t *testing.T, call func() (providers.Observation, error)) (obs providers.Observation, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("the client panicked: %v", r)
		}
	}()
	return call()
}

// firstState is a state to park an order in when the state does not matter.
func firstState(a Adapter) string { return sortedStates(a)[0] }
