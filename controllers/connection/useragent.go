package connection

import (
	"net/http"
	"os"

	"github.com/ordersync/verification-operator/internal/version"
)

// userAgent names the operator and the process to the vendor, so that a
// vendor's support (and our chaos tests) can tell which replica made a
// call: "verification-operator/v1.2.3 (pod-name)".
var userAgent = func() string {
	who := os.Getenv("POD_NAME")
	if who == "" {
		who, _ = os.Hostname()
	}
	return "verification-operator/" + version.Get() + " (" + who + ")"
}()

// withUserAgent sets User-Agent on every request it sends.
type withUserAgent struct{ next http.RoundTripper }

func (t withUserAgent) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context()) // a RoundTripper must not change the caller's request
	r.Header.Set("User-Agent", userAgent)
	return t.next.RoundTrip(r)
}
