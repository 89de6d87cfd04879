package conformance

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

// readSeed reads one of the vendor's documented example bodies from the
// testdata/ of the vendor's own folder, where its conformance test runs.
func readSeed(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("seed %s: %v", name, err)
	}
	return b
}

// checkSeeds: the vendor's own example responses decode to the expected
// Observation (or error), and their personal data stays out of both.
func checkSeeds(t *testing.T, a Adapter) {
	if len(a.Seeds) == 0 {
		t.Fatalf("%s adapter has no seed examples", a.Name)
	}
	for _, seed := range a.Seeds {
		t.Run(seed.File, func(t *testing.T) {
			body := readSeed(t, seed.File)
			status := seed.Status
			if status == 0 {
				status = http.StatusOK
			}
			srv := serve(t, func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(status)
				_, _ = w.Write(body)
			})
			c := newClient(t, a, srv, a.Credentials)
			obs, err := callSafely(t, func() (providers.Observation, error) { return seed.Call(t.Context(), c) })
			assertClean(t, a.secrets(), append(slices.Clone(a.PII), seed.PII...), obs, err)
			if seed.Err != "" {
				wantKind(t, err, seed.Err)
				return
			}
			if err != nil {
				t.Fatalf("decoding the seed: %v", err)
			}
			if !sameObservation(obs, seed.Want) {
				t.Errorf("decoded %+v\nwant    %+v", obs, seed.Want)
			}
		})
	}
}

// firstDecodableSeed is a seed the client decodes into an Observation.
func (a Adapter) firstDecodableSeed(t *testing.T) Seed {
	t.Helper()
	for _, s := range a.Seeds {
		if s.Err == "" {
			return s
		}
	}
	t.Fatalf("%s adapter has no seed that decodes successfully", a.Name)
	return Seed{}
}

// sameObservation compares observations, CompletedAt by instant.
func sameObservation(got, want providers.Observation) bool {
	sameTime := (got.CompletedAt == nil) == (want.CompletedAt == nil) &&
		(got.CompletedAt == nil || got.CompletedAt.Equal(*want.CompletedAt))
	return got.ID == want.ID && got.VendorState == want.VendorState && got.State == want.State &&
		slices.Equal(got.Requests, want.Requests) && sameTime
}

// secrets are the credential values of the adapter: no error may show them.
func (a Adapter) secrets() []string {
	var out []string
	for _, creds := range []map[string][]byte{a.Credentials, a.BadCredentials, a.WrongEnvironment} {
		for _, v := range creds {
			out = append(out, string(v))
		}
	}
	return out
}

// assertClean fails when an Observation or an error shows a secret or a
// personal value. Observations are printed with %#v, errors with Error()
// and %#v, the forms most likely to reach a log line or a condition.
func assertClean(t *testing.T, secrets, pii []string, obs providers.Observation, err error) {
	t.Helper()
	texts := []string{fmt.Sprintf("%#v", obs)}
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%#v", err))
	}
	for _, text := range texts {
		for _, v := range slices.Concat(secrets, pii) {
			// Values this short occur innocently (ports, counts); the
			// simulators list only longer ones for the same reason.
			if len(v) >= 4 && strings.Contains(text, v) {
				t.Errorf("%q leaks %q", text, v)
			}
		}
	}
}

// assertClean checks against the simulator's PII and the adapter's secrets.
func (e *env) assertClean(t *testing.T, obs providers.Observation, err error) {
	t.Helper()
	assertClean(t, e.a.secrets(), e.a.PII, obs, err)
}
