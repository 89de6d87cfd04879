package truework

import (
	"context"
	"errors"
	"fmt"
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
// A search may take several calls: one that stops short (a page lost or
// refused, a Retry-After, the caller's deadline) is kept, and the next goes
// on from where it stopped (searches.go), then reads the top of the list
// again for whatever was created meanwhile. No call goes within a
// Retry-After the search received.
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
	// maxFindPages caps the pages a search reads down the window (over
	// all the calls it takes), and again the pages of its second look at
	// the top; the window is minutes wide, so a longer list is an account
	// too busy to search.
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
//
// A search that stops short (a failed or cut page, a Retry-After, the
// caller's deadline: a transient or rate-limited error) is kept, and the
// next call for the same request and intent goes on from the page it
// stopped at (searches.go); within a Retry-After it received, it makes no
// call at all.
func (c *Client) FindReverification(ctx context.Context, requestID string, since time.Time) (providers.Observation, bool, error) {
	now := clock(c.now)
	ctx, hold := providers.WithHold(ctx, now)
	key := keyOf(requestID, since)
	s := c.searches.take(key, now())
	if s == nil {
		var err error
		if s, err = c.startSearch(ctx, requestID, since); err != nil {
			return providers.Observation{}, false, err
		}
	}
	hold.HoldUntil(s.resumeAt)
	obs, found, err := c.search(ctx, requestID, s)
	if resumable(err) {
		s.resumeAt = hold.Until()
		c.searches.keep(key, s, now())
	}
	return obs, found, err
}

// search is one search for a reverification: what it looks for, how far it
// read, and what it found.
type search struct {
	src    wireRequest
	cutoff time.Time
	// tail is how far the list was read, from its top down to the cutoff.
	tail cursor
	// seen are the ids of the requests read; candidates those that may
	// be the reverification.
	seen       map[string]bool
	candidates []wireRequest
	// newest is the created date of the newest group read.
	newest *time.Time
	// resumeAt is when the search may call again: the end of the last
	// Retry-After it received.
	resumeAt time.Time
	// used is when a call last stopped with the search, for expiry.
	used time.Time
}

// cursor is where one reading of the list stands.
type cursor struct {
	// offset of the next page, and the pages read so far.
	offset, pages int
	// previous is the created date of the last group taken, which the next
	// must not be newer than.
	previous *time.Time
	// done: read down to the cutoff, the end of the list, or (reading the
	// head) the groups read before.
	done bool
}

// startSearch reads the source request and sets the window: since, less
// the clock skew, and no earlier than the source itself.
func (c *Client) startSearch(ctx context.Context, requestID string, since time.Time) (*search, error) {
	src, err := c.routes.request(ctx, requestID)
	if err != nil {
		return nil, err
	}
	if src.LoanID == "" {
		return nil, cannotDetermine(requestID, "the source request has no loan_id, which is what ties a reverification to it")
	}
	cutoff := since.Add(-ReverifyClockSkew)
	if src.Created.t != nil && src.Created.t.After(cutoff) {
		cutoff = *src.Created.t // a reverification cannot predate its source
	}
	return &search{src: src, cutoff: cutoff, seen: map[string]bool{}}, nil
}

// search reads the list on from where s stopped, down to the cutoff. A
// search that did not start at the top of the list in this call then
// reads the top again, down to the groups it read before: the list is
// newest first, so whatever was created while the search was stopped (the
// reverification itself, if its call was still in flight, or a second
// candidate) is there, above where it went on. The answer is as fresh as
// that of a search made in one go.
func (c *Client) search(ctx context.Context, requestID string, s *search) (providers.Observation, bool, error) {
	fromTop := s.tail.pages == 0
	err := c.readDown(ctx, requestID, s, &s.tail, false)
	if err == nil && !fromTop {
		err = c.readDown(ctx, requestID, s, &cursor{}, true)
	}
	if err != nil {
		return providers.Observation{}, false, err
	}
	switch len(s.candidates) {
	case 0:
		return providers.Observation{}, false, nil
	case 1:
		r := s.candidates[0]
		obs, err := observeRequest(wireRequest{ID: r.ID, State: r.State}, "")
		return obs, err == nil, err
	}
	return providers.Observation{}, false, severalCandidates(requestID, s.candidates)
}

// readDown reads pages from cur into s until cur is done. It stops with an
// error when the list is out of order, its next link unreadable, or it is
// longer than maxFindPages pages within the window; and when a page cannot
// be read, with cur still at that page.
func (c *Client) readDown(ctx context.Context, requestID string, s *search, cur *cursor, head bool) error {
	for !cur.done {
		if cur.pages == maxFindPages {
			return cannotDetermine(requestID, fmt.Sprintf("more than %d pages of verifications were created since the intent", maxFindPages))
		}
		page, err := c.readPage(ctx, cur.offset)
		if err != nil {
			return err
		}
		cur.pages++
		end, err := s.take(requestID, page.groups, cur, head)
		switch {
		case err != nil:
			return err
		case end || len(page.groups) == 0 || page.next == nil || *page.next == "":
			cur.done = true
			return nil
		}
		next, err := nextOffset(*page.next, cur.offset)
		if err != nil {
			return cannotDetermine(requestID, err.Error())
		}
		cur.offset = next
	}
	return nil
}

// take reads a page's groups, newest first, considering each request not
// seen before, and reports the end of the reading: a group created before
// the cutoff (every later one is older still), or, reading the head, a
// group read before. A list out of newest-first order is an error.
func (s *search) take(requestID string, groups [][]wireRequest, cur *cursor, head bool) (end bool, err error) {
	arrivals := !head && s.newest != nil // the page may start with groups created since the search began
	for _, group := range groups {
		created := groupCreated(group)
		arrived := arrivals && created != nil && created.After(*s.newest)
		arrivals = arrived
		if allSeen(group, s.seen) {
			if head {
				return true, nil // where the list goes on as read before
			}
			// Requests created while paging shift the list down: the
			// page starts with groups the one before ended with.
			continue
		}
		switch {
		case created == nil:
		case arrived:
			// Newer than any group read, at the top of the page: created
			// since, and shifted down into this page by more than the
			// search had read (a search going on after a stop). Not the
			// list out of order; its requests are considered.
		case cur.previous != nil && created.After(*cur.previous):
			return true, cannotDetermine(requestID, "Truework listed verifications out of newest-first order")
		case created.Before(s.cutoff):
			return true, nil // newest first: every later group is older still
		default:
			cur.previous = created
			if s.newest == nil || created.After(*s.newest) {
				s.newest = created
			}
		}
		for _, r := range group {
			if err := s.consider(requestID, r); err != nil {
				return true, err
			}
		}
	}
	return false, nil
}

// consider takes r, once, as a candidate when it may be the
// reverification: a request like the source, created within the window.
func (s *search) consider(requestID string, r wireRequest) error {
	if s.seen[r.ID] {
		return nil
	}
	s.seen[r.ID] = true
	if !reverificationOf(s.src, requestID, r) {
		return nil
	}
	switch created := r.Created.t; {
	case created == nil:
		return cannotDetermine(requestID, fmt.Sprintf("request %s could be its reverification but has no readable created date", r.ID))
	case created.Before(s.cutoff):
		return nil // in an order listed within the window, but older
	}
	s.candidates = append(s.candidates, r)
	return nil
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

func allSeen(group []wireRequest, seen map[string]bool) bool {
	for _, r := range group {
		if !seen[r.ID] {
			return false
		}
	}
	return len(group) > 0
}

// pageAttempts is how many times a search reads a page that failed on the
// way (a 5xx, a cut connection) in one call: a search reads many pages in
// one go, and one lost answer must not cost the caller a requeue.
const pageAttempts = 3

// readPage reads one page of the list, again when it failed on the way.
// Each attempt is paid for from the account's budget (providers.Pacer).
func (c *Client) readPage(ctx context.Context, offset int) (listPage, error) {
	var err error
	for range pageAttempts {
		var page listPage
		if page, err = c.routes.page(ctx, listPageSize, offset); !readAgain(ctx, err) {
			return page, err
		}
	}
	return listPage{}, err
}

// readAgain: a page that failed on the way is read again at once, unless
// its answer asked to wait (a 503's Retry-After: the search stops, and goes
// on after the wait), it was never sent (the budget held it back), or the
// caller's context ended; the search then goes on from that page next time.
func readAgain(ctx context.Context, err error) bool {
	var perr *providers.Error
	sent := !errors.As(err, &perr) || !perr.NotSent
	return providers.KindOf(err) == providers.KindTransient && providers.RetryAfterOf(err) == 0 && sent && ctx.Err() == nil
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
