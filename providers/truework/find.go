package truework

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/vendorhttp"
)

// Finding the request a lost reverify call created.
//
// Truework's reverify takes no idempotency key and its answer (201 with the
// new request) can be lost, so the controller records its intent before the
// call and, when no result was recorded, asks FindReverification instead of
// calling again. Truework offers no "reverifications of X" lookup; what it
// documents is "Get All Verifications" (deprecated API, versions 2020-12-07 /
// 2022-08-01, still served): GET /verification-requests/ with limit and
// offset (default limit 25), answering
// {"count", "next", "previous", "results": [verification requests]}.
//
// **Assume:** a reverification copies the source request's loan_id, type
// and target (so its employer) onto the new request, and the list is sorted newest first (by
// created, descending). Neither is documented. The client checks the order
// it relies on and refuses to guess when the list breaks it; a source
// without a loan_id cannot be matched at all.
//
// The candidates are the requests with the source's loan_id, type and
// employer, another id, and created no earlier than the intent time minus
// ReverifyClockSkew (the
// intent is timed by the operator's clock, created by Truework's). One
// candidate is the reverification; none means the call never landed;
// several (a person also reverified in the dashboard, or two intents
// overlapped) is for a person to sort out, as is a list longer than
// maxFindPages pages within the window. A limitation remains: a request
// ordered anew (not reverified) for the same loan, type and employer within
// the window cannot be told apart from the reverification; the search then
// finds two and stops for a person.
//
// Only id, state, created and loan_id are decoded: results carry the
// target's PII, which encoding/json skips. loan_id is the lender's opaque
// reference, not PII, but it names a borrower's loan in the lender's own
// systems, so it is never put in an error or a log.

// ReverifyClockSkew is how much earlier than the recorded intent a request
// may be stamped by Truework and still count as created by that intent.
// Generous on purpose: a skew the window misses means a second billable
// reverification, while a wider window at worst finds an extra candidate,
// which stops the search for a person to decide.
const ReverifyClockSkew = time.Hour

const (
	// listPageSize is Truework's documented default limit, sent explicitly.
	listPageSize = 25
	// maxFindPages caps the pages one FindReverification reads; the window
	// is minutes wide, so a longer list is an account too busy to search.
	maxFindPages = 20
	// maxListedCandidates caps the ids named in a "several candidates" error.
	maxListedCandidates = 5
)

var _ providers.ReverificationFinder = (*Client)(nil)

// wireListedRequest is a verification request of the list (and the source
// request, read alone), decoded for matching only: of the target, only the
// employer's id (the target's PII is skipped by encoding/json).
type wireListedRequest struct {
	ID      string     `json:"id"`
	State   vendorWord `json:"state"`
	Created vendorTime `json:"created"`
	LoanID  string     `json:"loan_id"`
	Type    string     `json:"type"`
	Target  struct {
		Company struct {
			ID string `json:"id"`
		} `json:"company"`
	} `json:"target"`
}

// wireRequestList is a page of GET /verification-requests/.
type wireRequestList struct {
	Count   int                 `json:"count"`
	Next    *string             `json:"next"`
	Results []wireListedRequest `json:"results"`
}

// FindReverification looks for the verification request that reverifying
// requestID created at or after since (less ReverifyClockSkew). found is
// false when there is none, so the reverify call never landed. Several
// candidates, a source without loan_id, a list that is not newest first or
// longer than maxFindPages pages within the window are an *providers.Error
// of KindOutcomeUnknown: a person must decide. The found Observation is
// built like RequestClient.Observe's from the listed id and state;
// CompletedAt is left unset (the list is not read for it), the next Observe
// fills it.
func (c *Client) FindReverification(ctx context.Context, requestID string, since time.Time) (providers.Observation, bool, error) {
	var src wireListedRequest
	if err := c.api.do(ctx, http.MethodGet, "/verification-requests/", requestID, "/", nil, nil, &src); err != nil {
		return providers.Observation{}, false, err
	}
	if src.LoanID == "" {
		return providers.Observation{}, false, cannotDetermine(requestID,
			"the source request has no loan_id, which is what ties a reverification to it")
	}
	cutoff := since.Add(-ReverifyClockSkew)
	if src.Created.t != nil && src.Created.t.After(cutoff) {
		cutoff = *src.Created.t // a reverification cannot predate its source
	}
	var candidates []wireListedRequest
	for r, err := range c.requestsSince(ctx, requestID, cutoff) {
		if err != nil {
			return providers.Observation{}, false, err
		}
		if !reverificationOf(src, requestID, r) {
			continue
		}
		if r.Created.t == nil {
			return providers.Observation{}, false, cannotDetermine(requestID, fmt.Sprintf(
				"request %s could be its reverification but has no readable created date", r.ID))
		}
		candidates = append(candidates, r)
	}
	switch len(candidates) {
	case 0:
		return providers.Observation{}, false, nil
	case 1:
		r := candidates[0]
		return observeRequest(wireRequest{ID: r.ID, State: r.State}, ""), true, nil
	}
	return providers.Observation{}, false, severalCandidates(requestID, candidates)
}

// reverificationOf reports whether r may be the request that reverifying
// src (requestID) created: Truework copies the loan, the kind of
// verification and the employer onto it. Matching all three keeps a
// co-borrower's request, or the income request beside an employment one
// on the same loan, from being taken for the reverification.
func reverificationOf(src wireListedRequest, requestID string, r wireListedRequest) bool {
	return r.ID != "" && r.ID != src.ID && r.ID != requestID &&
		r.LoanID == src.LoanID && r.Type == src.Type && r.Target.Company.ID == src.Target.Company.ID
}

// requestsSince yields the verification requests created at or after cutoff
// (and those without a readable created date), newest first, each once. It
// reads pages until the list passes cutoff, and stops with an error when the
// list is out of order, its next link unreadable, or it is longer than
// maxFindPages pages within the window.
func (c *Client) requestsSince(ctx context.Context, requestID string, cutoff time.Time) iter.Seq2[wireListedRequest, error] {
	return func(yield func(wireListedRequest, error) bool) {
		seen := map[string]bool{}
		var previous *time.Time
		offset := 0
		for page := 0; page < maxFindPages; page++ {
			var list wireRequestList
			if err := c.api.list(ctx, listPageSize, offset, &list); err != nil {
				yield(wireListedRequest{}, err)
				return
			}
			for _, r := range list.Results {
				if created := r.Created.t; created != nil {
					if previous != nil && created.After(*previous) {
						yield(wireListedRequest{}, cannotDetermine(requestID, "Truework listed verification requests out of newest-first order"))
						return
					}
					previous = created
					if created.Before(cutoff) {
						return // newest first: every later result is older still
					}
				}
				// A request created while paging shifts the list down by
				// one, so a result can show again at the top of the next page.
				if !seen[r.ID] {
					seen[r.ID] = true
					if !yield(r, nil) {
						return
					}
				}
			}
			if len(list.Results) == 0 || list.Next == nil || *list.Next == "" {
				return
			}
			next, err := nextOffset(*list.Next, offset)
			if err != nil {
				yield(wireListedRequest{}, cannotDetermine(requestID, err.Error()))
				return
			}
			offset = next
		}
		yield(wireListedRequest{}, cannotDetermine(requestID, fmt.Sprintf(
			"more than %d pages of verification requests were created since the intent", maxFindPages)))
	}
}

// severalCandidates names the candidates, for a person to decide. Built
// without Sanitize: it would redact digit runs inside the ids, which are
// Truework's random ids, never personal data.
func severalCandidates(requestID string, candidates []wireListedRequest) error {
	ids := make([]string, 0, maxListedCandidates)
	for _, r := range candidates[:min(len(candidates), maxListedCandidates)] {
		ids = append(ids, r.ID)
	}
	more := ""
	if n := len(candidates) - len(ids); n > 0 {
		more = fmt.Sprintf(" and %d more", n)
	}
	return &providers.Error{Kind: providers.KindOutcomeUnknown, Message: fmt.Sprintf(
		"%d verification requests could be the reverification of request %s (%s%s); a person must decide which one, if any, this order created",
		len(candidates), requestID, strings.Join(ids, ", "), more)}
}

// cannotDetermine is the KindOutcomeUnknown error for a search that cannot
// say whether the reverify call landed.
func cannotDetermine(requestID, why string) error {
	return &providers.Error{Kind: providers.KindOutcomeUnknown, Message: fmt.Sprintf(
		"could not determine whether reverifying request %s created a new request: %s", requestID, why)}
}

// nextOffset reads the offset of Truework's next-page URL. Only the offset
// is taken from it: the page is fetched from the configured base URL, so the
// API key is never sent to a host named in a response body, and the search
// works behind an endpoint override whose host Truework does not know.
func nextOffset(next string, current int) (int, error) {
	u, err := url.Parse(next)
	if err != nil {
		return 0, errors.New("the next-page link Truework sent is unreadable")
	}
	offset, err := strconv.Atoi(u.Query().Get("offset"))
	if err != nil || offset <= current {
		return 0, errors.New("the next-page link Truework sent has no later offset")
	}
	return offset, nil
}

// list reads one page of GET /verification-requests/.
func (a *api) list(ctx context.Context, limit, offset int, out *wireRequestList) error {
	q := url.Values{}
	q.Set("limit", strconv.Itoa(limit))
	q.Set("offset", strconv.Itoa(offset))
	_, err := a.http.Do(ctx, vendorhttp.Request{
		Method: http.MethodGet,
		Path:   "/verification-requests/?" + q.Encode(),
	}, out)
	return err
}
