package truework_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// Every version the operator speaks works end to end against a key pinned
// to it, through the routes that version has: orders and reports in
// 2023-10-30, verification requests before.
func TestEveryVersion(t *testing.T) {
	for _, version := range truework.APIVersions {
		t.Run(version, func(t *testing.T) {
			sim, srv := startSim(t)
			a := account{version: version, key: "tw_sk_test_pinned_" + strings.ReplaceAll(version, "-", "")}
			if err := sim.PinCredentials(a.key, version); err != nil {
				t.Fatal(err)
			}
			c := a.client(t, srv.URL, nil)
			id := a.managed(t, sim, createOrder(t, sim, "processing"))
			if obs, err := c.Observe(ctx, id); err != nil || obs.ID != id || obs.VendorState != "processing" {
				t.Fatalf("Observe = %+v, %v", obs, err)
			}
			if obs, err := c.Cancel(ctx, id, providers.Cancellation{}); err != nil || obs.State != providers.StateCanceled {
				t.Fatalf("Cancel = %+v, %v", obs, err)
			}
			source := onlyRequest(t, sim, createOrder(t, sim, "completed"))
			since := sim.Clock.Now()
			created, err := c.Reverify(ctx, source, sim.ReportID(source))
			if err != nil || len(sim.Reverifications(source)) != 1 || sim.Reverifications(source)[0] != created.ID {
				t.Fatalf("Reverify = %+v, %v", created, err)
			}
			if obs, found, err := c.FindReverification(ctx, source, since); err != nil || !found || obs.ID != created.ID {
				t.Fatalf("FindReverification = %+v, %v, %v", obs, found, err)
			}
			routes := []string{"/verification-requests/"}
			if a.orders() {
				routes = []string{"/orders", "/reports/"}
			}
			for _, st := range sim.Stats() {
				path := strings.Fields(st.Pattern)[1]
				if !slices.ContainsFunc(routes, func(r string) bool { return strings.HasPrefix(path, r) }) || st.Status == 404 {
					t.Errorf("%s called %s (HTTP %d)", version, st.Pattern, st.Status)
				}
			}
		})
	}
	// A key may be used with a newer version than it is pinned to.
	t.Run("upgraded", func(t *testing.T) {
		sim, srv := startSim(t)
		if err := sim.PinCredentials("tw_sk_test_old", truework.Version20191015); err != nil {
			t.Fatal(err)
		}
		c := account{version: truework.APIVersion, key: "tw_sk_test_old"}.client(t, srv.URL, nil)
		if _, err := c.Observe(ctx, createOrder(t, sim, "processing")); err != nil {
			t.Fatalf("Observe: %v", err)
		}
	})
}

// A provider naming an older version than its key is pinned to is told so
// by Truework (406): a refusal saying what to set.
func TestVersionOlderThanTheKey(t *testing.T) {
	sim, srv := startSim(t)
	c := account{version: truework.Version20220801, key: twsim.TestAPIKey}.client(t, srv.URL, nil)
	_, err := c.Observe(ctx, onlyRequest(t, sim, createOrder(t, sim, "processing")))
	perr := wantKind(t, err, providers.KindRejected)
	if perr.StatusCode != 406 || !strings.Contains(perr.Message, "spec.vendorAPIVersion") || !strings.Contains(perr.Message, "2022-08-01") ||
		!strings.Contains(perr.Message, "older than the version pinned") {
		t.Errorf("error = %#v", perr)
	}
}

func TestUnknownVersion(t *testing.T) {
	_, err := truework.New(providers.Config{Environment: providers.EnvSandbox, APIVersion: "2024-01-01",
		Credentials: map[string][]byte{truework.CredentialKey: []byte(twsim.TestAPIKey)}})
	perr := wantKind(t, err, providers.KindRejected)
	if !strings.Contains(perr.Message, "2024-01-01") || !strings.Contains(perr.Message, "2019-10-15, 2020-12-07, 2022-08-01, 2023-10-30") {
		t.Errorf("error = %v", perr)
	}
}
