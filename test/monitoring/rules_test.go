package monitoring

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAlertRules runs the rule unit tests in alerts_test.yaml against the
// spec of config/prometheus/rules.yaml, written out as the plain rule file
// Prometheus loads: the rules are kept once, in the PrometheusRule.
// Loading it also checks what `promtool check rules` would: the schema,
// every expression, and every annotation's template.
func TestAlertRules(t *testing.T) {
	runRuleTests(t, readAlertTests(t), writeRuleFile(t, t.TempDir()))
}

// minFor is the shortest `for` an alert may have: a scrape or two that
// catches a blip must not page anyone.
const minFor = 5 * time.Minute

var severities = []string{"critical", "warning", "info"}

// TestAlertsAreActionable checks what a person receiving an alert needs: a
// severity to route it by, a summary, a description of what to do, and a
// runbook link to a section of docs/monitoring.md that exists.
func TestAlertsAreActionable(t *testing.T) {
	anchors := headingAnchors(t, monitoringDoc)
	for _, a := range alerts(t) {
		if d, err := time.ParseDuration(a.For); err != nil || d < minFor {
			t.Errorf("%s: for %q: want at least %s, so that a blip does not fire it", a.Alert, a.For, minFor)
		}
		if !slices.Contains(severities, a.Labels["severity"]) {
			t.Errorf("%s: severity %q, want one of %v", a.Alert, a.Labels["severity"], severities)
		}
		for _, key := range []string{"summary", "description"} {
			if strings.TrimSpace(a.Annotations[key]) == "" {
				t.Errorf("%s: no %s annotation", a.Alert, key)
			}
		}
		doc, anchor, _ := strings.Cut(a.Annotations["runbook_url"], "#")
		if !strings.HasSuffix(doc, "/docs/monitoring.md") || !anchors[anchor] {
			t.Errorf("%s: runbook_url %q: want docs/monitoring.md#<a heading there>", a.Alert, a.Annotations["runbook_url"])
		}
		if want := strings.ToLower(a.Alert); anchor != want {
			t.Errorf("%s: runbook anchor %q, want %q (its own section)", a.Alert, anchor, want)
		}
	}
}

// headingAnchors returns the anchors GitHub gives the Markdown headings of
// path: lower case, spaces as hyphens, other punctuation dropped.
func headingAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	anchors := map[string]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		if heading, ok := strings.CutPrefix(line, "#"); ok {
			title := strings.TrimSpace(strings.TrimLeft(heading, "#"))
			anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(title), ""), " ", "-")] = true
		}
	}
	return anchors
}
