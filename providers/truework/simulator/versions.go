package simulator

import (
	"mime"
	"slices"
	"strings"
)

// Truework's API versions (https://www.truework.com/docs/api-reference/versions),
// oldest first. "All Truework API keys are provisioned with a pinned API
// version, set to the latest version available when the key was created";
// a request may ask for another with the Accept header, "greater than or
// equal to your API key version. Downgrading is not permitted, and will
// result in an HTTP 406 response."
const (
	Version20191015 = "2019-10-15"
	Version20201207 = "2020-12-07"
	Version20220801 = "2022-08-01"
	Version20231030 = "2023-10-30"
	// CurrentVersion is the newest version, pinned to new keys.
	CurrentVersion = Version20231030
)

var versions = []string{Version20191015, Version20201207, Version20220801, Version20231030}

// The versions each family of routes is served under. 2023-10-30 "moved
// verification management (create, read, cancel, reverify, etc.) from the
// verification top-level resource (/verification-requests) to the order
// top-level resource (/orders)"; the older versions have no /orders.
var (
	ordersVersions   = []string{Version20231030}
	requestsVersions = []string{Version20191015, Version20201207, Version20220801}
)

// isVersion reports whether v is one of Truework's versions.
func isVersion(v string) bool { return slices.Contains(versions, v) }

// negotiate picks the version a call is served in: the Accept header's
// version parameter, else the key's pin. An unknown version, or one older
// than the pin, is refused (406) with why.
func negotiate(accept, pinned string) (version, problem string) {
	requested := acceptVersion(accept)
	switch {
	case requested == "":
		return pinned, ""
	case !isVersion(requested):
		return "", "The requested API version is not supported; valid versions are " + strings.Join(versions, ", ") + "."
	case requested < pinned: // the versions are ISO dates: they sort as strings
		return "", "The requested API version is older than the version pinned to this API key (" + pinned + "); downgrading is not permitted."
	}
	return requested, ""
}

func acceptVersion(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		_, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err == nil && params["version"] != "" {
			return params["version"]
		}
	}
	return ""
}
