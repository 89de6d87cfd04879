package simulator

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// What the routes of every version share: cancel bodies, the reverify
// rules, newest-first pagination.

// cancellationReasons are the values cancellation_reason accepts.
var cancellationReasons = []string{"immediate", "high-turnaround-time", "competitor", "wrong-info", "other"}

// maxBody caps what the simulator reads of a request body.
const maxBody = 64 << 10

// cancelBody is what both cancel endpoints accept.
type cancelBody struct {
	Reason  *string `json:"cancellation_reason"`
	Details *string `json:"cancellation_details"`
}

// decodeCancel reads a cancel body and lists its invalid fields.
func decodeCancel(r *http.Request) (cancelBody, map[string][]string, error) {
	var b cancelBody
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxBody)).Decode(&b); err != nil {
		return b, nil, err
	}
	fields := map[string][]string{}
	switch {
	case b.Reason == nil || *b.Reason == "":
		fields["cancellation_reason"] = []string{"This field is required."}
	case !slices.Contains(cancellationReasons, *b.Reason):
		fields["cancellation_reason"] = []string{fmt.Sprintf("%q is not a valid choice.", *b.Reason)}
	}
	return b, fields, nil
}

// validCancel answers 400 for an unreadable or invalid cancel body.
func (s *Server) validCancel(w http.ResponseWriter, fields map[string][]string, parseErr error) bool {
	if parseErr != nil {
		s.WriteError(w, http.StatusBadRequest, "JSON parse error: the body must be an object with cancellation_reason.")
		return false
	}
	if len(fields) > 0 {
		s.writeInvalidFields(w, fields)
		return false
	}
	return true
}

func (s *Server) cancelLocked(q *request, b cancelBody) {
	q.reason = *b.Reason
	q.details = b.Details
	s.moveLocked(q, stateCanceled)
}

// reverifyBody is what both reverify endpoints accept.
type reverifyBody struct {
	ReportID string `json:"report_id"`
}

// decodeReverify reads a reverify body; the error says what is wrong with
// it, for a 400.
func decodeReverify(w http.ResponseWriter, r *http.Request) (reverifyBody, string) {
	var body reverifyBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody)).Decode(&body); err != nil {
		return body, "JSON parse error: the body must be an object with report_id."
	}
	return body, ""
}

// validReverify answers 400 for an unreadable reverify body or one without
// report_id.
func (s *Server) validReverify(w http.ResponseWriter, body reverifyBody, parseProblem string) bool {
	switch {
	case parseProblem != "":
		s.WriteError(w, http.StatusBadRequest, parseProblem)
	case body.ReportID == "":
		s.writeInvalidFields(w, map[string][]string{"report_id": {"This field is required."}})
	default:
		return true
	}
	return false
}

// reverifyProblemLocked says why src cannot be reverified from reportID.
func (s *Server) reverifyProblemLocked(src *request, reportID string) string {
	switch {
	case src.state != stateCompleted:
		return fmt.Sprintf("Only completed verification requests can be reverified; this one is %s.", src.state)
	case s.Clock.Now().Sub(src.completedAt) > ReverifyWindow:
		return "This verification request was completed more than 90 days ago and can no longer be reverified."
	case reportID != src.reportID:
		return "The report does not belong to this verification request."
	}
	return ""
}

// reverifyLocked creates the request a reverification of src makes, in an
// order of its own.
//
// **Assume:** the new request carries the source's loan_id, type and target
// (so its employer), and its order holds it alone. Truework documents
// neither; the client relies on both to find a reverification whose answer
// was lost (docs/vendors.md#truework).
func (s *Server) reverifyLocked(src *request) *request {
	o := s.newOrderLocked()
	o.loanID = src.order.loanID
	o.reverified = src.order
	created := s.newRequestLocked(o, statePendingApproval)
	created.kind, created.employer = src.kind, src.employer
	src.reverifiedAs = append(src.reverifiedAs, created.id)
	return created
}

// List pagination, as Django REST framework's LimitOffsetPagination serves
// it. **Assume:** limit is capped at maxListLimit; an unreadable or
// non-positive limit means the default, an unreadable or negative offset 0.
const (
	defaultListLimit = 25
	maxListLimit     = 100
)

// page is the window of a list a request asks for.
type page struct{ limit, offset int }

func pageOf(r *http.Request) page {
	q := r.URL.Query()
	limit, err := strconv.Atoi(q.Get("limit"))
	if err != nil || limit <= 0 {
		limit = defaultListLimit
	}
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	return page{limit: min(limit, maxListLimit), offset: offset}
}

// bounds are the indexes of the page in a list of n.
func (p page) bounds(n int) (from, to int) {
	return min(p.offset, n), min(p.offset+p.limit, n)
}

// links are the absolute URLs of the next and previous pages of a list of
// count, as DRF builds them: the request's URL with limit and offset
// replaced, offset dropped at 0.
func (p page) links(r *http.Request, count int) (next, previous *string) {
	if p.offset+p.limit < count {
		u := pageURL(r, p.limit, p.offset+p.limit)
		next = &u
	}
	if p.offset > 0 {
		u := pageURL(r, p.limit, max(p.offset-p.limit, 0))
		previous = &u
	}
	return next, previous
}

func pageURL(r *http.Request, limit, offset int) string {
	u := url.URL{Scheme: "http", Host: r.Host, Path: r.URL.Path}
	if r.TLS != nil {
		u.Scheme = "https"
	}
	q := r.URL.Query()
	q.Set("limit", strconv.Itoa(limit))
	if offset > 0 {
		q.Set("offset", strconv.Itoa(offset))
	} else {
		q.Del("offset")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// newestFirst sorts by creation time, newest first, then by creation order.
//
// **Assume:** Truework lists newest first; it does not say.
func newestFirst[T any](items []T, key func(T) (time.Time, int)) {
	slices.SortFunc(items, func(a, b T) int {
		ta, sa := key(a)
		tb, sb := key(b)
		if byTime := tb.Compare(ta); byTime != 0 {
			return byTime
		}
		return cmp.Compare(sb, sa)
	})
}
