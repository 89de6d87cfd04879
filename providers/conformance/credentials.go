package conformance

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

// checkCredentials: valid credentials pass; empty, missing and
// wrong-environment ones are refused before any call, by both
// ValidateCredentials and New, with messages that never show a secret.
func checkCredentials(t *testing.T, a Adapter) {
	v := a.Vendor
	t.Run("Valid", func(t *testing.T) {
		if err := v.ValidateCredentials(a.Environment, a.Credentials); err != nil {
			t.Errorf("ValidateCredentials refused the simulator's credentials: %v", err)
		}
	})
	for _, tc := range unusableCredentials(a) {
		t.Run(tc.name, func(t *testing.T) {
			if tc.data == nil && tc.name == "WrongEnvironment" {
				t.Skipf("%s credentials look the same in every environment", a.Name)
			}
			secrets := slices.Concat(a.secrets(), values(tc.data))
			err := v.ValidateCredentials(a.Environment, tc.data)
			if err == nil {
				t.Fatalf("ValidateCredentials accepted %s credentials", tc.name)
			}
			assertClean(t, secrets, nil, providers.Observation{}, err)
			checkNewRefuses(t, a, tc.data, secrets)
		})
	}
}

type credentialCase struct {
	name string
	data map[string][]byte
}

// unusableCredentials: no data, each required key emptied or missing, and
// a key of another environment.
func unusableCredentials(a Adapter) []credentialCase {
	cases := []credentialCase{{"Nil", nil}, {"Empty", map[string][]byte{}}}
	for _, key := range a.Vendor.CredentialKeys {
		emptied := maps.Clone(a.Credentials)
		emptied[key] = []byte{}
		missing := maps.Clone(a.Credentials)
		delete(missing, key)
		cases = append(cases, credentialCase{"Empty_" + key, emptied}, credentialCase{"Missing_" + key, missing})
	}
	return append(cases, credentialCase{"WrongEnvironment", a.WrongEnvironment})
}

// checkNewRefuses: New gives KindUnauthorized without a round trip.
func checkNewRefuses(t *testing.T, a Adapter, data map[string][]byte, secrets []string) {
	t.Helper()
	var calls atomic.Int32
	_, err := a.Vendor.Connect(providers.Config{
		BaseURL:     a.BaseURL("http://127.0.0.1:9"),
		Environment: a.Environment,
		Credentials: data,
		HTTPClient:  &http.Client{Transport: countCalls(&calls)},
	})
	wantKind(t, err, providers.KindUnauthorized)
	if err != nil {
		assertClean(t, secrets, nil, providers.Observation{}, err)
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("New made %d calls with unusable credentials, want none", n)
	}
}

// countCalls is a transport that counts and fails every round trip.
func countCalls(n *atomic.Int32) http.RoundTripper {
	return roundTripFunc(func(*http.Request) (*http.Response, error) {
		n.Add(1)
		return nil, errors.New("no call expected")
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func values(data map[string][]byte) []string {
	out := make([]string, 0, len(data))
	for _, v := range data {
		out = append(out, string(v))
	}
	return out
}
