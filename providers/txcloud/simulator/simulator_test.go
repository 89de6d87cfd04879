package simulator_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers/simkit"
	sim "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

func start(t *testing.T) (*sim.Server, *httptest.Server) {
	t.Helper()
	s := sim.New()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// call makes an API call and returns the status, headers and decoded body.
func call(t *testing.T, ts *httptest.Server, method, path, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	return resp.StatusCode, resp.Header, body
}

func verificationPath(id string) string { return sim.BasePath + "/identity/verifications/" + id }

const bearer = "Bearer " + sim.TestAPIKey

func errorField(body map[string]any, field string) any {
	e, _ := body["error"].(map[string]any)
	return e[field]
}

func TestAuthentication(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StatePending)
	cases := []struct {
		name, auth string
		want       int
	}{
		{"test key", bearer, 200},
		{"live key", "Bearer " + sim.LiveAPIKey, 200},
		{"lowercase scheme", "bearer " + sim.TestAPIKey, 200},
		{"no header", "", 401},
		{"unknown key", "Bearer txc_test_nope", 401},
		{"basic scheme", "Basic " + sim.TestAPIKey, 401},
		{"bare key", sim.TestAPIKey, 401},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, body := call(t, ts, "GET", verificationPath(id), c.auth)
			if status != c.want {
				t.Fatalf("status %d, want %d", status, c.want)
			}
			if c.want != 401 {
				return
			}
			if errorField(body, "type") != "authentication_error" || errorField(body, "code") != "invalid_api_key" {
				t.Errorf("error body %v", body)
			}
			if e := body["error"].(map[string]any); e["param"] != nil || !strings.HasPrefix(e["request_id"].(string), "req_") {
				t.Errorf("param must be null and request_id req_...: %v", e)
			}
			if msg, _ := errorField(body, "message").(string); strings.Contains(msg, "txc_") {
				t.Errorf("401 message echoes the key: %q", msg)
			}
		})
	}
}

func TestRotatedKeys(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StatePending)
	const rotated = "txc_test_rotated_0123456789"
	s.AddAPIKey(rotated)
	if status, _, _ := call(t, ts, "GET", verificationPath(id), "Bearer "+rotated); status != 200 {
		t.Fatalf("added key: status %d", status)
	}
	s.RevokeAPIKey(sim.TestAPIKey)
	if status, _, _ := call(t, ts, "GET", verificationPath(id), bearer); status != 401 {
		t.Fatalf("revoked key: status %d", status)
	}
}

func TestBodyHasTheSeedShape(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StateReview)
	status, _, body := call(t, ts, "GET", verificationPath(id), bearer)
	if status != 200 || body["id"] != id || body["status"] != "review" || body["object"] != "identity.verification" {
		t.Fatalf("status %d body %v", status, body)
	}
	raw, err := os.ReadFile("../testdata/cancel-verification.json")
	if err != nil {
		t.Fatal(err)
	}
	var seed map[string]any
	if err := json.Unmarshal(raw, &seed); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []string{"", "extracted_data", "checks"} {
		want, got := seed, body
		if obj != "" {
			want, got = seed[obj].(map[string]any), body[obj].(map[string]any)
		}
		for k := range want {
			if _, ok := got[k]; !ok {
				t.Errorf("%s lacks the seed's field %q", obj, k)
			}
		}
	}
	served := map[string]bool{}
	collectStrings(body, served)
	for _, p := range sim.PII {
		if !served[p] {
			t.Errorf("PII value %q is listed but not served", p)
		}
	}
}

func collectStrings(v any, into map[string]bool) {
	switch v := v.(type) {
	case string:
		into[v] = true
	case map[string]any:
		for _, e := range v {
			collectStrings(e, into)
		}
	case []any:
		for _, e := range v {
			collectStrings(e, into)
		}
	}
}

func TestCancelOverHTTP(t *testing.T) {
	for _, from := range sim.Statuses {
		t.Run(from, func(t *testing.T) {
			s, ts := start(t)
			id, _ := s.CreateOrder(from)
			status, _, body := call(t, ts, "POST", verificationPath(id)+"/cancel", bearer)
			if from == sim.StatePending {
				if status != 200 || body["status"] != sim.StateExpired {
					t.Fatalf("cancel from pending: %d %v", status, body["status"])
				}
				return
			}
			if status != 409 || errorField(body, "code") != "verification_not_cancelable" || errorField(body, "type") != "validation_error" {
				t.Fatalf("cancel from %s: %d %v", from, status, body)
			}
			if st, _ := s.OrderState(id); st != from {
				t.Errorf("refused cancel moved %s to %s", from, st)
			}
		})
	}
}

func TestRoutes(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StatePending)
	// unknown is an id the simulator never issued: its ids are random, so
	// the case says which rows expect not_found_error, rather than matching
	// on an id prefix a random id may share.
	const unknown = "ver_000000000000"
	cases := []struct {
		method, path string
		want         int
		notFound     bool
	}{
		{"GET", verificationPath(unknown), 404, true},
		{"POST", verificationPath(unknown) + "/cancel", 404, true},
		{"GET", verificationPath(id) + "/", 404, false},
		{"GET", "/identity/verifications/" + id, 404, false},
		{"PUT", verificationPath(id) + "/cancel", 405, false},
		{"GET", verificationPath(id) + "/cancel", 405, false},
	}
	for _, c := range cases {
		status, _, body := call(t, ts, c.method, c.path, bearer)
		if status != c.want {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, status, c.want)
		}
		if c.notFound && errorField(body, "type") != "not_found_error" {
			t.Errorf("%s %s: body %v, want not_found_error", c.method, c.path, body)
		}
	}
	if st, _ := s.OrderState(id); st != sim.StatePending {
		t.Errorf("wrong routes changed the verification to %s", st)
	}
}

func TestRateLimit(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StatePending)
	last := sim.RequestsPerMinute + 1
	for i := 1; i <= last; i++ {
		status, h, body := call(t, ts, "GET", verificationPath(id), bearer)
		if h.Get("X-RateLimit-Window") != "60" {
			t.Errorf("call %d: X-RateLimit-Window %q, want the minute's 60", i, h.Get("X-RateLimit-Window"))
		}
		for _, name := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
			if _, err := strconv.ParseInt(h.Get(name), 10, 64); err != nil {
				t.Fatalf("call %d: %s = %q", i, name, h.Get(name))
			}
		}
		if i == 1 && h.Get("X-RateLimit-Remaining") != strconv.Itoa(sim.RequestsPerMinute-1) {
			t.Errorf("first call: remaining %s", h.Get("X-RateLimit-Remaining"))
		}
		if i < last {
			if status != 200 {
				t.Fatalf("call %d: status %d within the limit", i, status)
			}
			continue
		}
		if status != 429 || h.Get("Retry-After") == "" || errorField(body, "type") != "rate_limit_error" {
			t.Fatalf("call %d: %d Retry-After %q body %v", i, status, h.Get("Retry-After"), body)
		}
		if ra, _ := errorField(body, "retry_after").(float64); ra < 1 {
			t.Errorf("429 body retry_after = %v", errorField(body, "retry_after"))
		}
	}
	// The budget is per key: another key is unaffected.
	if status, _, _ := call(t, ts, "GET", verificationPath(id), "Bearer "+sim.LiveAPIKey); status != 200 {
		t.Errorf("other key: status %d", status)
	}
	// Every response carries the headers, refusals included.
	if _, h, _ := call(t, ts, "GET", verificationPath(id), "Bearer txc_test_nope"); h.Get("X-RateLimit-Limit") != "60" {
		t.Errorf("401 without X-RateLimit-Limit")
	}
}

func TestSetOrderState(t *testing.T) {
	// Restated from docs/vendors.md, not imported: review and manual_review
	// are the only statuses besides pending that are not over.
	legal := map[string][]string{
		sim.StatePending:      {sim.StateReview, sim.StateManualReview, sim.StateVerified, sim.StateRejected, sim.StateExpired, sim.StateError, sim.StateFailed, sim.StateCancelled},
		sim.StateReview:       {sim.StateVerified, sim.StateRejected},
		sim.StateManualReview: {sim.StateVerified, sim.StateRejected, sim.StateFailed},
	}
	s := sim.New()
	for _, from := range sim.Statuses {
		for _, to := range sim.Statuses {
			id, err := s.CreateOrder(from)
			if err != nil {
				t.Fatal(err)
			}
			err = s.SetOrderState(id, to)
			want := from == to || slices.Contains(legal[from], to)
			if (err == nil) != want {
				t.Errorf("%s → %s: err %v, want allowed=%v", from, to, err, want)
			}
			if got, _ := s.OrderState(id); want && got != to || !want && got != from {
				t.Errorf("%s → %s: now %s", from, to, got)
			}
		}
	}
	id, _ := s.CreateOrder(sim.StatePending)
	if err := s.SetOrderState(id, "canceled"); !errors.Is(err, simkit.ErrUnknownState) {
		t.Errorf("unknown word: %v", err)
	}
	if err := s.SetOrderState("ver_missing", sim.StateExpired); !errors.Is(err, simkit.ErrNoOrder) {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := s.CreateOrder("canceled"); !errors.Is(err, simkit.ErrUnknownState) || !strings.Contains(err.Error(), "pending, review") {
		t.Errorf("CreateOrder(canceled): %v", err)
	}
}

func TestAdminAPI(t *testing.T) {
	_, ts := start(t)
	admin := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, out := admin("POST", "/_sandbox/orders", `{"state":"pending"}`)
	id, _ := out["id"].(string)
	if status != 201 || !strings.HasPrefix(id, "ver_") || len(id) != len("ver_a1b2c3d4e5f6") {
		t.Fatalf("create: %d %v", status, out)
	}
	if status, out := admin("POST", "/_sandbox/orders", `{"state":"canceled"}`); status != 400 || !strings.Contains(out["error"].(string), "expired") {
		t.Errorf("create unknown: %d %v", status, out)
	}
	call(t, ts, "POST", verificationPath(id)+"/cancel", bearer)
	status, out = admin("GET", "/_sandbox/orders/"+id, "")
	calls, _ := out["calls"].([]any)
	if status != 200 || out["state"] != sim.StateExpired || len(calls) != 1 {
		t.Fatalf("get: %d %v", status, out)
	}
	if status, _ := admin("POST", "/_sandbox/orders/"+id+"/state", `{"state":"verified"}`); status != 400 {
		t.Errorf("leaving expired: %d, want 400", status)
	}
	_, out = admin("POST", "/_sandbox/orders", `{"state":"review"}`)
	id = out["id"].(string)
	if status, out := admin("POST", "/_sandbox/orders/"+id+"/state", `{"state":"verified"}`); status != 200 || out["state"] != sim.StateVerified {
		t.Errorf("review → verified: %d %v", status, out)
	}
	if status, _ := admin("GET", "/_sandbox/orders/ver_missing", ""); status != 404 {
		t.Errorf("unknown order: %d", status)
	}
}

func TestInjectedFaultsUseTheErrorFormat(t *testing.T) {
	s, ts := start(t)
	id, _ := s.CreateOrder(sim.StatePending)
	s.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{429}, RetryAfterSeconds: 7})
	status, h, body := call(t, ts, "GET", verificationPath(id), bearer)
	if status != 429 || h.Get("Retry-After") != "7" || errorField(body, "retry_after") != 7.0 || errorField(body, "type") != "rate_limit_error" {
		t.Fatalf("429 fault: %d %q %v", status, h.Get("Retry-After"), body)
	}
	s.SetFaults(simkit.Faults{Rate: 1, Statuses: []int{503}})
	if status, _, body := call(t, ts, "GET", verificationPath(id), bearer); status != 503 || errorField(body, "type") != "api_error" {
		t.Fatalf("503 fault: %d %v", status, body)
	}
}

func TestACancelLeavesTheConfiguredStatus(t *testing.T) {
	for _, leaves := range []string{sim.StateExpired, sim.StateCancelled} {
		s := sim.New()
		if err := s.SetCanceledStatus(leaves); err != nil {
			t.Fatal(err)
		}
		ts := httptest.NewServer(s)
		id, _ := s.CreateOrder(sim.StatePending)
		if status, _, _ := call(t, ts, "POST", verificationPath(id)+"/cancel", "Bearer "+sim.TestAPIKey); status != 200 {
			t.Fatalf("cancel: %d", status)
		}
		if got, _ := s.OrderState(id); got != leaves {
			t.Errorf("a cancel left %s, want %s", got, leaves)
		}
		ts.Close()
	}
	if err := sim.New().SetCanceledStatus("canceled"); err == nil {
		t.Error("a cancel can leave only expired or cancelled")
	}
}
