package truv

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

func employers(statuses ...string) order {
	o := order{ID: "39aa1486ccca4bc19cda071ffc1ba392"}
	for i, st := range statuses {
		o.Employers = append(o.Employers, part{ID: fmt.Sprintf("e%d", i), Status: st})
	}
	return o
}

func TestOrderStatusDerivedFromEmployers(t *testing.T) {
	cases := []struct {
		name      string
		order     order
		wantWord  string
		wantState providers.State
	}{
		{"pending", employers("pending"), "pending", providers.StateActive},
		{"sent", employers("sent"), "sent", providers.StateActive},
		{"completed", employers("completed"), "completed", providers.StateCompleted},
		{"canceled", employers("canceled"), "canceled", providers.StateCanceled},
		{"expired", employers("expired"), "expired", providers.StateExpired},
		{"error", employers("error"), "error", providers.StateFailed},
		{"no_data", employers("no_data"), "no_data", providers.StateFailed},
		{"skipped", employers("skipped"), "skipped", providers.StateFailed},
		{"sent wins over pending", employers("pending", "sent"), "sent", providers.StateActive},
		{"open wins over terminal", employers("completed", "pending"), "pending", providers.StateActive},
		{"all canceled", employers("canceled", "canceled"), "canceled", providers.StateCanceled},
		{"completed wins over canceled", employers("canceled", "completed"), "completed", providers.StateCompleted},
		{"completed wins over expired", employers("expired", "completed"), "completed", providers.StateCompleted},
		{"expired wins over failed", employers("error", "expired"), "expired", providers.StateExpired},
		{"first failure", employers("canceled", "no_data", "error"), "no_data", providers.StateFailed},
		{"unknown word stays active", employers("awaiting_consent"), "awaiting_consent", providers.StateActive},
		{"known open word wins over unknown", employers("awaiting_consent", "pending"), "pending", providers.StateActive},
		{"no employers: financial accounts", order{ID: "x", FinancialAccounts: []part{{ID: "f", Status: "completed"}}}, "completed", providers.StateCompleted},
		{"no employers: insurance", order{ID: "x", Insurance: &part{ID: "i", Status: "sent"}}, "sent", providers.StateActive},
		{"no parts at all", order{ID: "x"}, "", providers.StateActive},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			obs := c.order.observation()
			if obs.VendorState != c.wantWord || obs.State != c.wantState {
				t.Errorf("got %q/%s, want %q/%s", obs.VendorState, obs.State, c.wantWord, c.wantState)
			}
			if len(obs.Requests) != len(c.order.statusParts()) {
				t.Errorf("got %d requests, want one per part", len(obs.Requests))
			}
		})
	}
}

func TestRequestsAreEmployersNormalized(t *testing.T) {
	obs := employers("sent", "no_data").observation()
	want := []providers.Request{
		{ID: "e0", VendorState: "sent", State: providers.StateActive},
		{ID: "e1", VendorState: "no_data", State: providers.StateFailed},
	}
	if fmt.Sprint(obs.Requests) != fmt.Sprint(want) {
		t.Errorf("requests = %+v, want %+v", obs.Requests, want)
	}
}

func TestCompletedAtOnlyWhenCompleted(t *testing.T) {
	o := employers("completed")
	o.Employers[0].CompletedAt = "2021-04-22T21:45:14.418Z"
	obs := o.observation()
	want := time.Date(2021, 4, 22, 21, 45, 14, 418e6, time.UTC)
	if obs.CompletedAt == nil || !obs.CompletedAt.Equal(want) {
		t.Errorf("CompletedAt = %v, want %v", obs.CompletedAt, want)
	}

	o.CompletedAt = "2021-04-23T10:00:00.000Z" // the order's own time wins
	if got := o.observation().CompletedAt; got == nil || got.Day() != 23 {
		t.Errorf("CompletedAt = %v, want the order's completed_at", got)
	}

	o = employers("pending")
	o.CompletedAt = "2021-04-22T21:45:14.418Z" // as in the seed: not completed, so ignored
	if got := o.observation().CompletedAt; got != nil {
		t.Errorf("CompletedAt = %v for an open order, want nil", got)
	}

	o = employers("completed")
	o.CompletedAt = "yesterday"
	if got := o.observation().CompletedAt; got != nil {
		t.Errorf("CompletedAt = %v for an unreadable time, want nil", got)
	}
}

// The seed's own example (testdata/cancel-order-response.json, copied from
// truv-cancel-order.txt) decodes to the expected Observation and nothing of
// its PII survives. The example is an expired order (is_expired: true)
// whose employer still says pending: over, not active.
func TestDecodeSeedExample(t *testing.T) {
	raw, err := os.ReadFile("testdata/cancel-order-response.json")
	if err != nil {
		t.Fatal(err)
	}
	var o order
	if err := json.Unmarshal(raw, &o); err != nil {
		t.Fatal(err)
	}
	obs := o.observation()
	want := providers.Observation{
		ID: "39aa1486ccca4bc19cda071ffc1ba392", VendorState: "expired", State: providers.StateExpired,
		Requests: []providers.Request{{ID: "ad9f14440d624ec3b0f66e81e44518c7", VendorState: "pending", State: providers.StateActive}},
	}
	if fmt.Sprintf("%+v", obs) != fmt.Sprintf("%+v", want) {
		t.Errorf("observation = %+v, want %+v", obs, want)
	}
	printed := fmt.Sprintf("%+v %+v", obs, o)
	for _, pii := range []string{"123456789", "1234567890", "1992-03-03", "john.doe@example.com", "1 Morgan Ave", "John", "Doe", "6503087300"} {
		if strings.Contains(printed, pii) {
			t.Errorf("decoded order contains PII %q: %s", pii, printed)
		}
	}
}

func TestDecodeError(t *testing.T) {
	cases := []struct {
		name, body, want string
	}{
		{"auth", `{"error":{"code":"authentication_failed","message":"No such token"}}`, "No such token"},
		{"validation with params",
			`{"error":{"code":"validation_error","message":"Invalid request","extra":{"invalid-params":[{"field":"status","message":"Order is completed"},{"field":"","message":"Try later"}]}}}`,
			"Invalid request; status: Order is completed; Try later"},
		{"odd extra still keeps the message", `{"error":{"code":"validation_error","message":"Bad","extra":"nope"}}`, "Bad"},
		{"a 404's detail (Truv's documented 404 shape)", `{"detail":"Not Found."}`, "Not Found."},
		{"neither", `{"message":"x"}`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, hint := DecodeError(400, []byte(c.body))
			if got != c.want || hint != 0 {
				t.Errorf("DecodeError = %q, %v; want %q, 0", got, hint, c.want)
			}
		})
	}
}

func TestAnExpiredOrderIsOverWhateverItsEmployersSay(t *testing.T) {
	for _, c := range []struct {
		name      string
		expired   bool
		employers []string
		word      string
		state     providers.State
	}{
		{"open and not expired", false, []string{"sent"}, "sent", providers.StateActive},
		{"expired with an employer still pending", true, []string{"pending"}, "expired", providers.StateExpired},
		{"expired after one employer completed", true, []string{"completed", "sent"}, "expired", providers.StateExpired},
		{"completed, then the order's deadline passed", true, []string{"completed"}, "completed", providers.StateCompleted},
		{"canceled, then the order's deadline passed", true, []string{"canceled"}, "canceled", providers.StateCanceled},
	} {
		o := order{ID: "o", IsExpired: c.expired}
		for i, st := range c.employers {
			o.Employers = append(o.Employers, part{ID: fmt.Sprint("e", i), Status: st})
		}
		if obs := o.observation(); obs.VendorState != c.word || obs.State != c.state {
			t.Errorf("%s: %s (%s), want %s (%s)", c.name, obs.VendorState, obs.State, c.word, c.state)
		}
	}
}
