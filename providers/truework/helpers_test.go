package truework_test

import (
	"crypto/sha256"
	"errors"
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

// serveFront serves sim behind front, which answers the calls it wants to
// (returning true) and lets the others through.
func serveFront(t *testing.T, sim *twsim.Server, front func(w http.ResponseWriter, r *http.Request) bool) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !front(w, r) {
			sim.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dropAnswer lets sim apply the call, then cuts the connection before the
// answer: a lost response.
func dropAnswer(w http.ResponseWriter, r *http.Request, sim *twsim.Server) {
	sim.ServeHTTP(httptest.NewRecorder(), r)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// newClient builds a sandbox client of the current version for baseURL
// with key.
func newClient(t *testing.T, baseURL, key string) *truework.Client {
	t.Helper()
	return newClientWith(t, providers.Config{BaseURL: baseURL, Credentials: map[string][]byte{truework.CredentialKey: []byte(key)}})
}

// newClientWith builds a client from cfg, a sandbox one unless it says
// otherwise.
func newClientWith(t *testing.T, cfg providers.Config) *truework.Client {
	t.Helper()
	if cfg.Environment == "" {
		cfg.Environment = providers.EnvSandbox
	}
	c, err := truework.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c.(*truework.Client)
}

// account is a Truework account as the tests play it: the API version its
// key is pinned to, and a simulator key pinned to it.
type account struct {
	version string
	key     string
}

// accounts are an account on the current version and one on an older
// version; the suites run against both.
var accounts = []account{
	{version: truework.Version20231030, key: twsim.TestAPIKey},
	{version: truework.Version20220801, key: twsim.LegacyTestAPIKey},
}

// forEachAccount runs f as a subtest per account.
func forEachAccount(t *testing.T, f func(t *testing.T, a account)) {
	t.Helper()
	for _, a := range accounts {
		t.Run(a.version, func(t *testing.T) { f(t, a) })
	}
}

// orders: the account's version manages orders (2023-10-30); the older
// ones manage verification requests.
func (a account) orders() bool { return a.version == truework.Version20231030 }

// managed is what spec.orderID names for an order the simulator made: the
// order itself, or in the older versions its only request.
func (a account) managed(t *testing.T, sim *twsim.Server, orderID string) string {
	t.Helper()
	if a.orders() {
		return orderID
	}
	return onlyRequest(t, sim, orderID)
}

// client builds the account's client for baseURL, with httpClient (nil:
// the default).
func (a account) client(t *testing.T, baseURL string, httpClient *http.Client) *truework.Client {
	t.Helper()
	return newClientWith(t, providers.Config{BaseURL: baseURL, APIVersion: a.version, HTTPClient: httpClient,
		Credentials: map[string][]byte{truework.CredentialKey: []byte(a.key)}})
}

// simClient is the account's client with a key of its own, pinned to the
// account's version, so that the tests sharing a simulator do not spend
// each other's 10 requests/s.
func (a account) simClient(t *testing.T, sim *twsim.Server, srv *httptest.Server) *truework.Client {
	t.Helper()
	key := fmt.Sprintf("tw_sk_test_%x", sha256.Sum256([]byte(t.Name())))
	if err := sim.PinCredentials(key, a.version); err != nil {
		t.Fatal(err)
	}
	own := a
	own.key = key
	return own.client(t, srv.URL, nil)
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
var secrets = append([]string{twsim.TestAPIKey, twsim.LiveAPIKey, twsim.LegacyTestAPIKey, twsim.PublishableKey}, twsim.PII...)

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

// wantKind fails unless err is an *providers.Error of kind, and returns
// it.
func wantKind(t *testing.T, err error, kind providers.ErrorKind) *providers.Error {
	t.Helper()
	var perr *providers.Error
	if !errors.As(err, &perr) || perr.Kind != kind {
		t.Fatalf("error = %v, want a *providers.Error of kind %q", err, kind)
	}
	return perr
}
