package vendorhttp_test

import (
	"net/http"
	"testing"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

func TestForConfig(t *testing.T) {
	urls := map[string]string{"sandbox": "https://sandbox.example", "production": "https://api.example"}
	custom := &http.Client{}
	cases := []struct {
		name     string
		cfg      providers.Config
		wantURL  string
		wantKind providers.ErrorKind
	}{
		{name: "environment picks the URL", cfg: providers.Config{Environment: "production"}, wantURL: "https://api.example"},
		{name: "an endpoint override wins", cfg: providers.Config{Environment: "production", BaseURL: "http://127.0.0.1:1/v1"}, wantURL: "http://127.0.0.1:1/v1"},
		{name: "an unknown environment without endpoint is refused", cfg: providers.Config{Environment: "staging"}, wantKind: providers.KindRejected},
		{name: "the caller's HTTP client is kept", cfg: providers.Config{Environment: "sandbox", HTTPClient: custom}, wantURL: "https://sandbox.example"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := vendorhttp.ForConfig(c.cfg, urls, nil, nil)
			if c.wantKind != "" {
				if providers.KindOf(err) != c.wantKind {
					t.Fatalf("error %v, want kind %s", err, c.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.BaseURL != c.wantURL {
				t.Errorf("BaseURL %q, want %q", got.BaseURL, c.wantURL)
			}
			switch {
			case c.cfg.HTTPClient != nil && got.HTTP != c.cfg.HTTPClient:
				t.Error("the Config's HTTP client (which carries the rate limit) was replaced")
			case c.cfg.HTTPClient == nil && (got.HTTP == nil || got.HTTP.Timeout != vendorhttp.DefaultTimeout):
				t.Errorf("default HTTP client %+v, want one with timeout %s", got.HTTP, vendorhttp.DefaultTimeout)
			}
		})
	}
}
