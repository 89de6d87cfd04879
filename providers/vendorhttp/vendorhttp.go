// Package vendorhttp is the one HTTP round trip every vendor client uses: it
// sends JSON, caps what it reads, maps status codes to provider error kinds,
// honors Retry-After, and decodes only into the caller's small structs.
//
// Retry-After: every answer that carries one, whatever its status (429,
// 503, any other), is reported through providers.Throttled as soon as its
// status line and headers are in, before its body is read, so that a
// context ending while the body is on its way (a reconcile's deadline)
// loses nothing of the wait; the error of a non-2xx answer carries the wait
// too (RetryAfter), and the longer one when the vendor's error body asks
// for longer (reported again then). Waits are capped at MaxRetryAfter. A
// call under a providers.Hold that holds is not sent at all.
package vendorhttp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// MaxResponseBytes caps a response body. The largest real response in the
// seeds (a Truv order with paystubs) is under 20 KiB; a body beyond this is a
// proxy error page or an attack, not an order.
const MaxResponseBytes = 1 << 20

// Client is a vendor API root plus the vendor's conventions.
type Client struct {
	BaseURL string
	HTTP    *http.Client
	// Decorate sets authentication and version headers on every request.
	Decorate func(*http.Request)
	// DecodeError extracts the vendor's message (and a body-level retry
	// hint) from an error response. It must not return PII: the result is
	// passed through providers.Sanitize, but return only message fields.
	DecodeError func(status int, body []byte) (message string, retryAfter time.Duration)
	// Secrets are the credential values, redacted from every message.
	Secrets []string
	// Verify, when set, checks every response (its status, headers and
	// raw body) before anything in it is believed: a vendor's response
	// signature. A non-nil error is returned as the call's error, so an
	// answer that fails the check is neither decoded nor mapped to a kind.
	Verify func(resp *http.Response, body []byte) error
}

// Request is one call.
type Request struct {
	Method string
	Path   string
	// Body is marshaled to JSON when non-nil.
	Body any
	// Header adds per-call headers.
	Header http.Header
}

// Do sends req and decodes a 2xx JSON body into out (when out is non-nil).
// Every failure is a *providers.Error. It returns the status code of a
// successful response.
func (c *Client) Do(ctx context.Context, req Request, out any) (int, error) {
	httpReq, err := c.newRequest(ctx, req)
	if err != nil {
		return 0, err
	}
	if err := providers.Held(ctx); err != nil {
		return 0, err // an earlier call of the operation was told to wait
	}
	if err := providers.Pace(ctx); err != nil {
		return 0, notSent(err)
	}
	resp, err := c.HTTP.Do(httpReq)
	if err != nil {
		if ctx.Err() != nil {
			return 0, &providers.Error{Kind: providers.KindTransient, Message: "request canceled: " + ctx.Err().Error()}
		}
		return 0, &providers.Error{Kind: providers.KindTransient, Message: "vendor unreachable: " + describeNetErr(err)}
	}
	defer resp.Body.Close()
	// The status line and headers are in: the vendor's wait is known now,
	// and reported now, before the body is read. A context that ends from
	// here on (the reconcile's deadline) cuts the body short, not the wait.
	wait := headerRetryAfter(resp)
	providers.Throttled(ctx, wait)
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		return 0, &providers.Error{Kind: providers.KindTransient, StatusCode: resp.StatusCode, RetryAfter: wait,
			Message: "response cut short: " + describeNetErr(err)}
	}
	if len(body) > MaxResponseBytes {
		return 0, &providers.Error{Kind: providers.KindTransient, StatusCode: resp.StatusCode, RetryAfter: wait,
			Message: fmt.Sprintf("response larger than %d bytes; refusing to read it", MaxResponseBytes)}
	}
	if c.Verify != nil {
		if err := c.Verify(resp, body); err != nil {
			return 0, err
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := c.statusError(resp, body, wait)
		if e.RetryAfter > wait {
			providers.Throttled(ctx, e.RetryAfter) // the body asked for longer than the header
		}
		return 0, e
	}
	if out == nil {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return 0, &providers.Error{Kind: providers.KindTransient, StatusCode: resp.StatusCode,
			Message: "vendor sent an unreadable response (" + contentKind(resp, body) + ")"}
	}
	return resp.StatusCode, nil
}

func (c *Client) newRequest(ctx context.Context, req Request) (*http.Request, error) {
	if err := checkPath(req.Path); err != nil {
		return nil, err
	}
	var body io.Reader
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, providers.Errorf(providers.KindRejected, 0, "encoding request: %v", err)
		}
		body = bytes.NewReader(b)
	}
	httpReq, err := http.NewRequestWithContext(ctx, req.Method, strings.TrimRight(c.BaseURL, "/")+req.Path, body)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindRejected, Message: "invalid vendor URL: " + err.Error()}
	}
	unreplayable(httpReq)
	if req.Body != nil {
		httpReq.Header.Set("Content-Type", "application/json")
	}
	httpReq.Header.Set("Accept", "application/json")
	if c.Decorate != nil {
		c.Decorate(httpReq)
	}
	for k, vs := range req.Header {
		httpReq.Header[k] = vs
	}
	return httpReq, nil
}

// notSent is the error of a call the account's budget did not let go: rate
// limited when the vendor asked the account to wait (never sent, so safe
// to make again), else transient.
func notSent(err error) *providers.Error {
	var paused interface{ PausedUntil() time.Time }
	if errors.As(err, &paused) {
		return &providers.Error{Kind: providers.KindRateLimited, NotSent: true, RetryAfter: time.Until(paused.PausedUntil()), Message: "not sent: " + err.Error()}
	}
	return &providers.Error{Kind: providers.KindTransient, NotSent: true, Message: "not sent: no call left in the account's budget before the deadline: " + err.Error()}
}

// unreplayable stops http.Transport from sending the request a second time
// by itself, which it does once for a GET (or a request it can rewind) when
// a reused connection breaks before the answer. The account's budget paid
// for one call, and the vendor would see two; a failed call is retried by
// the controller instead, paying again. A request is replayable only
// without a body or with GetBody, so reads carry an empty body (sent as
// none at all) and writes lose GetBody. (A bodiless POST is replayable
// only with an Idempotency-Key, which no client sends.)
func unreplayable(r *http.Request) {
	r.GetBody = nil
	if (r.Body == nil || r.Body == http.NoBody) && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		r.Body = emptyBody{} // sent as no body: Go probes it, and finds it empty
	}
}

// emptyBody is an empty request body that http.Transport cannot rewind.
type emptyBody struct{}

func (emptyBody) Read([]byte) (int, error) { return 0, io.EOF }
func (emptyBody) Close() error             { return nil }

// statusError is the error of a non-2xx answer. Its RetryAfter is the
// longer of wait (the header's) and the body's hint (DecodeError's), both
// capped at MaxRetryAfter.
func (c *Client) statusError(resp *http.Response, body []byte, wait time.Duration) *providers.Error {
	e := &providers.Error{Kind: KindForStatus(resp.StatusCode), StatusCode: resp.StatusCode}
	var hint time.Duration
	if c.DecodeError != nil && json.Valid(body) {
		e.Message, hint = c.DecodeError(resp.StatusCode, body)
	}
	if e.Message == "" {
		e.Message = http.StatusText(resp.StatusCode)
		if !json.Valid(body) && len(body) > 0 {
			e.Message += " (" + contentKind(resp, body) + ")"
		}
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		e.Message = "redirected to " + redirectTarget(resp) + "; not followed"
	}
	e.Message = providers.Sanitize(e.Message, c.Secrets...)
	e.RetryAfter = max(wait, min(hint, MaxRetryAfter))
	return e
}

// headerRetryAfter is the wait the answer's Retry-After header asks for,
// whatever its status, capped at MaxRetryAfter; 0 without one.
func headerRetryAfter(resp *http.Response) time.Duration {
	return ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
}

// redirectTarget names where a redirect pointed, without its path (which
// may carry ids) or query.
func redirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return "an unreadable location"
	}
	return loc.Scheme + "://" + loc.Host
}

// refuseRedirects is every client's CheckRedirect. Following one would send
// the credentials to another host (Go strips only Authorization and Cookie,
// not Truv's or AccountChek's headers), in clear after an https→http hop,
// and would replay a cancel's PATCH or POST as a GET whose 200 would read
// as the cancel's answer. The 3xx is reported instead.
func refuseRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// checkPath refuses a path with a dot segment ("." or "..", also escaped):
// an id like ".." would otherwise reach a collection or the API root once
// the path is normalized.
func checkPath(p string) error {
	for _, seg := range strings.Split(p, "/") {
		if u, err := url.PathUnescape(seg); err == nil && (u == "." || u == "..") || strings.EqualFold(seg, "%2e") || strings.EqualFold(seg, "%2e%2e") {
			return &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf("refusing a request path with a dot segment (%q): not a valid id", seg)}
		}
	}
	return nil
}

// KindForStatus is the meaning of an HTTP status shared by every vendor in
// docs/vendors.md: 401/403 bad credentials, 404/410 gone, 429 slow down, 451 legal
// block, 5xx try again, any other 4xx can never succeed as sent.
func KindForStatus(code int) providers.ErrorKind {
	switch {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return providers.KindUnauthorized
	case code == http.StatusNotFound || code == http.StatusGone:
		return providers.KindNotFound
	case code == http.StatusTooManyRequests:
		return providers.KindRateLimited
	case code == http.StatusUnavailableForLegalReasons:
		return providers.KindLegalHold
	case code == http.StatusNotImplemented:
		return providers.KindRejected
	case code >= 500, code == http.StatusRequestTimeout:
		return providers.KindTransient
	default:
		return providers.KindRejected
	}
}

// ParseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
// A delay too long for a Duration reads as MaxRetryAfter, never as none: a
// vendor asking for ten billion seconds must not pause nothing.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case strings.HasPrefix(v, "-"):
			return 0
		case err != nil || secs > int64(MaxRetryAfter/time.Second):
			return MaxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now).Round(time.Second), MaxRetryAfter)
	}
	return 0
}

// MaxRetryAfter is the longest wait a Retry-After is read as; the
// controller caps the wait it honors far lower, and says so.
const MaxRetryAfter = 365 * 24 * time.Hour

func contentKind(resp *http.Response, body []byte) string {
	ct := resp.Header.Get("Content-Type")
	trimmed := bytes.TrimSpace(body)
	switch {
	case strings.Contains(ct, "html") || bytes.HasPrefix(bytes.ToLower(trimmed), []byte("<")):
		return "an HTML page, probably from a proxy"
	case len(trimmed) == 0:
		return "an empty body"
	default:
		return "malformed JSON"
	}
}

// describeNetErr keeps the kind of a network failure without the URL, which
// may carry an order id in a place a log reader does not expect it.
func describeNetErr(err error) string {
	var uerr interface{ Unwrap() error }
	if errors.As(err, &uerr) {
		if inner := uerr.Unwrap(); inner != nil {
			return inner.Error()
		}
	}
	return err.Error()
}

// DefaultTimeout bounds a call when the Config brings no HTTP client.
const DefaultTimeout = 30 * time.Second

// ForConfig builds a vendor's Client from a provider Config: the endpoint
// override or else the vendor's URL for the environment, the Config's HTTP
// client (which carries the provider's rate limit) or else one with
// DefaultTimeout, and the vendor's conventions.
func ForConfig(cfg providers.Config, baseURLs map[string]string, decorate func(*http.Request),
	decodeError func(status int, body []byte) (string, time.Duration)) (Client, error) {
	baseURL := cfg.BaseURL
	if baseURL == "" {
		baseURL = baseURLs[cfg.Environment]
	}
	if baseURL == "" {
		return Client{}, &providers.Error{Kind: providers.KindRejected,
			Message: fmt.Sprintf("no base URL: environment %q is neither sandbox nor production and no endpoint is set", cfg.Environment)}
	}
	if err := CheckEndpoint(baseURL, cfg.Environment); err != nil {
		return Client{}, err
	}
	httpClient := &http.Client{Timeout: DefaultTimeout}
	if cfg.HTTPClient != nil {
		copied := *cfg.HTTPClient
		httpClient = &copied
	}
	httpClient.CheckRedirect = refuseRedirects
	secrets := make([]string, 0, len(cfg.Credentials))
	for _, v := range cfg.Credentials {
		secrets = append(secrets, string(v))
	}
	return Client{BaseURL: baseURL, HTTP: httpClient, Decorate: decorate, DecodeError: decodeError, Secrets: secrets}, nil
}
