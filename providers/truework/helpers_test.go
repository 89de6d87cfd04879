package truework_test

import (
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/truework"
	twsim "github.com/ordersync/verification-operator/providers/truework/simulator"
)

// startSim serves a fresh simulator for one test.
func startSim(t *testing.T) (*twsim.Server, *httptest.Server) {
	t.Helper()
	sim := twsim.New()
	srv := httptest.NewServer(sim)
	t.Cleanup(srv.Close)
	return sim, srv
}

// newClient builds a sandbox client for baseURL with key.
func newClient(t *testing.T, baseURL, key string) *truework.Client {
	t.Helper()
	return newClientWith(t, baseURL, key, nil)
}

func newClientWith(t *testing.T, baseURL, key string, httpClient *http.Client) *truework.Client {
	t.Helper()
	c, err := truework.New(providers.Config{
		BaseURL:     baseURL,
		Environment: providers.EnvSandbox,
		Credentials: map[string][]byte{truework.CredentialKey: []byte(key)},
		HTTPClient:  httpClient,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c.(*truework.Client)
}

// simClient is a client with a key of its own, so that the tests sharing a
// simulator do not spend each other's 10 requests/s.
func simClient(t *testing.T, sim *twsim.Server, srv *httptest.Server) *truework.Client {
	t.Helper()
	key := fmt.Sprintf("tw_sk_test_%x", sha256.Sum256([]byte(t.Name())))
	sim.AddCredentials(key)
	return newClient(t, srv.URL, key)
}

// createOrder makes an order in state through the simulator's admin side.
func createOrder(t *testing.T, sim *twsim.Server, state string) string {
	t.Helper()
	id, err := sim.CreateOrder(state)
	if err != nil {
		t.Fatalf("CreateOrder(%q): %v", state, err)
	}
	return id
}

// onlyRequest is the id of an order's single verification request.
func onlyRequest(t *testing.T, sim *twsim.Server, orderID string) string {
	t.Helper()
	ids := sim.RequestIDs(orderID)
	if len(ids) != 1 {
		t.Fatalf("order has %d requests, want 1", len(ids))
	}
	return ids[0]
}

// secrets are values that must never appear in anything the client returns:
// the simulator's PII and the API keys.
var secrets = append([]string{twsim.TestAPIKey, twsim.LiveAPIKey, twsim.PublishableKey}, twsim.PII...)

// assertClean fails when an observation or error shows PII or a key.
func assertClean(t *testing.T, values ...any) {
	t.Helper()
	for _, v := range values {
		if v == nil {
			continue
		}
		var text string
		if err, ok := v.(error); ok {
			text = err.Error()
		} else {
			text = fmt.Sprintf("%+v", v)
		}
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%q leaks %q", text, s)
			}
		}
	}
}

// wantKind fails unless err is of kind.
func wantKind(t *testing.T, err error, kind providers.ErrorKind) {
	t.Helper()
	if got := providers.KindOf(err); got != kind {
		t.Fatalf("error kind = %q (%v), want %q", got, err, kind)
	}
}
