package truv

import (
	"encoding/json"
	"strings"
	"time"
)

// errorBody is Truv's error format (docs.truv.com, "Errors & Rate Limits"):
//
//	{"error": {"code": "incorrect_parameters", "message": "...",
//	           "extra": {"invalid-params": [{"field": "...", "message": "..."}]}}}
//
// except 404, which answers {"detail": "Not Found."}. Only the message
// fields are read; vendorhttp sanitizes the result.
type errorBody struct {
	Detail string `json:"detail"`
	Error  struct {
		Message string `json:"message"`
		Extra   struct {
			InvalidParams []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"invalid-params"`
		} `json:"extra"`
	} `json:"error"`
}

// DecodeError turns a Truv error body into one line: the message followed by
// each invalid parameter as "field: message". Truv sends its wait only in
// the Retry-After header, so the body gives no retry hint.
func DecodeError(_ int, body []byte) (string, time.Duration) {
	var b errorBody
	// A field of an unexpected type is skipped and the rest still decoded,
	// so a partly odd body keeps its message.
	_ = json.Unmarshal(body, &b)
	parts := []string{}
	for _, m := range []string{b.Error.Message, b.Detail} {
		if m = strings.TrimSpace(m); m != "" {
			parts = append(parts, m)
		}
	}
	for _, p := range b.Error.Extra.InvalidParams {
		switch {
		case p.Message == "":
		case p.Field == "":
			parts = append(parts, p.Message)
		default:
			parts = append(parts, p.Field+": "+p.Message)
		}
	}
	return strings.Join(parts, "; "), 0
}
