package vendorhttp

import (
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ordersync/verification-operator/providers"
)

// CheckEndpoint refuses a base URL the operator must not send credentials
// to, whatever let it through (the CRD's rules check the same at apply
// time, but an older CRD, a vendor's default or a test may not): anything
// but an absolute http(s) URL; user info, a query or a fragment, which
// would swallow or redirect the vendor's path; and plain http, except to
// a loopback host outside production (a local simulator). The scheme and
// host compare case-insensitively.
func CheckEndpoint(endpoint, environment string) error {
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" {
		return refusedEndpoint("is not an absolute URL")
	}
	const plain = "http"
	scheme := strings.ToLower(u.Scheme) // url.Parse lowers it too; say so here
	switch {
	case scheme != "https" && scheme != plain:
		return refusedEndpoint("must use https")
	case u.User != nil:
		return refusedEndpoint("must not carry user info: credentials belong in the provider's Secret")
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.Contains(endpoint, "#"):
		return refusedEndpoint("must not carry a query or a fragment")
	case scheme == plain && environment == providers.EnvProduction:
		return refusedEndpoint("must use https in production: credentials never travel in clear")
	case scheme == plain && !isLoopback(u.Hostname()):
		return refusedEndpoint("must use https; plain http is allowed only to a loopback host (localhost, 127.0.0.0/8, [::1])")
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func refusedEndpoint(why string) error {
	return &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf("the provider's endpoint %s", why)}
}
