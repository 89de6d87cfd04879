package accountchek

import (
	"encoding/json"
	"strings"
	"time"
)

// errorBody is AccountChek's documented error format (seed, 422):
// {"general": ["..."], "properties": [{"property": "...", "message": "..."}]}.
type errorBody struct {
	General    []string        `json:"general"`
	Properties []propertyError `json:"properties"`
}

type propertyError struct {
	Property string `json:"property"`
	Message  string `json:"message"`
}

// decodeError joins the general messages and each "property: message" into
// one line for a condition. vendorhttp passes the result through
// providers.Sanitize, since validation messages may echo submitted values.
// AccountChek documents no body-level retry hint.
func decodeError(_ int, body []byte) (string, time.Duration) {
	var e errorBody
	if json.Unmarshal(body, &e) != nil {
		return "", 0
	}
	var parts []string
	for _, g := range e.General {
		if g = strings.TrimSpace(g); g != "" {
			parts = append(parts, g)
		}
	}
	for _, p := range e.Properties {
		if d := describeProperty(p); d != "" {
			parts = append(parts, d)
		}
	}
	return strings.Join(parts, "; "), 0
}

func describeProperty(p propertyError) string {
	prop, msg := strings.TrimSpace(p.Property), strings.TrimSpace(p.Message)
	switch {
	case prop == "":
		return msg
	case msg == "":
		return prop + ": invalid"
	default:
		return prop + ": " + msg
	}
}
