package providers

import (
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
)

func TestSanitizeRedactsTheProvidersCredentials(t *testing.T) {
	got := Sanitize("user ordersync-svc with secret Zq9#xLpe2 refused", "Zq9#xLpe2", "abc")
	if strings.Contains(got, "Zq9#xLpe2") {
		t.Errorf("credential kept: %q", got)
	}
	if !strings.Contains(got, "refused") || !strings.Contains(got, "ordersync-svc") {
		t.Errorf("message lost: %q", got)
	}
}

func TestSanitize(t *testing.T) {
	cases := []struct {
		in         string
		mustNot    []string
		mustRemain []string
	}{
		{in: "order cannot be canceled from status inprogress", mustRemain: []string{"order cannot be canceled from status inprogress"}},
		{in: "ssn 123-45-6789 is frozen", mustNot: []string{"123-45-6789", "6789"}, mustRemain: []string{"ssn", "frozen"}},
		{in: "SSN 123456789 invalid", mustNot: []string{"123456789"}},
		{in: "dob 1983-05-24T00:00:00Z wrong", mustNot: []string{"1983-05-24"}},
		{in: "born 05/24/1983", mustNot: []string{"05/24/1983"}},
		{in: "contact johndoe@gmail.com", mustNot: []string{"johndoe@gmail.com"}},
		{in: "account 1234567890 routing 123456789", mustNot: []string{"1234567890", "123456789"}},
		{in: "document AE123456 expired", mustNot: []string{"AE123456", "123456"}},
		{in: "phone 706-123-4567", mustNot: []string{"706-123-4567", "4567"}},
		{in: "retry in 30 seconds, limit 429", mustRemain: []string{"30 seconds", "429"}},
		{in: strings.Repeat("x", 1000), mustRemain: []string{"..."}},
		// Separators and scripts that split or hide a number.
		{in: "ssn 123_45_6789", mustNot: []string{"6789", "123"}},
		{in: "ssn 123/45/6789", mustNot: []string{"6789"}},
		{in: "ssn 123,45,6789", mustNot: []string{"6789"}},
		{in: "ssn 123\u00a045\u00a06789", mustNot: []string{"6789"}},
		{in: "ssn 123\u201345\u20136789", mustNot: []string{"6789"}},
		{in: "ssn \uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19", mustNot: []string{"\uff16\uff17\uff18\uff19", "\uff11"}},
		// Credentials echoed back.
		{in: "invalid key tw_sk_test_abcdef0123456789abcdef0123456789", mustNot: []string{"abcdef0123456789"}, mustRemain: []string{"invalid key"}},
		{in: "key txc_live_AbCdEf123456 revoked", mustNot: []string{"AbCdEf123456"}, mustRemain: []string{"revoked"}},
		{in: "secret sandbox-0123456789abcdef0123 unknown", mustNot: []string{"0123456789abcdef"}},
		{in: "wrong password 'hunter2!'", mustNot: []string{"hunter2"}, mustRemain: []string{"wrong"}},
	}
	for _, c := range cases {
		got := Sanitize(c.in)
		for _, s := range c.mustNot {
			if strings.Contains(got, s) {
				t.Errorf("Sanitize(%q) = %q, still contains %q", c.in, got, s)
			}
		}
		for _, s := range c.mustRemain {
			if !strings.Contains(got, s) {
				t.Errorf("Sanitize(%q) = %q, lost %q", c.in, got, s)
			}
		}
		if len(got) > MaxMessageLen+3 {
			t.Errorf("Sanitize left %d bytes, want at most %d", len(got), MaxMessageLen+3)
		}
	}
}

// A registry hands its vendors' credential shapes to Sanitize, which
// redacts them whole (here shapes no real vendor has, new in each run of
// the test: the shapes a process knows only grow).
func TestSanitizeRedactsRegisteredCredentialShapes(t *testing.T) {
	prefix := "zz" + strings.Repeat("q", int(shapeTestRuns.Add(1))) + "_"
	key := prefix + "Abc9Def"
	if got := Sanitize("key " + key + " revoked"); !strings.Contains(got, "Abc") {
		t.Fatalf("redacted before any vendor declared the shape: %q", got)
	}
	shaped := Vendor{Name: "shaped", CredentialShapes: []*regexp.Regexp{regexp.MustCompile(`\b` + prefix + `[[:alnum:]]+\b`)}}
	NewRegistry(shaped)
	NewRegistry(shaped)
	if got := Sanitize("key " + key + " revoked"); got != "key [redacted] revoked" {
		t.Errorf("Sanitize = %q", got)
	}
	credentialShapes.RLock()
	defer credentialShapes.RUnlock()
	kept := 0
	for _, shape := range credentialShapes.sorted {
		if shape.MatchString(key) {
			kept++
		}
	}
	if kept != 1 {
		t.Errorf("the shape is kept %d times, want once", kept)
	}
}

var shapeTestRuns atomic.Int32
