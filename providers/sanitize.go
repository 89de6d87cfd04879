package providers

import (
	"regexp"
	"strings"
	"unicode"
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
	numberPattern = regexp.MustCompile(`[[:alpha:]]{0,3}\d[\d\s()._/,-]{2,}\d`)
	// Credentials a vendor may echo: Truework and txcloud key shapes, Truv
	// secrets, and a quoted password.
	credentialPattern = regexp.MustCompile(`(?i)\b(tw_sk_[[:alnum:]_]+|txc_(test|live)_[[:alnum:]_]+|(sandbox|prod|dev)-[[:alnum:]]{12,})\b|password\W{0,3}['"][^'"]*['"]`)
)

// minSecretLen: shorter credential values (an integrator id, a user name)
// are not redacted by value, lest ordinary words vanish from messages.
const minSecretLen = 6

// Sanitize makes a vendor's free-text message safe for a status condition,
// an event or a log line: it redacts the given secrets (the provider's
// credentials), anything shaped like a credential, an email, a date or a
// long number in any script's digits and with any separator, flattens
// whitespace and caps the length. Vendors echo request fields in validation
// messages, so their text is never trusted.
func Sanitize(msg string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecretLen {
			msg = strings.ReplaceAll(msg, secret, "[redacted]")
		}
	}
	msg = credentialPattern.ReplaceAllString(msg, "[redacted]")
	msg = normalizeDigits(msg)
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

// normalizeDigits writes every decimal digit as an ASCII one (full-width
// and other scripts' digits would slip past the patterns) and every dash
// and space as an ASCII one (en dash, no-break space), so that separators
// cannot split a number into short runs.
func normalizeDigits(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r < utf8.RuneSelf:
			return r
		case unicode.IsDigit(r):
			return '0'
		case unicode.Is(unicode.Pd, r) || r == '\u2212':
			return '-'
		case unicode.IsSpace(r):
			return ' '
		}
		return r
	}, s)
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
