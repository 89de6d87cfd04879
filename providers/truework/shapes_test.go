package truework_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers/conformance"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// The simulator's real responses, route by route and version by version,
// have the skeleton of the documented examples in testdata/ (see its
// README): the same keys at every level, and at each key the same JSON
// type, null included. A simulator that renames, drops or adds a field, or
// serves one with another type, fails here.
func TestSimulatorServesDocumentedShapes(t *testing.T) {
	// scenario sets up the simulator and makes one call, returning the
	// status and raw body; call helps it.
	type scenario func(t *testing.T, sim *twsim.Server, call caller) (int, []byte)
	cancel := `{"cancellation_reason":"wrong-info","cancellation_details":"SSN typo at intake"}`
	current := []struct {
		file string
		run  scenario
	}{
		{"2023-10-30/order.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			id := createOrder(t, sim, "processing")
			if _, err := sim.AddRequest(id, "completed"); err != nil {
				t.Fatal(err)
			}
			return call("GET", "/orders/"+id, "")
		}},
		{"2023-10-30/order-canceled.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			id := createOrder(t, sim, "pending-approval")
			call("PUT", "/orders/"+id+"/cancel", cancel)
			return call("GET", "/orders/"+id, "")
		}},
		{"2023-10-30/order-cancel.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			id := createOrder(t, sim, "processing")
			if _, err := sim.AddRequest(id, "completed"); err != nil {
				t.Fatal(err)
			}
			return call("PUT", "/orders/"+id+"/cancel", cancel)
		}},
		{"2023-10-30/order-list.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			createOrder(t, sim, "pending-approval")
			createOrder(t, sim, "pending-approval")
			return call("GET", "/orders?limit=1", "")
		}},
		{"2023-10-30/order-list-of-order.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			id := createOrder(t, sim, "processing")
			completed, err := sim.AddRequest(id, "completed")
			if err != nil {
				t.Fatal(err)
			}
			return call("GET", "/orders?verification_id="+completed, "")
		}},
		{"2023-10-30/reverification.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			return call("POST", "/orders/reverification", `{"report_id":"`+sim.ReportID(source)+`"}`)
		}},
		{"2023-10-30/report.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			return call("GET", "/reports/"+sim.ReportID(onlyRequest(t, sim, createOrder(t, sim, "completed"))), "")
		}},
		{"errors/error.json", func(t *testing.T, _ *twsim.Server, call caller) (int, []byte) {
			return call("GET", "/orders/AAAAAAAAnope", "")
		}},
		{"errors/error-invalid-fields.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			return call("PUT", "/orders/"+createOrder(t, sim, "processing")+"/cancel", `{"cancellation_reason":"bored"}`)
		}},
	}
	older := []struct {
		file string
		run  scenario
	}{
		{"before-2023-10-30/verification-request.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			return call("GET", "/verification-requests/"+onlyRequest(t, sim, createOrder(t, sim, "completed"))+"/", "")
		}},
		{"before-2023-10-30/verification-request-canceled.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			return call("PUT", "/verification-requests/"+onlyRequest(t, sim, createOrder(t, sim, "pending-approval"))+"/cancel/", cancel)
		}},
		{"before-2023-10-30/reverify.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			return call("PUT", "/verification-requests/"+source+"/reverify/", `{"report_id":"`+sim.ReportID(source)+`"}`)
		}},
		{"before-2023-10-30/verification-request-list.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			createOrder(t, sim, "pending-approval")
			createOrder(t, sim, "pending-approval")
			return call("GET", "/verification-requests/?limit=1", "")
		}},
		{"errors/error.json", func(t *testing.T, _ *twsim.Server, call caller) (int, []byte) {
			return call("GET", "/verification-requests/AAAAAAAAnope/", "")
		}},
		{"errors/error-invalid-fields.json", func(t *testing.T, sim *twsim.Server, call caller) (int, []byte) {
			return call("PUT", "/verification-requests/"+onlyRequest(t, sim, createOrder(t, sim, "processing"))+"/cancel/", `{"cancellation_reason":"bored"}`)
		}},
	}
	check := func(t *testing.T, version, file string, run scenario) {
		sim, srv := startSim(t)
		key := "tw_sk_test_shapes_" + strings.ReplaceAll(version, "-", "")
		if err := sim.PinCredentials(key, version); err != nil {
			t.Fatal(err)
		}
		status, body := run(t, sim, newCaller(t, srv.URL, key, version))
		if status >= 500 || status == http.StatusTooManyRequests {
			t.Fatalf("HTTP %d: %s", status, body)
		}
		if diffs := conformance.CompareShapes("", skeletonOf(t, readTestdata(t, file)), skeletonOf(t, body), nil); len(diffs) > 0 {
			t.Errorf("the simulator's answer (HTTP %d) differs from %s:\n%s", status, file, strings.Join(diffs, "\n"))
		}
	}
	for _, tc := range current {
		t.Run("2023-10-30/"+tc.file, func(t *testing.T) { check(t, "2023-10-30", tc.file, tc.run) })
	}
	for _, version := range []string{"2019-10-15", "2020-12-07", "2022-08-01"} {
		for _, tc := range older {
			t.Run(version+"/"+tc.file, func(t *testing.T) { check(t, version, tc.file, tc.run) })
		}
	}
	// Every error the simulator answers has the documented error shape.
	t.Run("errors", func(t *testing.T) {
		sim, srv := startSim(t)
		id := createOrder(t, sim, "processing")
		if err := sim.Freeze(id); err != nil {
			t.Fatal(err)
		}
		want := skeletonOf(t, readTestdata(t, "errors/error.json"))
		answers := map[string]func() (int, []byte){
			"401": func() (int, []byte) {
				return newCaller(t, srv.URL, "tw_sk_test_unknown", "2023-10-30")("GET", "/orders/"+id, "")
			},
			"406": func() (int, []byte) {
				return newCaller(t, srv.URL, twsim.TestAPIKey, "2022-08-01")("GET", "/orders/"+id, "")
			},
			"451": func() (int, []byte) {
				return newCaller(t, srv.URL, twsim.TestAPIKey, "2023-10-30")("GET", "/orders/"+id, "")
			},
			"429": func() (int, []byte) {
				call := newCaller(t, srv.URL, twsim.LiveAPIKey, "2023-10-30")
				for range 3 * twsim.RateLimit {
					if status, body := call("GET", "/orders/AAAAAAAAnope", ""); status == http.StatusTooManyRequests {
						return status, body
					}
				}
				t.Fatal("never rate limited")
				return 0, nil
			},
		}
		for name, answer := range answers {
			status, body := answer()
			if fmt.Sprint(status) != name {
				t.Errorf("%s: HTTP %d", name, status)
			}
			if diffs := conformance.CompareShapes("", want, skeletonOf(t, body), nil); len(diffs) > 0 {
				t.Errorf("%s differs from errors/error.json:\n%s", name, strings.Join(diffs, "\n"))
			}
		}
	})
}

// caller makes one call to the simulator, returning the status and body.
type caller func(method, path, body string) (int, []byte)

func newCaller(t *testing.T, baseURL, key, version string) caller {
	return func(method, path, body string) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, baseURL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Accept", "application/json; version="+version)
		req.Header.Set("Request-Sync", "async")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// skeletonOf decodes a JSON body for conformance.CompareShapes.
func skeletonOf(t *testing.T, body []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("not JSON: %v: %s", err, body)
	}
	return v
}
