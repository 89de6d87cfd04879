package txcloud

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// txcloud's status words (the seed's "Available options").
const (
	StatePending  = "pending"
	StateReview   = "review"
	StateVerified = "verified"
	StateRejected = "rejected"
	StateExpired  = "expired"
	StateError    = "error"
	// Listed in txcloud's status reference beside the seed's enum.
	StateManualReview = "manual_review"
	StateFailed       = "failed"
	StateCancelled    = "cancelled"
)

// states normalizes txcloud's status words. Words not listed here (a status
// added after this was written) are treated as active: an unknown word must
// never be mistaken for an end state, so the order keeps being observed and
// VendorState shows the word to a person.
var states = providers.StateTable{
	StatePending:  providers.StateActive,
	StateReview:   providers.StateActive, // a person at txcloud is looking; may still verify or reject
	StateVerified: providers.StateCompleted,
	StateRejected: providers.StateFailed,
	StateExpired:  providers.StateExpired,
	StateError:    providers.StateFailed,
	// The status reference also lists manual_review (a person at txcloud
	// reviews: not over), failed (over, without a result: terminal, never
	// polled again) and cancelled (final: a cancel, ours or another's).
	StateManualReview: providers.StateActive,
	StateFailed:       providers.StateFailed,
	StateCancelled:    providers.StateCanceled,
	// Not documented in this spelling; should it appear, it means what it
	// says rather than "unknown, keep polling".
	"canceled": providers.StateCanceled,
}

// Normalize maps a txcloud status word to a providers.State.
func Normalize(status string) providers.State { return states.Normalize(status) }

// Client is a txcloud API client for one account. Build it with New.
type Client struct {
	http vendorhttp.Client
}

var _ providers.Client = (*Client)(nil)

// verification is the part of txcloud's verification object the controller
// plans with. The object also carries extracted_data (document number,
// names, date of birth, address) and checks; they are deliberately not
// decoded, so that PII never reaches a Go value.
type verification struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

// Observe reads GET /identity/verifications/{id}.
func (c *Client) Observe(ctx context.Context, orderID string) (providers.Observation, error) {
	return c.call(ctx, http.MethodGet, orderID, "")
}

// Cancel calls POST /identity/verifications/{id}/cancel. txcloud takes no
// reason, so the Cancellation is ignored.
//
// The vendor answers with the verification now "expired": it has no
// canceled status. We know we canceled it (we hold the 200), so the
// Observation says StateCanceled while VendorState keeps the vendor's word.
// The controller must remember this: a later Observe reads expired.
//
// A cancel may take a second call (the read after an answer without a
// status, or after a refusal); it is not made within a Retry-After the
// cancel's answer carried.
func (c *Client) Cancel(ctx context.Context, orderID string, _ providers.Cancellation) (providers.Observation, error) {
	ctx, _ = providers.WithHold(ctx, nil)
	obs, err := c.call(ctx, http.MethodPost, orderID, "/cancel")
	if err == nil && obs.VendorState == "" {
		// The documented answer carries no status: read the verification
		// rather than assume what the 200 did.
		obs, err = c.Observe(ctx, orderID)
		if err != nil {
			return providers.Observation{}, err
		}
		if !isCanceledOrExpired(obs) {
			return obs, nil // accepted, yet not over: the controller looks again
		}
	}
	if err != nil {
		// A repeat after a lost response finds the verification expired
		// and gets 409. That reading is ambiguous: a verification that
		// expired on its own also reads expired. But cancel is legal only
		// from pending, and pending ends in expired either way, so in both
		// cases the order is over and nobody can act on it any more;
		// calling it canceled is what the user asked for and is true in
		// effect.
		obs, err = providers.Settle(ctx, c, orderID, err, isCanceledOrExpired)
		if err != nil {
			return obs, err // a refusal carries where the order is
		}
	}
	obs.State = providers.StateCanceled
	return obs, nil
}

func isCanceledOrExpired(o providers.Observation) bool {
	return o.VendorState == StateExpired || o.State == providers.StateCanceled
}

// call sends one request about a verification and reduces the answer to an
// Observation.
func (c *Client) call(ctx context.Context, method, orderID, suffix string) (providers.Observation, error) {
	if orderID == "" {
		// Without an id the path would name the collection, not an order.
		return providers.Observation{}, providers.Errorf(providers.KindRejected, 0, "verification id is empty")
	}
	var v verification
	req := vendorhttp.Request{Method: method, Path: "/identity/verifications/" + url.PathEscape(orderID) + suffix}
	if _, err := c.http.Do(ctx, req, &v); err != nil {
		return providers.Observation{}, err
	}
	if v.Status == "" && method == http.MethodGet {
		// A 2xx without a status is not a verification we can plan with:
		// reading it as pending would poll forever, and as anything else
		// would be a guess.
		return providers.Observation{}, &providers.Error{Kind: providers.KindTransient, Message: "txcloud's answer has no status"}
	}
	return observation(orderID, v), nil
}

func observation(orderID string, v verification) providers.Observation {
	id := v.ID
	if id == "" {
		id = orderID
	}
	// txcloud sends no completion date (only updated_at), and nothing in
	// its lifecycle depends on one, so CompletedAt stays nil.
	return providers.Observation{ID: id, VendorState: v.Status, State: Normalize(v.Status)}
}

// apiError is txcloud's error body:
// {"error":{"code","message","type","param","request_id","retry_after"}}.
// A 429 carries "retry_after" (seconds); the reference does not say where, so
// both inside the error object and at the top level are read.
type apiError struct {
	Error struct {
		Code       string          `json:"code"`
		Message    string          `json:"message"`
		RetryAfter json.RawMessage `json:"retry_after"`
	} `json:"error"`
	RetryAfter json.RawMessage `json:"retry_after"`
}

// decodeError returns the vendor's message with its code, for a person to
// act on. request_id is left out on purpose: it differs on every call, so it
// would make a condition message change on every reconcile.
func decodeError(_ int, body []byte) (string, time.Duration) {
	var e apiError
	if err := json.Unmarshal(body, &e); err != nil {
		return "", 0
	}
	msg := e.Error.Message
	if e.Error.Code != "" {
		if msg == "" {
			msg = e.Error.Code
		} else {
			msg += " (" + e.Error.Code + ")"
		}
	}
	return msg, max(seconds(e.Error.RetryAfter), seconds(e.RetryAfter))
}

// seconds reads a retry_after of 30, 1.5 or "30"; anything else is no hint.
// It is kept raw while decoding so an odd value cannot cost us the message.
// A wait too long for a Duration reads as vendorhttp.MaxRetryAfter, as the
// header's does: converted as is, it would wrap around to no wait at all.
func seconds(raw json.RawMessage) time.Duration {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return 0
	}
	f, err := n.Float64()
	switch {
	case err != nil || f <= 0:
		return 0
	case f >= vendorhttp.MaxRetryAfter.Seconds():
		return vendorhttp.MaxRetryAfter
	}
	return time.Duration(f * float64(time.Second))
}
