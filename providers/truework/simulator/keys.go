package simulator

import (
	"crypto/subtle"
	"fmt"
	"strings"
	"sync"
)

// Credentials the simulator accepts by default. TestAPIKey is a sandbox
// secret key, LiveAPIKey a production one (the simulator stands in for
// either environment); both are pinned to CurrentVersion, as a key created
// today is. LegacyTestAPIKey is a sandbox key pinned to 2022-08-01: an
// account created before 2023-10-30 that has not moved on. PublishableKey
// is refused as Truework refuses publishable keys on the API; it exists for
// tests of that refusal.
const (
	TestAPIKey       = "tw_sk_test_5f2b8c0e9a7d4f1b3c6e8a0d2f4b6c8e"
	LiveAPIKey       = "tw_sk_9c1e4a7b2d5f8e0a3c6b9d2e5f8a1c4b"
	LegacyTestAPIKey = "tw_sk_test_7d3a9e1c5b8f2a4d6c0e9b3f7a1d5c2e"
	PublishableKey   = "tw_pk_test_3a6d9c2f5b8e1a4d7c0f3b6e9a2d5c8f"
)

// LegacyVersion is the version LegacyTestAPIKey is pinned to.
const LegacyVersion = Version20220801

// apiKeys are the secret keys the simulator accepts, each with the version
// it is pinned to. Safe for concurrent use.
type apiKeys struct {
	mu     sync.RWMutex
	pinned map[string]string
}

func newAPIKeys() *apiKeys {
	return &apiKeys{pinned: map[string]string{
		TestAPIKey: CurrentVersion, LiveAPIKey: CurrentVersion, LegacyTestAPIKey: LegacyVersion,
	}}
}

// AddCredentials makes the simulator accept another secret key, pinned to
// the current version, as a key created in the Truework dashboard today.
func (s *Server) AddCredentials(apiKey string) {
	if err := s.PinCredentials(apiKey, CurrentVersion); err != nil {
		panic(err) // CurrentVersion is a version
	}
}

// PinCredentials makes the simulator accept apiKey, pinned to version, as
// a key created while version was Truework's latest.
func (s *Server) PinCredentials(apiKey, version string) error {
	if !isVersion(version) {
		return fmt.Errorf("%q is not a Truework API version (%s)", version, strings.Join(versions, ", "))
	}
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	s.keys.pinned[apiKey] = version
	return nil
}

// RevokeCredentials makes the simulator refuse a key it accepted.
func (s *Server) RevokeCredentials(apiKey string) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	delete(s.keys.pinned, apiKey)
}

// authenticate returns the bearer key and its pinned version, or why it is
// refused.
func (s *Server) authenticate(header string) (key, pinned, problem string) {
	scheme, key, ok := strings.Cut(strings.TrimSpace(header), " ")
	key = strings.TrimSpace(key)
	if !ok || !strings.EqualFold(scheme, "Bearer") || key == "" {
		return "", "", "Authentication credentials were not provided."
	}
	if strings.HasPrefix(key, "tw_pk_") {
		return "", "", "Publishable keys cannot be used with this API; use a secret key."
	}
	s.keys.mu.RLock()
	defer s.keys.mu.RUnlock()
	for known, version := range s.keys.pinned {
		// Compared in constant time, as a real service would.
		if subtle.ConstantTimeCompare([]byte(key), []byte(known)) == 1 {
			return key, version, ""
		}
	}
	return "", "", "Invalid token."
}
