package vendorhttp

import (
	"testing"

	"github.com/ordersync/verification-operator/providers"
)

func TestCheckEndpoint(t *testing.T) {
	for _, c := range []struct {
		endpoint, environment string
		ok                    bool
	}{
		{"https://api.truework.com/", providers.EnvProduction, true},
		{"HTTPS://API.truework.com", providers.EnvProduction, true},
		{"http://127.0.0.1:8080/v1", providers.EnvSandbox, true},
		{"http://LOCALHOST:8080", providers.EnvSandbox, true},
		{"http://[::1]:8080", providers.EnvSandbox, true},
		{"HTTP://vendor.example.com", providers.EnvSandbox, false},
		{"HTTP://127.0.0.1:8080", providers.EnvProduction, false},
		{"http://10.0.0.8", providers.EnvSandbox, false},
		{"http://169.254.169.254/latest", providers.EnvSandbox, false},
		{"https://user:pass@vendor.example.com", providers.EnvProduction, false},
		{"http://127.0.0.1:9999@127.0.0.1:8080/", providers.EnvSandbox, false},
		{"https://vendor.example.com/v1?x=1", providers.EnvProduction, false},
		{"https://vendor.example.com/v1?", providers.EnvProduction, false},
		{"https://vendor.example.com/v1#frag", providers.EnvProduction, false},
		{"https://vendor.example.com/v1#", providers.EnvProduction, false},
		{"ftp://vendor.example.com", providers.EnvSandbox, false},
		{"vendor.example.com", providers.EnvSandbox, false},
		{"https://", providers.EnvSandbox, false},
	} {
		err := CheckEndpoint(c.endpoint, c.environment)
		if (err == nil) != c.ok {
			t.Errorf("CheckEndpoint(%q, %s) = %v, want ok %v", c.endpoint, c.environment, err, c.ok)
		}
		if err != nil && providers.KindOf(err) != providers.KindRejected {
			t.Errorf("CheckEndpoint(%q): kind %s, want %s", c.endpoint, providers.KindOf(err), providers.KindRejected)
		}
	}
}
