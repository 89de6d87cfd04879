package providers

import (
	"regexp"
	"slices"
	"strings"
	"sync"
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
)

// QuotedPassword is a password quoted in a message ("wrong password
// 'hunter2'"). Sanitize redacts it whoever wrote it; a vendor whose
// credentials have no shape of their own (AccountChek's user and password)
// declares it as its CredentialShapes.
var QuotedPassword = regexp.MustCompile(`(?i)password\W{0,3}['"][^'"]*['"]`)

// credentialShapes are the CredentialShapes of every vendor a registry was
// made of, which Sanitize redacts besides QuotedPassword. They are kept
// here, and given by NewRegistry, because this package cannot import the
// vendors (each imports it) and Sanitize's callers name no vendor; every
// process that talks to vendors makes its registry (providers/registry)
// before its first call. The set only grows, and holds a shape once (by its
// text, however often registries are made), sorted so that Sanitize's
// result never depends on the order vendors were registered in.
var credentialShapes struct {
	sync.RWMutex
	sorted []*regexp.Regexp
}

func redactCredentialShapes(shapes ...*regexp.Regexp) {
	credentialShapes.Lock()
	defer credentialShapes.Unlock()
	for _, shape := range shapes {
		i, known := slices.BinarySearchFunc(credentialShapes.sorted, shape.String(), func(r *regexp.Regexp, text string) int {
			return strings.Compare(r.String(), text)
		})
		if !known {
			credentialShapes.sorted = slices.Insert(credentialShapes.sorted, i, shape)
		}
	}
}

// redactCredentials replaces everything shaped like a credential.
func redactCredentials(msg string) string {
	msg = QuotedPassword.ReplaceAllString(msg, "[redacted]")
	credentialShapes.RLock()
	defer credentialShapes.RUnlock()
	for _, shape := range credentialShapes.sorted {
		msg = shape.ReplaceAllString(msg, "[redacted]")
	}
	return msg
}

// minSecretLen: shorter credential values (an integrator id, a user name)
// are not redacted by value, lest ordinary words vanish from messages.
const minSecretLen = 6

// Sanitize makes a vendor's free-text message safe for a status condition,
// an event or a log line: it redacts the given secrets (the provider's
// credentials), anything shaped like a registered vendor's credential
// (Vendor.CredentialShapes) or a quoted password, an email, a date or a
// long number in any script's digits and with any separator, flattens
// whitespace and caps the length. Vendors echo request fields in validation
// messages, so their text is never trusted.
func Sanitize(msg string, secrets ...string) string {
	for _, secret := range secrets {
		if len(secret) >= minSecretLen {
			msg = strings.ReplaceAll(msg, secret, "[redacted]")
		}
	}
	msg = redactCredentials(msg)
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
