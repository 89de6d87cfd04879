package truework_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/simkit"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

var ctx = context.Background()

func TestObserveEveryState(t *testing.T) {
	cases := []struct {
		vendorState string
		want        providers.State
	}{
		{"pending-approval", providers.StateActive},
		{"action-required", providers.StateActive},
		{"processing", providers.StateActive},
		{"other", providers.StateActive},
		{"completed", providers.StateCompleted},
		{"canceled", providers.StateCanceled},
		{"invalid", providers.StateFailed},
	}
	sim, srv := startSim(t)
	for _, tc := range cases {
		t.Run(tc.vendorState, func(t *testing.T) {
			c := simClient(t, sim, srv)
			orderID := createOrder(t, sim, tc.vendorState)
			requestID := onlyRequest(t, sim, orderID)
			obs, err := c.Observe(ctx, orderID)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			assertClean(t, obs)
			if obs.ID != orderID || obs.VendorState != tc.vendorState || obs.State != tc.want {
				t.Errorf("observation = %+v, want %s %s/%s", obs, orderID, tc.vendorState, tc.want)
			}
			wantRequests := []providers.Request{{ID: requestID, VendorState: tc.vendorState, State: tc.want}}
			if !equalRequests(obs.Requests, wantRequests) {
				t.Errorf("requests = %+v, want %+v", obs.Requests, wantRequests)
			}
			if (obs.CompletedAt != nil) != (tc.vendorState == "completed") {
				t.Errorf("CompletedAt = %v for %s", obs.CompletedAt, tc.vendorState)
			}
			// The same request seen alone through the older endpoint.
			single, err := c.Reverified().Observe(ctx, requestID)
			if err != nil {
				t.Fatalf("Reverified().Observe: %v", err)
			}
			if single.ID != requestID || single.VendorState != tc.vendorState || single.State != tc.want {
				t.Errorf("request observation = %+v", single)
			}
		})
	}
}

// A client that sends no version gets plain-string states; the client must
// read them as well as the 2023-10-30 objects.
func TestObservePlainStringStates(t *testing.T) {
	sim, srv := startSim(t)
	unversioned := &http.Client{Transport: stripVersion{http.DefaultTransport}}
	c := newClientWith(t, srv.URL, twsim.TestAPIKey, unversioned)
	orderID := createOrder(t, sim, "completed")
	obs, err := c.Observe(ctx, orderID)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	if obs.VendorState != "completed" || obs.State != providers.StateCompleted || obs.CompletedAt == nil {
		t.Errorf("observation = %+v", obs)
	}
}

type stripVersion struct{ next http.RoundTripper }

func (s stripVersion) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Accept", "application/json")
	return s.next.RoundTrip(r)
}

func TestObserveOrdersOfSeveralRequests(t *testing.T) {
	cases := []struct {
		states    []string
		wantWord  string
		wantState providers.State
	}{
		{[]string{"completed", "processing", "action-required"}, "processing", providers.StateActive},
		{[]string{"invalid", "other"}, "other", providers.StateActive},
		{[]string{"completed", "canceled"}, "canceled", providers.StateCanceled},
		{[]string{"invalid", "completed"}, "completed", providers.StateCompleted},
		{[]string{"invalid", "invalid"}, "invalid", providers.StateFailed},
	}
	sim, srv := startSim(t)
	for _, tc := range cases {
		t.Run(strings.Join(tc.states, "+"), func(t *testing.T) {
			c := simClient(t, sim, srv)
			orderID := createOrder(t, sim, tc.states[0])
			for _, s := range tc.states[1:] {
				if _, err := sim.AddRequest(orderID, s); err != nil {
					t.Fatal(err)
				}
			}
			obs, err := c.Observe(ctx, orderID)
			if err != nil {
				t.Fatalf("Observe: %v", err)
			}
			if obs.VendorState != tc.wantWord || obs.State != tc.wantState || len(obs.Requests) != len(tc.states) {
				t.Errorf("observation = %+v, want %s/%s", obs, tc.wantWord, tc.wantState)
			}
			if obs.CompletedAt != nil {
				t.Errorf("CompletedAt set on an order of several requests")
			}
			if got, _ := sim.OrderState(orderID); got != tc.wantWord {
				t.Errorf("simulator's order state = %q, want %q (same rule as the client)", got, tc.wantWord)
			}
		})
	}
}

func TestCancelFromEveryState(t *testing.T) {
	cases := []struct {
		from     string
		wantKind providers.ErrorKind // "" means success
	}{
		{"pending-approval", ""},
		{"action-required", ""},
		{"processing", ""},
		{"other", ""},
		{"canceled", ""}, // already where we want it
		{"completed", providers.KindRejected},
		{"invalid", providers.KindRejected},
	}
	sim, srv := startSim(t)
	for _, tc := range cases {
		for _, byRequest := range []bool{false, true} {
			name := tc.from + "/order"
			if byRequest {
				name = tc.from + "/request"
			}
			t.Run(name, func(t *testing.T) {
				c := simClient(t, sim, srv)
				orderID := createOrder(t, sim, tc.from)
				id, client := orderID, providers.Client(c)
				if byRequest {
					id, client = onlyRequest(t, sim, orderID), c.Reverified()
				}
				obs, err := client.Cancel(ctx, id, providers.Cancellation{})
				assertClean(t, obs, err)
				if tc.wantKind != "" {
					wantKind(t, err, tc.wantKind)
					if got, _ := sim.OrderState(orderID); got != tc.from {
						t.Errorf("vendor state moved to %s", got)
					}
					return
				}
				if err != nil {
					t.Fatalf("Cancel: %v", err)
				}
				if obs.State != providers.StateCanceled || obs.VendorState != "canceled" || obs.ID != id {
					t.Errorf("observation = %+v", obs)
				}
				if got, _ := sim.OrderState(orderID); got != "canceled" {
					t.Errorf("vendor state = %s", got)
				}
			})
		}
	}
}

// Cancel cancels what is still moving and leaves finished requests alone.
func TestCancelOrderOfSeveralRequests(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "completed")
	if _, err := sim.AddRequest(orderID, "processing"); err != nil {
		t.Fatal(err)
	}
	obs, err := c.Cancel(ctx, orderID, providers.Cancellation{Reason: "competitor"})
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	got := []string{obs.Requests[0].VendorState, obs.Requests[1].VendorState}
	if obs.State != providers.StateCanceled || got[0] != "completed" || got[1] != "canceled" {
		t.Errorf("observation = %+v", obs)
	}
}

// The reason and details reach Truework; no reason means "other".
func TestCancelSendsReason(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	cases := []struct {
		in                    providers.Cancellation
		wantReason            string
		wantDetails           any
		cancelThroughRequests bool
	}{
		{providers.Cancellation{}, "other", nil, false},
		{providers.Cancellation{Reason: "wrong-info", Details: "SSN typo at intake"}, "wrong-info", "SSN typo at intake", false},
		{providers.Cancellation{Reason: "immediate"}, "immediate", nil, true},
	}
	for _, tc := range cases {
		orderID := createOrder(t, sim, "pending-approval")
		requestID := onlyRequest(t, sim, orderID)
		var err error
		if tc.cancelThroughRequests {
			_, err = c.Reverified().Cancel(ctx, requestID, tc.in)
		} else {
			_, err = c.Cancel(ctx, orderID, tc.in)
		}
		if err != nil {
			t.Fatalf("Cancel: %v", err)
		}
		var body struct {
			CancellationReason struct {
				CanonicalValue string `json:"canonical_value"`
			} `json:"cancellation_reason"`
			CancellationDetails any `json:"cancellation_details"`
		}
		getJSON(t, srv.URL+"/verification-requests/"+requestID+"/", "application/json; version=2023-10-30", &body)
		if body.CancellationReason.CanonicalValue != tc.wantReason || body.CancellationDetails != tc.wantDetails {
			t.Errorf("vendor recorded %+v, want %s %v", body, tc.wantReason, tc.wantDetails)
		}
	}
}

func TestCancelWithInvalidReasonShowsVendorMessage(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "processing")
	_, err := c.Cancel(ctx, orderID, providers.Cancellation{Reason: "bored"})
	wantKind(t, err, providers.KindRejected)
	if !strings.Contains(err.Error(), "cancellation_reason") || !strings.Contains(err.Error(), "not a valid choice") {
		t.Errorf("error = %v, want the vendor's field message", err)
	}
}

// A cancel whose response is lost is applied; the retry meets Truework's
// 400 and converges on the canceled order without a second cancellation.
func TestCancelAfterLostResponse(t *testing.T) {
	for _, byRequest := range []bool{false, true} {
		sim, srv := startSim(t)
		c := newClient(t, srv.URL, twsim.TestAPIKey)
		orderID := createOrder(t, sim, "processing")
		id, client := orderID, providers.Client(c)
		if byRequest {
			id, client = onlyRequest(t, sim, orderID), c.Reverified()
		}
		sim.SetFaults(simkit.Faults{DropAfterCommit: 1})
		_, err := client.Cancel(ctx, id, providers.Cancellation{Reason: "other"})
		wantKind(t, err, providers.KindTransient)
		sim.SetFaults(simkit.Faults{})

		obs, err := client.Cancel(ctx, id, providers.Cancellation{Reason: "other"})
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if obs.State != providers.StateCanceled {
			t.Errorf("retry observed %+v", obs)
		}
		var puts []int
		for _, call := range sim.Calls(orderID) {
			if call.Method == http.MethodPut {
				puts = append(puts, call.Status)
			}
		}
		if len(puts) != 2 || puts[0] != http.StatusOK || puts[1] != http.StatusBadRequest {
			t.Errorf("PUT statuses = %v, want the cancel applied once then refused", puts)
		}
	}
}

func TestReverify(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "completed")
	source := onlyRequest(t, sim, orderID)

	before, err := c.Reverified().Observe(ctx, source)
	if err != nil || before.CompletedAt == nil || before.VendorState != "completed" {
		t.Fatalf("observing the source: %+v, %v", before, err)
	}
	obs, err := c.Reverify(ctx, source, sim.ReportID(source))
	if err != nil {
		t.Fatalf("Reverify: %v", err)
	}
	assertClean(t, obs)
	if obs.ID == "" || obs.ID == source || obs.VendorState != "pending-approval" || obs.State != providers.StateActive {
		t.Errorf("observation = %+v", obs)
	}
	if sim.OrderOf(obs.ID) == orderID {
		t.Errorf("the new request landed in the source order")
	}
	if got := sim.Reverifications(source); len(got) != 1 || got[0] != obs.ID {
		t.Errorf("reverifications = %v", got)
	}
	// The new request is managed by request id.
	again, err := c.Reverified().Observe(ctx, obs.ID)
	if err != nil || again.ID != obs.ID || again.VendorState != "pending-approval" {
		t.Fatalf("Observe(new) = %+v, %v", again, err)
	}
	canceled, err := c.Reverified().Cancel(ctx, obs.ID, providers.Cancellation{})
	if err != nil || canceled.State != providers.StateCanceled {
		t.Fatalf("Cancel(new) = %+v, %v", canceled, err)
	}
	if got, _ := sim.OrderState(source); got != "completed" {
		t.Errorf("source request moved to %s", got)
	}
}

func TestReverifyRefused(t *testing.T) {
	sim, srv := startSim(t)
	c := simClient(t, sim, srv)
	for _, state := range []string{"pending-approval", "action-required", "processing", "other", "canceled", "invalid"} {
		t.Run(state, func(t *testing.T) {
			source := onlyRequest(t, sim, createOrder(t, sim, state))
			_, err := c.Reverify(ctx, source, "AAAAAAAAnotareport")
			wantKind(t, err, providers.KindRejected)
			if !strings.Contains(err.Error(), "completed") {
				t.Errorf("error = %v, want the vendor's reason", err)
			}
		})
	}
	t.Run("wrong report", func(t *testing.T) {
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		_, err := c.Reverify(ctx, source, "AAAAAAAAsomeoneelsesreport")
		wantKind(t, err, providers.KindRejected)
	})
	t.Run("unknown request", func(t *testing.T) {
		_, err := c.Reverify(ctx, "AAAAAAAAnosuchrequest", "AAAAAAAAnosuchreport")
		wantKind(t, err, providers.KindNotFound)
	})
}

// The 90-day window is measured on the simulator's clock.
func TestReverifyWindow(t *testing.T) {
	cases := []struct {
		after time.Duration
		ok    bool
	}{
		{89 * 24 * time.Hour, true},
		{90*24*time.Hour - time.Minute, true},
		{91 * 24 * time.Hour, false},
	}
	for _, tc := range cases {
		sim, srv := startSim(t)
		c := newClient(t, srv.URL, twsim.TestAPIKey)
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		sim.Clock.Advance(tc.after)
		_, err := c.Reverify(ctx, source, sim.ReportID(source))
		if tc.ok && err != nil {
			t.Errorf("after %v: %v", tc.after, err)
		}
		if !tc.ok {
			wantKind(t, err, providers.KindRejected)
			if !strings.Contains(err.Error(), "90 days") {
				t.Errorf("error = %v, want the window named", err)
			}
		}
	}
}

// A reverify whose response is lost has still created the request. The
// client does not retry it: Truework would bill a second one.
func TestReverifyLostResponseIsNotRetried(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
	sim.SetFaults(simkit.Faults{DropAfterCommit: 1})
	_, err := c.Reverify(ctx, source, sim.ReportID(source))
	wantKind(t, err, providers.KindTransient)
	if got := sim.Reverifications(source); len(got) != 1 {
		t.Errorf("reverifications = %v, want exactly the one that was applied", got)
	}
}

func getJSON(t *testing.T, url, accept string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+twsim.TestAPIKey)
	req.Header.Set("Accept", accept)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func equalRequests(a, b []providers.Request) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
