package accountchek_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	acsim "github.com/ordersync/verification-operator/providers/accountchek/simulator"
)

func TestValidateCredentials(t *testing.T) {
	const (
		user  = "verifier-user-secretish"
		pass  = "p4ss-word-secretish"
		guid  = "5D0C7A2E-3B41-4F6A-9E8D-2C1B0A9F8E7D"
		notID = "integrator-secretish"
	)
	cases := []struct {
		name    string
		data    map[string][]byte
		wantErr string // "" for valid; otherwise words the message must contain
	}{
		{"username and password", map[string][]byte{"username": []byte(user), "password": []byte(pass)}, ""},
		{"with integrator GUID", map[string][]byte{"username": []byte(user), "password": []byte(pass), "integratorID": []byte(guid)}, ""},
		{"empty integratorID counts as absent", map[string][]byte{"username": []byte(user), "password": []byte(pass), "integratorID": {}}, ""},
		{"colon in password is fine", map[string][]byte{"username": []byte(user), "password": []byte(pass + ":x")}, ""},
		{"no username", map[string][]byte{"password": []byte(pass)}, `"username" is missing`},
		{"empty username", map[string][]byte{"username": {}, "password": []byte(pass)}, `"username" is empty`},
		{"colon in username", map[string][]byte{"username": []byte(user + ":x"), "password": []byte(pass)}, `"username" contains a colon`},
		{"newline in username", map[string][]byte{"username": []byte(user + "\n"), "password": []byte(pass)}, `"username" contains a control character`},
		{"no password", map[string][]byte{"username": []byte(user)}, `"password" is missing`},
		{"empty password", map[string][]byte{"username": []byte(user), "password": {}}, `"password" is empty`},
		{"newline in password", map[string][]byte{"username": []byte(user), "password": []byte(pass + "\n")}, `"password" contains a control character`},
		{"invalid UTF-8 password", map[string][]byte{"username": []byte(user), "password": {0xff, 0xfe}}, `"password" is not valid UTF-8`},
		{"integratorID not a GUID", map[string][]byte{"username": []byte(user), "password": []byte(pass), "integratorID": []byte(notID)}, `"integratorID" is not a GUID`},
		{"integratorID GUID with braces", map[string][]byte{"username": []byte(user), "password": []byte(pass), "integratorID": []byte("{" + guid + "}")}, `"integratorID" is not a GUID`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, environment := range []string{"sandbox", "production"} {
				err := accountchek.ValidateCredentials(environment, c.data)
				if c.wantErr == "" {
					if err != nil {
						t.Errorf("%s: %v", environment, err)
					}
					continue
				}
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("%s: error = %v, want %q", environment, err, c.wantErr)
				}
				for _, secret := range []string{user, pass, notID, "secretish", "p4ss"} {
					if strings.Contains(err.Error(), secret) {
						t.Errorf("error %q reveals part of a secret", err)
					}
				}
			}
		})
	}
}

// TestNewRefusesBadCredentialsWithoutCalling: malformed credentials never
// reach the network.
func TestNewRefusesBadCredentialsWithoutCalling(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer srv.Close()
	bad := []map[string][]byte{
		nil,
		{"username": []byte("a:b"), "password": []byte(acsim.TestPassword)},
		{"username": []byte(acsim.TestUsername), "password": []byte(acsim.TestPassword), "integratorID": []byte("nope")},
	}
	for _, creds := range bad {
		for _, newClient := range []func(providers.Config) (any, error){
			func(c providers.Config) (any, error) { return accountchek.New(c) },
			func(c providers.Config) (any, error) { return accountchek.Vendor().Connect(c) },
		} {
			_, err := newClient(providers.Config{BaseURL: srv.URL + "/v1", Environment: "production", Credentials: creds})
			if providers.KindOf(err) != providers.KindUnauthorized {
				t.Errorf("New(%d keys) error = %v, want Unauthorized", len(creds), err)
			}
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("%d calls made with unusable credentials", n)
	}
}

func TestNewPicksBaseURL(t *testing.T) {
	if _, err := accountchek.New(providers.Config{Environment: "production", Credentials: testCredentials()}); err != nil {
		t.Errorf("production without endpoint: %v", err)
	}
	_, err := accountchek.New(providers.Config{Environment: "staging", Credentials: testCredentials()})
	if providers.KindOf(err) != providers.KindRejected || !strings.Contains(err.Error(), "staging") {
		t.Errorf("unknown environment without endpoint: %v", err)
	}
}
