package truework

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ordersync/verification-operator/providers"
)

// Finding the request a lost reverify call created.
//
// Truework's reverify takes no idempotency key and its answer (201 with the
// new request) can be lost, so the controller records its intent before the
// call and, when no result was recorded, asks FindReverification instead of
// calling again. Truework offers no "reverifications of X" lookup; what it
// documents is a list of everything, with limit and offset (default limit
// 25) and {"count", "next", "previous", "results"}: before 2023-10-30 the
// verification requests ("Get All Verifications", GET
// /verification-requests/), in 2023-10-30 the orders, each with its
// requests (GET /orders). The search reads either the same way, an order
// being a group of requests and a request of the older list a group of one.
//
// **Assume:** a reverification copies the source request's loan_id, type
// and target (so its employer) onto the new request, and the list is sorted
// newest first (requests by created; orders by creation, which the search
// reads as the earliest created of their requests). Neither is documented.
// The client checks the order it relies on and refuses to guess when the
// list breaks it; a source without a loan_id cannot be matched at all.
//
// The candidates are the requests with the source's loan_id, type and
// employer, another id, and created no earlier than the intent time minus
// ReverifyClockSkew (the intent is timed by the operator's clock, created
// by Truework's). One candidate is the reverification; none means the call
// never landed; several (a person also reverified in the dashboard, or two
// intents overlapped) is for a person to sort out, as is a list longer than
// maxFindPages pages within the window. A limitation remains: a request
// ordered anew (not reverified) for the same loan, type and employer within
// the window cannot be told apart from the reverification; the search then
// finds two and stops for a person.
//
// Only ids, states, dates, loan_id, type and the employer's id are decoded
// (wireRequest): the target's PII is skipped by encoding/json. loan_id is
// the lender's opaque reference, not PII, but it names a borrower's loan in
// the lender's own systems, so it is never put in an error or a log.

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

// listPage is a page of a newest-first list, grouped: the requests of one
// order, or one request of the older versions' list.
type listPage struct {
	groups [][]wireRequest
	next   *string
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
	src, err := c.routes.request(ctx, requestID)
	if err != nil {
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
	var candidates []wireRequest
	for r, err := range c.requestsSince(ctx, requestID, cutoff) {
		if err != nil {
			return providers.Observation{}, false, err
		}
		if !reverificationOf(src, requestID, r) {
			continue
		}
		switch created := r.Created.t; {
		case created == nil:
			return providers.Observation{}, false, cannotDetermine(requestID, fmt.Sprintf(
				"request %s could be its reverification but has no readable created date", r.ID))
		case created.Before(cutoff):
			continue // in an order listed within the window, but older
		}
		candidates = append(candidates, r)
	}
	switch len(candidates) {
	case 0:
		return providers.Observation{}, false, nil
	case 1:
		r := candidates[0]
		obs, err := observeRequest(wireRequest{ID: r.ID, State: r.State}, "")
		return obs, err == nil, err
	}
	return providers.Observation{}, false, severalCandidates(requestID, candidates)
}

// reverificationOf reports whether r may be the request that reverifying
// src (requestID) created: Truework copies the loan, the kind of
// verification and the employer onto it. Matching all three keeps a
// co-borrower's request, or the income request beside an employment one
// on the same loan, from being taken for the reverification.
func reverificationOf(src wireRequest, requestID string, r wireRequest) bool {
	return r.ID != "" && r.ID != src.ID && r.ID != requestID &&
		r.LoanID == src.LoanID && r.Type == src.Type && r.Target.Company.ID == src.Target.Company.ID
}

// requestsSince yields the verification requests of the groups created at
// or after cutoff (and those without a readable created date), newest
// first, each once. It reads pages until the list passes cutoff, and stops
// with an error when the list is out of order, its next link unreadable,
// or it is longer than maxFindPages pages within the window.
func (c *Client) requestsSince(ctx context.Context, requestID string, cutoff time.Time) iter.Seq2[wireRequest, error] {
	return func(yield func(wireRequest, error) bool) {
		seen := map[string]bool{}
		var previous *time.Time
		offset := 0
		for range maxFindPages {
			page, err := c.readPage(ctx, offset)
			if err != nil {
				yield(wireRequest{}, err)
				return
			}
			for _, group := range page.groups {
				if allSeen(group, seen) {
					// Requests created while paging shift the list down:
					// the page starts with groups the one before ended with.
					continue
				}
				if created := groupCreated(group); created != nil {
					if previous != nil && created.After(*previous) {
						yield(wireRequest{}, cannotDetermine(requestID, "Truework listed verifications out of newest-first order"))
						return
					}
					previous = created
					if created.Before(cutoff) {
						return // newest first: every later group is older still
					}
				}
				for _, r := range group {
					if seen[r.ID] {
						continue
					}
					seen[r.ID] = true
					if !yield(r, nil) {
						return
					}
				}
			}
			if len(page.groups) == 0 || page.next == nil || *page.next == "" {
				return
			}
			next, err := nextOffset(*page.next, offset)
			if err != nil {
				yield(wireRequest{}, cannotDetermine(requestID, err.Error()))
				return
			}
			offset = next
		}
		yield(wireRequest{}, cannotDetermine(requestID, fmt.Sprintf(
			"more than %d pages of verifications were created since the intent", maxFindPages)))
	}
}

func allSeen(group []wireRequest, seen map[string]bool) bool {
	for _, r := range group {
		if !seen[r.ID] {
			return false
		}
	}
	return len(group) > 0
}

// pageAttempts is how many times a search reads a page that failed on the
// way (a 5xx, a cut connection): a search reads many pages in one go, and
// must not start over for one lost answer. A 429 is not read again at once:
// it ends the search, and the account waits out its Retry-After.
const pageAttempts = 3

// readPage reads one page of the list, again when it failed on the way.
// Each attempt is paid for from the account's budget (providers.Pacer).
func (c *Client) readPage(ctx context.Context, offset int) (listPage, error) {
	var err error
	for range pageAttempts {
		var page listPage
		if page, err = c.routes.page(ctx, listPageSize, offset); providers.KindOf(err) != providers.KindTransient {
			return page, err
		}
	}
	return listPage{}, err
}

// groupCreated is when a group was created, as far as its requests say:
// the earliest created among them (an order is created with its first
// request), nil when none is readable.
func groupCreated(group []wireRequest) *time.Time {
	var earliest *time.Time
	for _, r := range group {
		if t := r.Created.t; t != nil && (earliest == nil || t.Before(*earliest)) {
			earliest = t
		}
	}
	return earliest
}

// severalCandidates names the candidates, for a person to decide. Built
// without Sanitize: it would redact digit runs inside the ids, which are
// Truework's random ids, never personal data.
func severalCandidates(requestID string, candidates []wireRequest) error {
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
