package providers

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxMessageLen caps a vendor message that reaches a condition or an event.
const MaxMessageLen = 300

var (
	// Emails, then dates, then any run of digits long enough to be an SSN,
	// account, routing, phone or document number ("123-45-6789",
	// "AE123456", "1234567890"). Order ids are never passed through here.
	emailPattern  = regexp.MustCompile(`[[:alnum:]._%+-]+@[[:alnum:].-]+\.[[:alpha:]]{2,}`)
	datePattern   = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}(T[0-9:.]+Z?)?\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b`)
	numberPattern = regexp.MustCompile(`[[:alpha:]]{0,3}\d[\d\s().-]{2,}\d`)
)

// Sanitize makes a vendor's free-text message safe for a status condition,
// an event or a log line: it redacts anything shaped like an email, a date
// or a long number, flattens whitespace and caps the length. Vendors echo
// request fields in validation messages, so their text is never trusted.
func Sanitize(msg string) string {
	msg = emailPattern.ReplaceAllString(msg, "[redacted]")
	msg = datePattern.ReplaceAllString(msg, "[redacted]")
	msg = numberPattern.ReplaceAllStringFunc(msg, func(s string) string {
		if countDigits(s) < 4 {
			return s
		}
		return "[redacted]"
	})
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > MaxMessageLen {
		cut := MaxMessageLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "..."
	}
	return msg
}

func countDigits(s string) int {
	n := 0
	for _, r := range s {
		if r >= '0' && r <= '9' {
			n++
		}
	}
	return n
}
