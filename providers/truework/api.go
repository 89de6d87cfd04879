package truework

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// api is the HTTP side shared by every version's routes.
type api struct {
	http vendorhttp.Client
	// version is the API version every call asks for.
	version string
}

// call is one Truework call: to path (a route without an id), or to
// prefix + escaped id + suffix. The id comes from a user's spec, so it is
// escaped to stay one path segment ("../" cannot reach another route), and
// an empty one is refused rather than sent as the collection's path.
type call struct {
	method             string
	path               string
	prefix, id, suffix string
	query              url.Values
	header             http.Header
	body               any
}

func (a *api) do(ctx context.Context, c call, out any) error {
	path := c.path
	if path == "" {
		if c.id == "" {
			return providers.Errorf(providers.KindRejected, 0, "empty Truework id")
		}
		path = c.prefix + url.PathEscape(c.id) + c.suffix
	}
	if len(c.query) > 0 {
		path += "?" + c.query.Encode()
	}
	_, err := a.http.Do(ctx, vendorhttp.Request{Method: c.method, Path: path, Header: c.header, Body: c.body}, out)
	var perr *providers.Error
	if errors.As(err, &perr) && perr.StatusCode == http.StatusNotAcceptable && perr.Kind != providers.KindSignatureInvalid {
		perr.Message = fmt.Sprintf("Truework refused API version %s (%s): the API key is pinned to a newer version than "+
			"spec.vendorAPIVersion; set spec.vendorAPIVersion to the key's version", a.version, perr.Message)
	}
	return err
}

// cancel sends a cancel call. Truework documents its unknown order on
// cancel as "400 Bad Request or Order not found": a 400 whose message says
// not found is KindNotFound, as a 404 is, so it is never taken for a
// refusal to settle.
func (a *api) cancel(ctx context.Context, c call, out any) error {
	err := a.do(ctx, c, out)
	var perr *providers.Error
	if errors.As(err, &perr) && perr.Kind == providers.KindRejected && perr.StatusCode == http.StatusBadRequest &&
		strings.Contains(strings.ToLower(perr.Message), "not found") {
		perr.Kind = providers.KindNotFound
	}
	return err
}
