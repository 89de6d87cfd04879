package truework

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The structs below name only the fields the Observation and the search
// for a lost reverification need. Truework's
// bodies also carry the target's name, SSN, date of birth, email and the
// report's employee data; encoding/json skips fields a struct does not name,
// so none of that is ever copied into this process's values.

// wireOrder is an order of version 2023-10-30: GET /orders/{id}, an
// entry of GET /orders, the answers of PUT /orders/{id}/cancel and POST
// /orders/reverification.
type wireOrder struct {
	ID                   string        `json:"id"`
	LoanID               string        `json:"loan_id"`
	VerificationRequests []wireRequest `json:"verification_requests"`
}

// wireRequest is a verification request: inside an order (2023-10-30) or
// alone (older versions: GET /verification-requests/{id}/, the answers of
// its cancel and reverify, an entry of GET /verification-requests/). Of the
// target only the employer's id is decoded, for finding a lost
// reverification (find.go); the target's PII is skipped by encoding/json.
type wireRequest struct {
	ID               string     `json:"id"`
	State            vendorWord `json:"state"`
	Created          vendorTime `json:"created"`
	DateOfCompletion vendorTime `json:"date_of_completion"`
	LoanID           string     `json:"loan_id"`
	Type             vendorWord `json:"type"`
	Target           struct {
		Company struct {
			ID employerID `json:"id"`
		} `json:"company"`
	} `json:"target"`
}

// wirePage is a page of a list: GET /orders (2023-10-30's
// OrderListResponseResourceV20231030) or GET /verification-requests/
// (count, next, results in Truework's SDK fixtures).
type wirePage[T any] struct {
	Count   int     `json:"count"`
	Next    *string `json:"next"`
	Results []T     `json:"results"`
}

// wireReport is GET /reports/{id} (2023-10-30), decoded only for the
// request the report belongs to: the rest is the employee's data.
type wireReport struct {
	VerificationRequest struct {
		ID string `json:"id"`
	} `json:"verification_request"`
}

// employerID is target.company.id: a string in the older versions ("2" in
// Truework's SDK mocks), an integer or null in 2023-10-30. Anything else
// reads as unknown ("") rather than failing the answer: only the search
// for a lost reverification reads it, and an unknown employer there can
// only make it find more candidates and stop for a person.
type employerID string

func (e *employerID) UnmarshalJSON(b []byte) error {
	var id any
	if json.Unmarshal(b, &id) != nil {
		*e = ""
		return nil
	}
	switch v := id.(type) {
	case string:
		*e = employerID(v)
	case float64:
		*e = employerID(strconv.FormatFloat(v, 'f', -1, 64))
	default:
		*e = ""
	}
	return nil
}

// vendorWord is an enum value such as state or cancellation_reason. Version
// 2023-10-30 sends {"canonical_value": "...", "raw_value": "..."}; older
// versions and webhooks send a plain string. Both decode to the word.
type vendorWord string

func (w *vendorWord) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*w = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*w = normalizeWord(s)
		return nil
	}
	var obj struct {
		Canonical string `json:"canonical_value"`
		Raw       string `json:"raw_value"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return fmt.Errorf("want a string or {canonical_value, raw_value}: %w", err)
	}
	// The canonical value is the documented enum word; raw_value is what
	// Truework stored, which may be a word the enum does not list yet.
	if obj.Canonical != "" {
		*w = normalizeWord(obj.Canonical)
	} else {
		*w = normalizeWord(obj.Raw)
	}
	return nil
}

func normalizeWord(s string) vendorWord {
	return vendorWord(strings.ToLower(strings.TrimSpace(s)))
}

// vendorTime is a date_of_completion. An unreadable date leaves it unset
// rather than failing the whole observation: Truework enforces the reverify
// window itself, so a missing date only costs the controller an early check.
type vendorTime struct{ t *time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999", "2006-01-02"}

func (v *vendorTime) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) != nil || s == "" {
		v.t = nil
		return nil
	}
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			t = t.UTC()
			v.t = &t
			return nil
		}
	}
	v.t = nil
	return nil
}

// wireError is Truework's error body:
// {"error": {"message": "...", "invalid_fields": {"field": ["..."]}}}.
type wireError struct {
	Error struct {
		Message       string                     `json:"message"`
		InvalidFields map[string]json.RawMessage `json:"invalid_fields"`
	} `json:"error"`
}

// decodeError returns Truework's message followed by each invalid field's
// complaints, e.g. `Invalid field values provided (cancellation_reason: "x"
// is not a valid choice.)`. vendorhttp sanitizes the result. Truework sends
// no retry hint in the body.
func decodeError(_ int, body []byte) (string, time.Duration) {
	var e wireError
	if json.Unmarshal(body, &e) != nil {
		return "", 0
	}
	msg := strings.TrimSpace(e.Error.Message)
	if fields := describeInvalidFields(e.Error.InvalidFields); fields != "" {
		if msg == "" {
			return fields, 0
		}
		msg += " (" + fields + ")"
	}
	return msg, 0
}

func describeInvalidFields(fields map[string]json.RawMessage) string {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	parts := make([]string, 0, len(names))
	for _, name := range names {
		var list []string
		if json.Unmarshal(fields[name], &list) != nil {
			var one string
			if json.Unmarshal(fields[name], &one) != nil {
				list = nil
			} else {
				list = []string{one}
			}
		}
		if len(list) == 0 {
			parts = append(parts, name+": invalid")
			continue
		}
		parts = append(parts, name+": "+strings.Join(list, " "))
	}
	return strings.Join(parts, "; ")
}
