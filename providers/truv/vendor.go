// Package truv is the client for Truv's orders API (payroll income,
// employment and assets verification).
//
// Truv serves every environment from one host; the environment is chosen by
// the prefix of the access secret (see credentials.go). The client uses two
// calls, both with a trailing slash as Truv requires:
//
//	GET  /v1/orders/{id}/          the order with its employers
//	POST /v1/orders/{id}/cancel/   cancel every employer; answers the order
//
// Truv has no order-level status: the client derives one from the employers
// (status.go). Responses carry PII (SSN, date of birth, bank numbers); the
// client decodes only ids, status words and completion times.
package truv

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Name is the value of VerificationProvider spec.vendor.
const Name = "truv"

// BaseURL is Truv's API host for every environment. Paths start with /v1/,
// so an endpoint override (a simulator, a proxy) is just scheme://host:port.
const BaseURL = "https://prod.truv.com"

// accessSecretShape is an access secret as it would stand in a message: an
// environment's prefix and a long run of letters and digits. Client ids
// are no secret.
var accessSecretShape = regexp.MustCompile(`(?i)\b(sandbox|prod|dev)-[[:alnum:]]{12,}\b`)

// Vendor describes Truv for the registry.
func Vendor() providers.Vendor {
	return providers.Vendor{
		Name:     Name,
		BaseURLs: map[string]string{providers.EnvSandbox: BaseURL, providers.EnvProduction: BaseURL},
		// Truv documents 300 requests per minute per access secret, and a
		// 429 with Retry-After beyond it.
		RateLimit: providers.RateLimit{RequestsPerSecond: 5, Burst: 10},
		Capabilities: providers.Capabilities{
			// Cancel is accepted while every employer is pending or sent;
			// the order's vendor state is one of those words exactly then
			// (or when only some employers are still open, which Truv
			// refuses with a 400 the controller reports).
			From: map[providers.Action][]string{
				providers.ActionCancel: {StatePending, StateSent},
			},
		},
		States:              maps.Clone(statusStates),
		CredentialKeys:      []string{KeyClientID, KeyAccessSecret},
		IdentityKeys:        []string{KeyClientID},
		CredentialShapes:    []*regexp.Regexp{accessSecretShape},
		ValidateCredentials: ValidateCredentials,
		New:                 New,
		Webhooks:            webhooks(),
	}
}

// client talks to one Truv account. The credentials live only inside the
// Decorate closure, so printing a client never shows them.
type client struct {
	http vendorhttp.Client
}

// New builds a Truv client from checked credentials (see
// providers.Vendor.Connect).
func New(cfg providers.Config) (providers.Client, error) {
	clientID := string(cfg.Credentials[KeyClientID])
	accessSecret := string(cfg.Credentials[KeyAccessSecret])
	decorate := func(r *http.Request) {
		r.Header.Set("X-Access-Client-Id", clientID)
		r.Header.Set("X-Access-Secret", accessSecret)
	}
	conn, err := vendorhttp.ForConfig(cfg, Vendor().BaseURLs, decorate, DecodeError)
	if err != nil {
		return nil, err
	}
	return &client{http: conn}, nil
}

// Observe reads the order and derives its state from the employers.
func (c *client) Observe(ctx context.Context, orderID string) (providers.Observation, error) {
	return c.call(ctx, http.MethodGet, orderID, "")
}

// Cancel cancels every employer of the order. Truv takes no reason, so the
// Cancellation is ignored. A repeat after a lost response finds the order
// canceled and Truv refuses it with a 400; Settle turns that into success.
func (c *client) Cancel(ctx context.Context, orderID string, _ providers.Cancellation) (providers.Observation, error) {
	obs, err := c.call(ctx, http.MethodPost, orderID, "cancel/")
	if err != nil {
		return providers.Settle(ctx, c, orderID, err, func(o providers.Observation) bool {
			return o.State == providers.StateCanceled
		})
	}
	return obs, nil
}

// call sends one request on /v1/orders/{id}/<suffix> and reduces the order
// in the answer to an Observation.
func (c *client) call(ctx context.Context, method, orderID, suffix string) (providers.Observation, error) {
	if orderID == "" {
		return providers.Observation{}, providers.Errorf(providers.KindRejected, 0, "order id is empty")
	}
	var o order
	req := vendorhttp.Request{Method: method, Path: "/v1/orders/" + url.PathEscape(orderID) + "/" + suffix}
	if _, err := c.http.Do(ctx, req, &o); err != nil {
		return providers.Observation{}, err
	}
	if o.ID == "" {
		return providers.Observation{}, providers.Errorf(providers.KindTransient, http.StatusOK, "Truv answered without an order id")
	}
	return o.observation(), nil
}
