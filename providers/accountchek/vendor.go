// Package accountchek is the client for the AccountChek Verifier API
// (Informative Research, verification of assets and income). It observes an
// AccountChek order and cancels or closes it with
// PATCH /v1/accountchekorders/{orderId} {"status": "canceled" | "closed"}.
//
// Sources: the vendor's page "Closing or Canceling an AccountChekOrder"
// (its examples are in testdata/) and docs/vendors.md#accountchek.
//
// The base URL of an environment INCLUDES the version segment /v1; the client
// appends /accountchekorders/{id}. An endpoint override must therefore end
// in /v1 too, e.g. "http://127.0.0.1:PORT/v1" for the simulator in
// providers/accountchek/simulator.
package accountchek

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Name is the value of VerificationProvider spec.vendor.
const Name = "accountchek"

// Base URLs per environment. CTE (client testing environment) is the sandbox.
const (
	ProductionBaseURL = "https://verifierapi.accountchek.com/v1"
	SandboxBaseURL    = "https://verifierapi.accountchek.net/v1"
)

// Vendor describes AccountChek for the registry.
func Vendor() providers.Vendor {
	return providers.Vendor{
		Name: Name,
		BaseURLs: map[string]string{
			providers.EnvSandbox:    SandboxBaseURL,
			providers.EnvProduction: ProductionBaseURL,
		},
		// AccountChek publishes no rate limit. 10 requests/s with a burst of
		// 10 is a conservative guess: half of what the simulator assumes the
		// vendor tolerates per user (20/s), and plenty for an operator that
		// polls each order every few minutes.
		RateLimit:    providers.RateLimit{RequestsPerSecond: 10, Burst: 10},
		Capabilities: Capabilities(),
		States:       maps.Clone(states),
		// integratorID is optional, so it is not listed as needed.
		CredentialKeys: []string{KeyUsername, KeyPassword},
		IdentityKeys:   []string{KeyUsername},
		// A verifier's user and password have no shape of their own: what
		// a message can show of them is a quoted password.
		CredentialShapes:    []*regexp.Regexp{providers.QuotedPassword},
		ValidateCredentials: ValidateCredentials,
		New: func(cfg providers.Config) (providers.Client, error) {
			c, err := New(cfg)
			if err != nil {
				return nil, err // not a typed nil *Client inside the interface
			}
			return c, nil
		},
	}
}

// Capabilities are AccountChek's rules from the seed: cancel while the order
// is building or opened (the borrower has not started), close once it is
// opened or inprogress (closed means completed, so it is meant for
// inprogress). A fresh value each call, so no caller can edit another's map.
func Capabilities() providers.Capabilities {
	return providers.Capabilities{From: map[providers.Action][]string{
		providers.ActionCancel: {StateBuilding, StateOpened},
		providers.ActionClose:  {StateOpened, StateInProgress},
	}}
}

// Client talks to one AccountChek verifier user's account. It implements
// providers.Client and providers.Closer.
type Client struct {
	api vendorhttp.Client
}

var (
	_ providers.Client = (*Client)(nil)
	_ providers.Closer = (*Client)(nil)
)

// New builds a client from checked credentials (see
// providers.Vendor.Connect); credentials it cannot parse are still an
// *providers.Error of KindUnauthorized.
func New(cfg providers.Config) (*Client, error) {
	creds, err := parseCredentials(cfg.Credentials)
	if err != nil {
		return nil, &providers.Error{Kind: providers.KindUnauthorized, Message: err.Error()}
	}
	api, err := vendorhttp.ForConfig(cfg, Vendor().BaseURLs, creds.decorate, decodeError)
	if err != nil {
		return nil, err
	}
	return &Client{api: api}, nil
}

// Observe reads the order with GET /accountchekorders/{id}.
func (c *Client) Observe(ctx context.Context, orderID string) (providers.Observation, error) {
	var o order
	if err := c.do(ctx, http.MethodGet, orderID, nil, &o); err != nil {
		return providers.Observation{}, err
	}
	return o.observation(orderID)
}

// Cancel sets the order's status to canceled. AccountChek takes no reason,
// so the Cancellation is ignored.
func (c *Client) Cancel(ctx context.Context, orderID string, _ providers.Cancellation) (providers.Observation, error) {
	return c.setStatus(ctx, orderID, StateCanceled)
}

// Close sets the order's status to closed (completed early).
func (c *Client) Close(ctx context.Context, orderID string) (providers.Observation, error) {
	return c.setStatus(ctx, orderID, StateClosed)
}

// setStatus PATCHes the order to status. AccountChek answers 422 when asked
// for the status the order already has (canceled -> canceled), which is
// exactly what a retry after a lost response sees; Settle turns that 422 into
// success once an Observe confirms the order is where we wanted it.
func (c *Client) setStatus(ctx context.Context, orderID, status string) (providers.Observation, error) {
	var o order
	err := c.do(ctx, http.MethodPatch, orderID, statusChange{Status: status}, &o)
	if err != nil {
		return providers.Settle(ctx, c, orderID, err, func(obs providers.Observation) bool {
			return obs.VendorState == status
		})
	}
	return o.observation(orderID)
}

// statusChange is the PATCH body from the seed.
type statusChange struct {
	Status string `json:"status"`
}

// do is the one call on /accountchekorders/{id}; out receives the order.
func (c *Client) do(ctx context.Context, method, orderID string, body any, out *order) error {
	if strings.TrimSpace(orderID) == "" {
		// Without an id the path would name the collection, not an order.
		return providers.Errorf(providers.KindRejected, 0, "the AccountChek order id is empty")
	}
	_, err := c.api.Do(ctx, vendorhttp.Request{
		Method: method,
		Path:   "/accountchekorders/" + url.PathEscape(orderID),
		Body:   body,
	}, out)
	return explain(err)
}

// explain replaces the generic "Unauthorized" that vendorhttp writes for a
// 401 without an AccountChek error body (AccountChek documents none) with
// what a person should check.
func explain(err error) error {
	perr, ok := err.(*providers.Error)
	if !ok || perr.StatusCode != http.StatusUnauthorized ||
		!strings.HasPrefix(perr.Message, http.StatusText(http.StatusUnauthorized)) {
		return err
	}
	perr.Message = "AccountChek refused the verifier username and password (HTTP Basic); check Secret keys " +
		KeyUsername + " and " + KeyPassword
	return perr
}
