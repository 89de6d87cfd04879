package connection

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestGatedSendsOnlyWhatItsGateLets(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { calls++ }))
	defer srv.Close()
	refuse := errors.New("not held")
	open := true
	g := gated{next: http.DefaultTransport, account: "acct", gate: func(account string) error {
		if account != "acct" {
			t.Errorf("gate asked about %q", account)
		}
		if open {
			return nil
		}
		return refuse
	}}
	c := &http.Client{Transport: g}
	if res, err := c.Get(srv.URL); err != nil {
		t.Fatal(err)
	} else {
		_ = res.Body.Close()
	}
	open = false
	if _, err := c.Get(srv.URL); !errors.Is(err, refuse) {
		t.Fatalf("a refused request: %v", err)
	}
	if calls != 1 {
		t.Fatalf("the vendor saw %d calls, want 1: the refused one never left", calls)
	}
}
