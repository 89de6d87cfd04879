package truework

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ordersync/verification-operator/providers"
)

// Truework's API versions (https://www.truework.com/docs/api-reference/versions),
// oldest first. Each API key is pinned to the version that was latest when
// it was created; a call may ask for that version or a newer one in its
// Accept header, and an older one is answered 406. The client always names
// the provider's spec.vendorAPIVersion, so a key pinned to a newer version
// fails loudly instead of being served shapes the client does not expect.
const (
	Version20191015 = "2019-10-15"
	Version20201207 = "2020-12-07"
	Version20220801 = "2022-08-01"
	Version20231030 = "2023-10-30"
)

// APIVersion is Truework's current version, the default.
const APIVersion = Version20231030

// APIVersions lists the versions the client speaks, oldest first.
var APIVersions = []string{Version20191015, Version20201207, Version20220801, Version20231030}

// routesFor picks the endpoints of version ("" is APIVersion): 2023-10-30
// manages orders under /orders; the older versions have no /orders and
// manage verification requests under /verification-requests.
func routesFor(version string, a *api) (routes, string, error) {
	switch {
	case version == "":
		version = APIVersion
	case !slices.Contains(APIVersions, version):
		return nil, "", &providers.Error{Kind: providers.KindRejected, Message: fmt.Sprintf(
			"Truework API version %q is not one the operator speaks (%s)", version, strings.Join(APIVersions, ", "))}
	}
	if version == Version20231030 {
		return orderRoutes{a}, version, nil
	}
	return requestRoutes{a}, version, nil
}
