package monitoring

import (
	"maps"
	"slices"
	"testing"
	"time"
)

// TestEveryAlertIsTested checks that alerts_test.yaml holds, for every
// alert in rules.yaml, a case where it fires; a case just before, within its
// `for`, where the same series do not fire it yet; and a case where it is
// silent that is not such a wait (healthy series, a blip); and no case of an
// alert that does not exist.
func TestEveryAlertIsTested(t *testing.T) {
	file := readAlertTests(t)
	forOf := map[string]time.Duration{}
	for _, a := range alerts(t) {
		forOf[a.Alert] = duration(t, a.For)
	}
	fires, waits, silent := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, g := range file.Tests {
		for _, c := range g.AlertRuleTest {
			wait, ok := forOf[c.Alertname]
			if !ok {
				t.Errorf("test %q: no alert %q in rules.yaml", g.Name, c.Alertname)
				continue
			}
			if len(c.ExpAlerts) > 0 {
				fires[c.Alertname] = true
			}
			pending := false
			for _, firing := range g.AlertRuleTest {
				if len(firing.ExpAlerts) > 0 && withinFor(t, c, firing, wait) {
					pending = true
					waits[c.Alertname] = waits[c.Alertname] || missesOneOf(c, firing)
				}
			}
			if len(c.ExpAlerts) == 0 && !pending {
				silent[c.Alertname] = true
			}
		}
	}
	for name := range forOf {
		for what, tested := range map[string]map[string]bool{
			"fires": fires, "waits for its `for` before firing": waits, "stays silent on series that do not fire it": silent,
		} {
			if !tested[name] {
				t.Errorf("%s: no case in %s where it %s", name, alertTestsPath, what)
			}
		}
	}
}

// withinFor says whether c is a case of firing's alert at most its `for`
// before firing.
func withinFor(t *testing.T, c, firing alertCase, wait time.Duration) bool {
	t.Helper()
	at, earlier := duration(t, firing.EvalTime), duration(t, c.EvalTime)
	return c.Alertname == firing.Alertname && earlier < at && earlier >= at-wait
}

// missesOneOf says whether c does not expect one of the alerts firing
// expects: that alert was pending at c.
func missesOneOf(c, firing alertCase) bool {
	for _, want := range firing.ExpAlerts {
		if !slices.ContainsFunc(c.ExpAlerts, func(a expectedAlert) bool { return maps.Equal(a.ExpLabels, want.ExpLabels) }) {
			return true
		}
	}
	return false
}
