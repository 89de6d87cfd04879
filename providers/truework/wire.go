package truework

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The structs below name only the fields the Observation needs. Truework's
// bodies also carry the target's name, SSN, date of birth, email and the
// report's employee data; encoding/json skips fields a struct does not name,
// so none of that is ever copied into this process's values.

// wireOrder is GET /orders/{id} and the answer of PUT /orders/{id}/cancel.
type wireOrder struct {
	ID                   string        `json:"id"`
	VerificationRequests []wireRequest `json:"verification_requests"`
}

// wireRequest is one verification request, inside an order or alone
// (GET /verification-requests/{id}/, the reverify answer).
type wireRequest struct {
	ID               string     `json:"id"`
	State            vendorWord `json:"state"`
	DateOfCompletion vendorTime `json:"date_of_completion"`
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
