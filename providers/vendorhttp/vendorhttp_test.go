package vendorhttp_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// serve starts a test server running h and returns a Client pointed at it.
func serve(t *testing.T, h http.HandlerFunc) *vendorhttp.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &vendorhttp.Client{BaseURL: srv.URL, HTTP: srv.Client()}
}

// providerError asserts that err is a *providers.Error and returns it.
func providerError(t *testing.T, err error) *providers.Error {
	t.Helper()
	var perr *providers.Error
	if !errors.As(err, &perr) {
		t.Fatalf("error %v (%T) is not a *providers.Error", err, err)
	}
	return perr
}

func reply(status int, header http.Header, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		for k, vs := range header {
			w.Header()[k] = vs
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func TestDoDecodesSuccess(t *testing.T) {
	type order struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	cases := []struct {
		name   string
		status int
		body   string
		out    bool
		want   order
	}{
		{name: "200 into struct", status: 200, body: `{"id":"o-1","status":"completed","extra":1}`, out: true, want: order{ID: "o-1", Status: "completed"}},
		{name: "201 into struct", status: 201, body: `{"id":"o-2"}`, out: true, want: order{ID: "o-2"}},
		{name: "204 without out", status: 204},
		{name: "200 body ignored without out", status: 200, body: `not even json`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := serve(t, reply(c.status, http.Header{"Content-Type": {"application/json"}}, c.body))
			var got order
			var out any
			if c.out {
				out = &got
			}
			status, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/orders/1"}, out)
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if status != c.status {
				t.Errorf("status = %d, want %d", status, c.status)
			}
			if got != c.want {
				t.Errorf("decoded %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestKindForStatus(t *testing.T) {
	cases := []struct {
		status int
		want   providers.ErrorKind
	}{
		{400, providers.KindRejected},
		{401, providers.KindUnauthorized},
		{403, providers.KindUnauthorized},
		{404, providers.KindNotFound},
		{406, providers.KindRejected},
		{408, providers.KindTransient},
		{409, providers.KindRejected},
		{410, providers.KindNotFound},
		{422, providers.KindRejected},
		{429, providers.KindRateLimited},
		{451, providers.KindLegalHold},
		{500, providers.KindTransient},
		{501, providers.KindRejected},
		{502, providers.KindTransient},
		{503, providers.KindTransient},
	}
	cl := serve(t, func(w http.ResponseWriter, r *http.Request) {
		code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"message":"no"}`)
	})
	for _, c := range cases {
		t.Run(strconv.Itoa(c.status), func(t *testing.T) {
			if got := vendorhttp.KindForStatus(c.status); got != c.want {
				t.Errorf("KindForStatus(%d) = %s, want %s", c.status, got, c.want)
			}
			status, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/status/" + strconv.Itoa(c.status)}, nil)
			if status != 0 {
				t.Errorf("Do returned status %d for a failure, want 0", status)
			}
			perr := providerError(t, err)
			if perr.Kind != c.want || perr.StatusCode != c.status {
				t.Errorf("Do error = %s/%d, want %s/%d", perr.Kind, perr.StatusCode, c.want, c.status)
			}
			if perr.Message != http.StatusText(c.status) {
				t.Errorf("message = %q, want the status text %q", perr.Message, http.StatusText(c.status))
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	date := func(d time.Duration) string { return now.Add(d).Format(http.TimeFormat) }
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"5", 5 * time.Second},
		{" 120 ", 2 * time.Minute},
		{"-3", 0},
		{"1.5", 0},
		{"soon", 0},
		{"Tue, 99 Foo 2025", 0},
		{date(30 * time.Second), 30 * time.Second},
		{date(2 * time.Hour), 2 * time.Hour},
		{date(0), 0},
		{date(-time.Minute), 0},
		{"10000000000", vendorhttp.MaxRetryAfter},                // overflows a Duration in nanoseconds
		{"99999999999999999999999999", vendorhttp.MaxRetryAfter}, // overflows an int64
		{"-99999999999999999999999999", 0},
		{date(100 * 365 * 24 * time.Hour), vendorhttp.MaxRetryAfter},
	}
	for _, c := range cases {
		if got := vendorhttp.ParseRetryAfter(c.in, now); got != c.want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestRetryAfterHeaderAndBodyHint(t *testing.T) {
	cases := []struct {
		name   string
		header string
		hint   time.Duration
		want   time.Duration
	}{
		{name: "header only", header: "3", want: 3 * time.Second},
		{name: "http date", header: time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat), want: 90 * time.Second},
		{name: "body hint larger wins", header: "1", hint: 7 * time.Second, want: 7 * time.Second},
		{name: "header larger wins", header: "10", hint: 2 * time.Second, want: 10 * time.Second},
		{name: "body hint without header", hint: 4 * time.Second, want: 4 * time.Second},
		{name: "garbage header", header: "later", want: 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := http.Header{"Content-Type": {"application/json"}}
			if c.header != "" {
				h.Set("Retry-After", c.header)
			}
			cl := serve(t, reply(429, h, `{"error":{"message":"slow down"}}`))
			cl.DecodeError = func(status int, body []byte) (string, time.Duration) {
				var b struct {
					Error struct{ Message string } `json:"error"`
				}
				_ = json.Unmarshal(body, &b)
				return b.Error.Message, c.hint
			}
			_, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
			perr := providerError(t, err)
			if perr.Kind != providers.KindRateLimited || perr.Message != "slow down" {
				t.Errorf("error = %s %q, want RateLimited \"slow down\"", perr.Kind, perr.Message)
			}
			// An HTTP date is relative to the wall clock: allow a second of slack.
			if d := perr.RetryAfter - c.want; d < -time.Second || d > time.Second || (c.want == 0) != (perr.RetryAfter == 0) {
				t.Errorf("RetryAfter = %v, want %v", perr.RetryAfter, c.want)
			}
		})
	}
}

func TestUnreadableBodiesAreNamedNotEchoed(t *testing.T) {
	const secret = "jane.doe-SECRET-TOKEN"
	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        string
	}{
		{name: "html error page", status: 502, contentType: "text/html", body: "<html><body>Bad gateway " + secret + "</body></html>", want: "HTML page"},
		{name: "html without content type", status: 503, body: "  <!DOCTYPE html><p>" + secret, want: "HTML page"},
		{name: "malformed json error", status: 400, contentType: "application/json", body: `{"error": "` + secret, want: "malformed JSON"},
		{name: "plain text error", status: 500, contentType: "text/plain", body: "oops " + secret, want: "malformed JSON"},
		{name: "html on success", status: 200, contentType: "text/html", body: "<html>" + secret + "</html>", want: "HTML page"},
		{name: "malformed json on success", status: 200, contentType: "application/json", body: `{"id": "` + secret, want: "malformed JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := serve(t, reply(c.status, http.Header{"Content-Type": {c.contentType}}, c.body))
			cl.DecodeError = func(int, []byte) (string, time.Duration) {
				t.Error("DecodeError called with a body that is not JSON")
				return "", 0
			}
			var out map[string]any
			_, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/x"}, &out)
			perr := providerError(t, err)
			if !strings.Contains(perr.Message, c.want) {
				t.Errorf("message %q does not name %q", perr.Message, c.want)
			}
			for _, leak := range []string{"SECRET", "jane", "<html", "<p>"} {
				if strings.Contains(perr.Error(), leak) {
					t.Errorf("error %q echoes the body (%q)", perr.Error(), leak)
				}
			}
			if perr.StatusCode != c.status {
				t.Errorf("StatusCode = %d, want %d", perr.StatusCode, c.status)
			}
		})
	}
}

func TestOversizedBodyRefused(t *testing.T) {
	for _, status := range []int{200, 500} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			cl := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = io.WriteString(w, `{"pad":"`+strings.Repeat("a", vendorhttp.MaxResponseBytes)+`"}`)
			})
			var out map[string]any
			_, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/big"}, &out)
			perr := providerError(t, err)
			if perr.Kind != providers.KindTransient || !strings.Contains(perr.Message, "larger than") {
				t.Errorf("error = %v, want Transient \"larger than ...\"", perr)
			}
			if out != nil {
				t.Errorf("decoded an oversized body: %d keys", len(out))
			}
		})
	}

	// Exactly MaxResponseBytes is still read.
	body := `{"pad":"` + strings.Repeat("a", vendorhttp.MaxResponseBytes-10) + `"}`
	cl := serve(t, reply(200, nil, body))
	var out map[string]string
	if _, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/max"}, &out); err != nil {
		t.Fatalf("body of %d bytes refused: %v", len(body), err)
	}
}

func TestCutConnectionIsTransient(t *testing.T) {
	cases := []struct {
		name string
		h    http.HandlerFunc
	}{
		{name: "closed before any response", h: func(w http.ResponseWriter, _ *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			_ = conn.Close()
		}},
		{name: "closed mid body", h: func(w http.ResponseWriter, _ *http.Request) {
			conn, buf, err := w.(http.Hijacker).Hijack()
			if err != nil {
				panic(err)
			}
			_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"id\":")
			_ = buf.Flush()
			_ = conn.Close()
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cl := serve(t, c.h)
			var out map[string]any
			status, err := cl.Do(context.Background(), vendorhttp.Request{Method: "POST", Path: "/orders", Body: map[string]string{"a": "b"}}, &out)
			perr := providerError(t, err)
			if perr.Kind != providers.KindTransient || status != 0 {
				t.Errorf("Do = %d, %v; want 0, Transient", status, perr)
			}
			if strings.Contains(perr.Message, "127.0.0.1") || strings.Contains(perr.Message, "/orders") {
				t.Errorf("message %q names the URL", perr.Message)
			}
		})
	}
}

func TestUnreachableAndCanceled(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	cl := &vendorhttp.Client{BaseURL: url, HTTP: &http.Client{}}
	_, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/x"}, nil)
	if perr := providerError(t, err); perr.Kind != providers.KindTransient || !strings.Contains(perr.Message, "unreachable") {
		t.Errorf("closed server: %v, want Transient unreachable", perr)
	}

	release := make(chan struct{})
	defer close(release)
	cl = serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/slow"}, nil)
	if perr := providerError(t, err); perr.Kind != providers.KindTransient || !strings.Contains(perr.Message, "canceled") {
		t.Errorf("canceled: %v, want Transient request canceled", perr)
	}
}

func TestRequestShape(t *testing.T) {
	type seen struct {
		method, path, contentType, accept, auth, version, extra string
	}
	cases := []struct {
		name     string
		req      vendorhttp.Request
		want     seen
		wantBody map[string]any
	}{
		{
			name: "json body",
			req:  vendorhttp.Request{Method: "POST", Path: "/orders", Body: map[string]any{"name": "x", "n": 2}},
			want: seen{method: "POST", path: "/v1/orders", contentType: "application/json", accept: "application/json",
				auth: "Bearer k", version: "2024-01"},
			wantBody: map[string]any{"name": "x", "n": float64(2)},
		},
		{
			name: "no body no content type",
			req:  vendorhttp.Request{Method: "GET", Path: "/orders/1", Header: http.Header{"X-Extra": {"yes"}}},
			want: seen{method: "GET", path: "/v1/orders/1", accept: "application/json", auth: "Bearer k", version: "2024-01", extra: "yes"},
		},
		{
			name: "per-call header overrides Decorate",
			req:  vendorhttp.Request{Method: "DELETE", Path: "/orders/1", Header: http.Header{"X-Api-Version": {"2025-06"}}},
			want: seen{method: "DELETE", path: "/v1/orders/1", accept: "application/json", auth: "Bearer k", version: "2025-06"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got seen
			var gotBody map[string]any
			cl := serve(t, func(w http.ResponseWriter, r *http.Request) {
				got = seen{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), accept: r.Header.Get("Accept"),
					auth: r.Header.Get("Authorization"), version: r.Header.Get("X-Api-Version"), extra: r.Header.Get("X-Extra")}
				raw, _ := io.ReadAll(r.Body)
				if len(raw) > 0 {
					if err := json.Unmarshal(raw, &gotBody); err != nil {
						t.Errorf("request body %q is not JSON: %v", raw, err)
					}
				}
				w.WriteHeader(http.StatusNoContent)
			})
			cl.BaseURL += "/v1/" // the trailing slash is trimmed
			cl.Decorate = func(r *http.Request) {
				r.Header.Set("Authorization", "Bearer k")
				r.Header.Set("X-Api-Version", "2024-01")
			}
			if _, err := cl.Do(context.Background(), c.req, nil); err != nil {
				t.Fatalf("Do: %v", err)
			}
			if got != c.want {
				t.Errorf("server saw %+v, want %+v", got, c.want)
			}
			if len(gotBody) != len(c.wantBody) {
				t.Errorf("body = %v, want %v", gotBody, c.wantBody)
			}
			for k, v := range c.wantBody {
				if gotBody[k] != v {
					t.Errorf("body[%q] = %v, want %v", k, gotBody[k], v)
				}
			}
		})
	}
}

func TestRequestEncodingFailureIsRejected(t *testing.T) {
	cl := serve(t, func(http.ResponseWriter, *http.Request) { t.Error("a request that cannot be encoded was sent") })
	_, err := cl.Do(context.Background(), vendorhttp.Request{Method: "POST", Path: "/x", Body: math.Inf(1)}, nil)
	if perr := providerError(t, err); perr.Kind != providers.KindRejected {
		t.Errorf("kind = %s, want Rejected: encoding fails the same way every time", perr.Kind)
	}
}

// Verify sees every answer, success or not, with its raw body, before it is
// decoded or classified; its error is the call's error.
func TestVerifyRunsBeforeDecodingAndClassifying(t *testing.T) {
	refused := &providers.Error{Kind: providers.KindSignatureInvalid, Message: "not signed"}
	for _, status := range []int{200, 404, 429, 503} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			body := `{"id":"o-1"}`
			c := serve(t, reply(status, http.Header{"X-Sig": {"s"}}, body))
			var seen []byte
			var seenStatus int
			c.Verify = func(resp *http.Response, b []byte) error {
				seen, seenStatus = b, resp.StatusCode
				if resp.Header.Get("X-Sig") != "s" {
					t.Errorf("Verify did not get the response headers")
				}
				return refused
			}
			var out struct{ ID string }
			_, err := c.Do(context.Background(), vendorhttp.Request{Method: http.MethodGet, Path: "/x"}, &out)
			if !errors.Is(err, refused) {
				t.Errorf("error = %v, want Verify's", err)
			}
			if string(seen) != body || seenStatus != status {
				t.Errorf("Verify saw %d %q", seenStatus, seen)
			}
			if out.ID != "" {
				t.Errorf("a refused answer was decoded")
			}
		})
	}
	t.Run("accepted", func(t *testing.T) {
		c := serve(t, reply(200, nil, `{"id":"o-1"}`))
		c.Verify = func(*http.Response, []byte) error { return nil }
		var out struct{ ID string }
		if _, err := c.Do(context.Background(), vendorhttp.Request{Method: http.MethodGet, Path: "/x"}, &out); err != nil || out.ID != "o-1" {
			t.Errorf("Do = %v, %+v", err, out)
		}
	})
}

// TestNoHiddenResend: http.Transport sends a GET (or a request carrying
// Idempotency-Key) again by itself when a reused connection breaks before
// the answer. The budget paid for one call, so the vendor must see one.
func TestNoHiddenResend(t *testing.T) {
	cases := []vendorhttp.Request{
		{Method: "GET", Path: "/orders/1"},
		{Method: "POST", Path: "/orders/1/cancel", Body: map[string]string{"reason": "other"}, Header: http.Header{"Idempotency-Key": {"k1"}}},
	}
	for _, req := range cases {
		t.Run(req.Method, func(t *testing.T) {
			var calls, bodies atomic.Int32 // the server's goroutines count, the test reads
			cl := serve(t, func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				if r.ContentLength > 0 || len(r.TransferEncoding) > 0 {
					bodies.Add(1)
				}
				if r.URL.Path == "/warm" {
					w.WriteHeader(http.StatusNoContent) // the connection stays open for reuse
					return
				}
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					panic(err)
				}
				_ = conn.Close() // the request arrived; its answer never does
			})
			if _, err := cl.Do(context.Background(), vendorhttp.Request{Method: "GET", Path: "/warm"}, nil); err != nil {
				t.Fatalf("warm-up: %v", err)
			}
			_, err := cl.Do(context.Background(), req, nil)
			if perr := providerError(t, err); perr.Kind != providers.KindTransient {
				t.Errorf("cut call: %v, want Transient", perr)
			}
			if calls.Load() != 2 {
				t.Errorf("the server saw %d calls, want 2 (the warm-up and the cut call, never a resend)", calls.Load())
			}
			if want := map[string]int32{"GET": 0, "POST": 1}[req.Method]; bodies.Load() != want {
				t.Errorf("%d calls carried a body, want %d (a read carries none)", bodies.Load(), want)
			}
		})
	}
}

// TestPacedCalls: under a pacer every call is paid for first, and a call
// the pacer cannot pay for is never sent.
func TestPacedCalls(t *testing.T) {
	var calls atomic.Int32
	cl := serve(t, func(w http.ResponseWriter, _ *http.Request) { calls.Add(1); w.WriteHeader(http.StatusNoContent) })
	var paid int
	budget := 2
	ctx := providers.WithPacer(context.Background(), func(context.Context) error {
		if paid == budget {
			return errors.New("deadline")
		}
		paid++
		return nil
	})
	for range 3 {
		_, _ = cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/orders/1"}, nil)
	}
	if paid != 2 || calls.Load() != 2 {
		t.Errorf("%d calls paid for, %d sent; want 2 and 2", paid, calls.Load())
	}
	_, err := cl.Do(ctx, vendorhttp.Request{Method: "GET", Path: "/orders/1"}, nil)
	if perr := providerError(t, err); perr.Kind != providers.KindTransient {
		t.Errorf("an unpaid call: %v, want Transient", perr)
	}
}

// pausedErr is what the account's budget says while the vendor's
// Retry-After holds the account.
type pausedErr struct{ until time.Time }

func (e pausedErr) Error() string          { return "paused" }
func (e pausedErr) PausedUntil() time.Time { return e.until }

func TestPausedCallIsRateLimitedAndNotSent(t *testing.T) {
	var calls atomic.Int32
	cl := serve(t, func(w http.ResponseWriter, _ *http.Request) { calls.Add(1); w.WriteHeader(http.StatusNoContent) })
	until := time.Now().Add(time.Minute)
	ctx := providers.WithPacer(context.Background(), func(context.Context) error { return pausedErr{until} })
	_, err := cl.Do(ctx, vendorhttp.Request{Method: "POST", Path: "/orders/1/cancel"}, nil)
	perr := providerError(t, err)
	if perr.Kind != providers.KindRateLimited || perr.RetryAfter <= 50*time.Second || calls.Load() != 0 {
		t.Errorf("%v (Retry-After %s) after %d calls; want RateLimited for about a minute, nothing sent", perr, perr.RetryAfter, calls.Load())
	}
}
