package vendorhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
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
		{name: "an endpoint override wins", cfg: providers.Config{Environment: "production", BaseURL: "https://127.0.0.1:1/v1"}, wantURL: "https://127.0.0.1:1/v1"},
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
			case c.cfg.HTTPClient != nil && (got.HTTP.Transport != c.cfg.HTTPClient.Transport || got.HTTP.Timeout != c.cfg.HTTPClient.Timeout):
				t.Error("the Config's HTTP client's transport (metrics) and timeout were not kept")
			case c.cfg.HTTPClient == nil && (got.HTTP == nil || got.HTTP.Timeout != vendorhttp.DefaultTimeout):
				t.Errorf("default HTTP client %+v, want one with timeout %s", got.HTTP, vendorhttp.DefaultTimeout)
			}
		})
	}
}

// TestRedirectsAreNeverFollowed: a redirect would carry the credentials to
// another host and turn a cancel into a read.
func TestRedirectsAreNeverFollowed(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		vendor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.URL+"/v1/orders/x?token=abc", status)
		}))
		c, err := vendorhttp.ForConfig(providers.Config{BaseURL: vendor.URL, HTTPClient: &http.Client{}, Credentials: map[string][]byte{"accessSecret": []byte("sandbox-secret-value")}},
			nil, func(r *http.Request) { r.Header.Set("X-Access-Secret", "sandbox-secret-value") }, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Do(context.Background(), vendorhttp.Request{Method: http.MethodPatch, Path: "/orders/o-1", Body: map[string]string{"status": "canceled"}}, &struct{}{})
		var perr *providers.Error
		if !errors.As(err, &perr) || perr.Kind != providers.KindRejected || perr.StatusCode != status {
			t.Errorf("HTTP %d: error %v, want a Rejected error with the redirect's status", status, err)
		} else if !strings.Contains(perr.Message, "not followed") || strings.Contains(perr.Message, "token") {
			t.Errorf("HTTP %d: message %q must say it was not followed, without the location's path or query", status, perr.Message)
		}
		vendor.Close()
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the other host received %d requests", n)
	}
}

func TestDotSegmentsAreRefused(t *testing.T) {
	var calls atomic.Int32
	vendor := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls.Add(1) }))
	defer vendor.Close()
	c, err := vendorhttp.ForConfig(providers.Config{BaseURL: vendor.URL}, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{".", "..", "%2e%2e", "%2E", "%2e."} {
		_, err := c.Do(context.Background(), vendorhttp.Request{Method: http.MethodPatch, Path: "/accountchekorders/" + id}, nil)
		if providers.KindOf(err) != providers.KindRejected {
			t.Errorf("id %q: error %v, want Rejected", id, err)
		}
	}
	if n := calls.Load(); n != 0 {
		t.Errorf("the vendor received %d requests", n)
	}
}
