package truework_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
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
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		for _, tc := range cases {
			t.Run(tc.vendorState, func(t *testing.T) {
				c := a.simClient(t, sim, srv)
				orderID := createOrder(t, sim, tc.vendorState)
				requestID := onlyRequest(t, sim, orderID)
				id := a.managed(t, sim, orderID)
				obs, err := c.Observe(ctx, id)
				if err != nil {
					t.Fatalf("Observe: %v", err)
				}
				assertClean(t, obs)
				if obs.ID != id || obs.VendorState != tc.vendorState || obs.State != tc.want {
					t.Errorf("observation = %+v, want %s %s/%s", obs, id, tc.vendorState, tc.want)
				}
				wantRequests := []providers.Request{{ID: requestID, VendorState: tc.vendorState, State: tc.want}}
				if !equalRequests(obs.Requests, wantRequests) {
					t.Errorf("requests = %+v, want %+v", obs.Requests, wantRequests)
				}
				if (obs.CompletedAt != nil) != (tc.vendorState == "completed") {
					t.Errorf("CompletedAt = %v for %s", obs.CompletedAt, tc.vendorState)
				}
				// The same request seen alone, as the controller sees the
				// request a reverification starts from.
				single, err := c.Reverified().Observe(ctx, requestID)
				if err != nil {
					t.Fatalf("Reverified().Observe: %v", err)
				}
				if single.ID != requestID || single.VendorState != tc.vendorState || single.State != tc.want ||
					(single.CompletedAt != nil) != (tc.vendorState == "completed") {
					t.Errorf("request observation = %+v", single)
				}
			})
		}
	})
}

// In 2023-10-30 a request is read out of the order holding it, whichever
// of its requests it is.
func TestObserveRequestOfSeveral(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "completed")
	second, err := sim.AddRequest(orderID, "processing")
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{onlyRequestOf(sim, orderID, 0): "completed", second: "processing"} {
		obs, err := c.Reverified().Observe(ctx, id)
		if err != nil || obs.ID != id || obs.VendorState != want || len(obs.Requests) != 1 {
			t.Errorf("Observe(%s) = %+v, %v; want %s", id, obs, err, want)
		}
	}
}

func onlyRequestOf(sim *twsim.Server, orderID string, i int) string {
	return sim.RequestIDs(orderID)[i]
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
	current := accounts[0]
	for _, tc := range cases {
		t.Run(strings.Join(tc.states, "+"), func(t *testing.T) {
			c := current.simClient(t, sim, srv)
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
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		for _, tc := range cases {
			for _, byRequest := range []bool{false, true} {
				name := tc.from + "/order"
				if byRequest {
					name = tc.from + "/request"
				}
				t.Run(name, func(t *testing.T) {
					c := a.simClient(t, sim, srv)
					orderID := createOrder(t, sim, tc.from)
					id, client := a.managed(t, sim, orderID), providers.Client(c)
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
	})
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

// 2023-10-30 cancels whole orders: canceling one request of several would
// cancel the others, so the request client refuses before any cancel.
func TestCancelRequestOfSeveralIsRefused(t *testing.T) {
	sim, srv := startSim(t)
	c := newClient(t, srv.URL, twsim.TestAPIKey)
	orderID := createOrder(t, sim, "processing")
	other, err := sim.AddRequest(orderID, "processing")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Reverified().Cancel(ctx, other, providers.Cancellation{})
	wantKind(t, err, providers.KindRejected)
	if !strings.Contains(err.Error(), orderID) || !strings.Contains(err.Error(), "spec.orderID") {
		t.Errorf("error = %v, want the order named", err)
	}
	if n := sim.CountCalls(orderID, http.MethodPut); n != 0 {
		t.Errorf("%d cancel calls reached Truework", n)
	}
	if got, _ := sim.OrderState(other); got != "processing" {
		t.Errorf("request moved to %s", got)
	}
}

// The reason and details reach Truework; no reason means "other".
func TestCancelSendsReason(t *testing.T) {
	cases := []struct {
		in          providers.Cancellation
		wantReason  string
		wantDetails any
		byRequest   bool
	}{
		{providers.Cancellation{}, "other", nil, false},
		{providers.Cancellation{Reason: "wrong-info", Details: "SSN typo at intake"}, "wrong-info", "SSN typo at intake", false},
		{providers.Cancellation{Reason: "immediate"}, "immediate", nil, true},
	}
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
		for _, tc := range cases {
			orderID := createOrder(t, sim, "pending-approval")
			requestID := onlyRequest(t, sim, orderID)
			var err error
			if tc.byRequest {
				_, err = c.Reverified().Cancel(ctx, requestID, tc.in)
			} else {
				_, err = c.Cancel(ctx, a.managed(t, sim, orderID), tc.in)
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
			var order struct {
				VerificationRequests []json.RawMessage `json:"verification_requests"`
			}
			getJSON(t, srv.URL+"/orders/"+orderID, "application/json; version=2023-10-30", &order)
			if err := json.Unmarshal(order.VerificationRequests[0], &body); err != nil {
				t.Fatal(err)
			}
			if body.CancellationReason.CanonicalValue != tc.wantReason || body.CancellationDetails != tc.wantDetails {
				t.Errorf("vendor recorded %+v, want %s %v", body, tc.wantReason, tc.wantDetails)
			}
		}
	})
}

// A 400 with invalid_fields shows Truework's complaint per field.
func TestCancelWithInvalidReasonShowsVendorMessage(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		orderID := createOrder(t, sim, "processing")
		_, err := a.client(t, srv.URL, nil).Cancel(ctx, a.managed(t, sim, orderID), providers.Cancellation{Reason: "bored"})
		wantKind(t, err, providers.KindRejected)
		if !strings.Contains(err.Error(), "cancellation_reason") || !strings.Contains(err.Error(), "not a valid choice") {
			t.Errorf("error = %v, want the vendor's field message", err)
		}
	})
}

// A cancel whose response is lost is applied; the retry meets Truework's
// 400 and converges on the canceled order without a second cancellation.
func TestCancelAfterLostResponse(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		for _, byRequest := range []bool{false, true} {
			sim := twsim.New()
			// The first cancel's answer is lost (a request's order is
			// looked up first in 2023-10-30: that answer arrives).
			var dropped atomic.Bool
			srv := serveFront(t, sim, func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method != http.MethodPut || dropped.Swap(true) {
					return false
				}
				dropAnswer(w, r, sim)
				return true
			})
			c := a.client(t, srv.URL, nil)
			orderID := createOrder(t, sim, "processing")
			id, client := a.managed(t, sim, orderID), providers.Client(c)
			if byRequest {
				id, client = onlyRequest(t, sim, orderID), c.Reverified()
			}
			_, err := client.Cancel(ctx, id, providers.Cancellation{Reason: "other"})
			wantKind(t, err, providers.KindTransient)

			obs, err := client.Cancel(ctx, id, providers.Cancellation{Reason: "other"})
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			if obs.State != providers.StateCanceled || obs.ID != id {
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
	})
}

func TestReverify(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.client(t, srv.URL, nil)
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
		if err != nil || canceled.State != providers.StateCanceled || canceled.ID != obs.ID {
			t.Fatalf("Cancel(new) = %+v, %v", canceled, err)
		}
		if got, _ := sim.OrderState(obs.ID); got != "canceled" {
			t.Errorf("the new request is %s", got)
		}
		if got, _ := sim.OrderState(source); got != "completed" {
			t.Errorf("source request moved to %s", got)
		}
	})
}

func TestReverifyRefused(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim, srv := startSim(t)
		c := a.simClient(t, sim, srv)
		for _, state := range []string{"pending-approval", "action-required", "processing", "other", "canceled", "invalid"} {
			t.Run(state, func(t *testing.T) {
				source := onlyRequest(t, sim, createOrder(t, sim, state))
				_, err := c.Reverify(ctx, source, "AAAAAAAAnotareport")
				if a.orders() {
					// 2023-10-30 reverifies a report, and only a completed
					// request has one: naming another is not found.
					wantKind(t, err, providers.KindNotFound)
				} else {
					wantKind(t, err, providers.KindRejected)
					if !strings.Contains(err.Error(), "completed") {
						t.Errorf("error = %v, want the vendor's reason", err)
					}
				}
				if got := sim.Reverifications(source); len(got) != 0 {
					t.Errorf("reverified: %v", got)
				}
			})
		}
		t.Run("another request's report", func(t *testing.T) {
			source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			other := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			_, err := c.Reverify(ctx, source, sim.ReportID(other))
			wantKind(t, err, providers.KindRejected)
			if a.orders() && !strings.Contains(err.Error(), "spec.reverification.reportID") {
				t.Errorf("error = %v, want the spec fields named", err)
			}
			if n := len(sim.Reverifications(source)) + len(sim.Reverifications(other)); n != 0 {
				t.Errorf("%d reverifications", n)
			}
		})
		t.Run("unknown request", func(t *testing.T) {
			_, err := c.Reverify(ctx, "AAAAAAAAnosuchrequest", "AAAAAAAAnosuchreport")
			wantKind(t, err, providers.KindNotFound)
		})
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
	forEachAccount(t, func(t *testing.T, a account) {
		for _, tc := range cases {
			sim, srv := startSim(t)
			c := a.client(t, srv.URL, nil)
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
	})
}

// A reverify whose response is lost has still created the request. The
// client does not retry it: Truework would bill a second one.
func TestReverifyLostResponseIsNotRetried(t *testing.T) {
	forEachAccount(t, func(t *testing.T, a account) {
		sim := twsim.New()
		source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
		// Only the reverify call's answer is lost, not the report's read.
		srv := serveFront(t, sim, func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet {
				return false
			}
			dropAnswer(w, r, sim)
			return true
		})
		_, err := a.client(t, srv.URL, nil).Reverify(ctx, source, sim.ReportID(source))
		wantKind(t, err, providers.KindTransient)
		if got := sim.Reverifications(source); len(got) != 1 {
			t.Errorf("reverifications = %v, want exactly the one that was applied", got)
		}
	})
}

// 2023-10-30 answers a reverification with an order; one of several
// requests cannot be told to be ours. It was created (and billed), so the
// error is not a refusal: the controller keeps its intent and looks it up.
func TestReverifyAnsweredWithSeveralRequests(t *testing.T) {
	sim := twsim.New()
	source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
	srv := serveFront(t, sim, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"O","verification_requests":[{"id":"A","state":"pending-approval"},{"id":"B","state":"pending-approval"}]}`))
		return true
	})
	_, err := newClient(t, srv.URL, twsim.TestAPIKey).Reverify(ctx, source, sim.ReportID(source))
	wantKind(t, err, providers.KindOutcomeUnknown)
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
