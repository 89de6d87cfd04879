package monitoring

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// unitTests is a promtool rule unit test file
// (https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/),
// the alert tests of it: promtool itself takes minutes of CPU to build, and
// runRuleTests runs the same file on the same engine in a second.
type unitTests struct {
	RuleFiles          []string    `json:"rule_files"`
	EvaluationInterval string      `json:"evaluation_interval"`
	Tests              []testGroup `json:"tests"`
}

type testGroup struct {
	Name        string `json:"name"`
	Interval    string `json:"interval"`
	InputSeries []struct {
		Series string `json:"series"`
		Values string `json:"values"`
	} `json:"input_series"`
	AlertRuleTest []alertCase `json:"alert_rule_test"`
}

type alertCase struct {
	EvalTime  string          `json:"eval_time"`
	Alertname string          `json:"alertname"`
	ExpAlerts []expectedAlert `json:"exp_alerts"`
}

type expectedAlert struct {
	ExpLabels      map[string]string `json:"exp_labels"`
	ExpAnnotations map[string]string `json:"exp_annotations"`
}

// readAlertTests reads alerts_test.yaml, whose rules are the spec of
// rules.yaml.
func readAlertTests(t *testing.T) unitTests {
	t.Helper()
	var file unitTests
	readYAML(t, alertTestsPath, &file)
	if !slices.Equal(file.RuleFiles, []string{"rules.yaml"}) {
		t.Fatalf("%s: rule_files %v, want [rules.yaml] (the spec of %s)", alertTestsPath, file.RuleFiles, rulesPath)
	}
	return file
}

func duration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s)
	if err != nil {
		t.Fatalf("duration %q: %v", s, err)
	}
	return time.Duration(d)
}

// runRuleTests runs every test group of file against the rule file at
// rulesFile, as `promtool test rules` does: the input series are loaded
// into Prometheus's test storage, the rule groups are evaluated by
// Prometheus's rules manager every evaluation_interval from time 0, and at
// each eval_time the firing alerts, with their labels and rendered
// annotations, must be exactly the expected ones.
func runRuleTests(t *testing.T, file unitTests, rulesFile string) {
	evalInterval := duration(t, file.EvaluationInterval)
	for _, g := range file.Tests {
		t.Run(g.Name, func(t *testing.T) {
			groups, loader := loadTestGroup(t, g, evalInterval, rulesFile)
			cases := slices.Clone(g.AlertRuleTest)
			slices.SortStableFunc(cases, func(a, b alertCase) int {
				return int(duration(t, a.EvalTime) - duration(t, b.EvalTime))
			})
			start := time.Unix(0, 0).UTC()
			for ts := start; len(cases) > 0; ts = ts.Add(evalInterval) {
				loader.WithSamplesTill(ts, func(err error) {
					if err != nil {
						t.Fatal(err)
					}
					for _, group := range groups {
						group.Eval(loader.Context(), ts)
						for _, r := range group.Rules() {
							if err := r.LastError(); err != nil {
								t.Fatalf("%s at %s: %v", r.Name(), ts.Sub(start), err)
							}
						}
					}
				})
				// A case is checked against the last evaluation at or before it.
				for len(cases) > 0 && duration(t, cases[0].EvalTime) < ts.Sub(start)+evalInterval {
					checkFiring(t, cases[0], groups)
					cases = cases[1:]
				}
			}
		})
	}
}

// loadTestGroup loads g's input series and the rule groups of rulesFile.
func loadTestGroup(t *testing.T, g testGroup, evalInterval time.Duration, rulesFile string) ([]*rules.Group, *promqltest.LazyLoader) {
	t.Helper()
	var load strings.Builder
	fmt.Fprintf(&load, "load %s\n", g.Interval)
	for _, s := range g.InputSeries {
		fmt.Fprintf(&load, "  %s %s\n", s.Series, s.Values)
	}
	loader, err := promqltest.NewLazyLoader(load.String(), promqltest.LazyLoaderOpts{EnableAtModifier: true, EnableNegativeOffset: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := loader.Close(); err != nil {
			t.Error(err)
		}
	})
	loader.SubqueryInterval = evalInterval
	manager := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:    rules.EngineQueryFunc(loader.QueryEngine(), loader.Storage()),
		AppendableV2: loader.Storage(),
		Context:      context.Background(),
		NotifyFunc:   func(context.Context, string, ...*rules.Alert) {},
		Logger:       slog.New(slog.DiscardHandler),
	})
	loaded, errs := manager.LoadGroups(duration(t, g.Interval), labels.EmptyLabels(), "", nil, false, rulesFile)
	if len(errs) > 0 {
		t.Fatalf("load %s: %v", rulesFile, errs)
	}
	groups := make([]*rules.Group, 0, len(loaded))
	for _, group := range loaded {
		for _, r := range group.Rules() {
			if alerting, ok := r.(*rules.AlertingRule); ok {
				alerting.SetRestored(true) // nothing to restore: a fresh start
			}
		}
		groups = append(groups, group)
	}
	return groups, loader
}

// checkFiring compares the alerts of c's rule that are firing with the
// ones c expects.
func checkFiring(t *testing.T, c alertCase, groups []*rules.Group) {
	t.Helper()
	var got []string
	want := make([]string, 0, len(c.ExpAlerts))
	for _, group := range groups {
		for _, r := range group.Rules() {
			alerting, ok := r.(*rules.AlertingRule)
			if !ok || alerting.Name() != c.Alertname {
				continue
			}
			for _, a := range alerting.ActiveAlerts() {
				if a.State == rules.StateFiring {
					got = append(got, a.Labels.String()+"\n  "+a.Annotations.String())
				}
			}
		}
	}
	for _, e := range c.ExpAlerts {
		l := labels.FromMap(e.ExpLabels)
		l = labels.NewBuilder(l).Set(labels.AlertName, c.Alertname).Labels()
		want = append(want, l.String()+"\n  "+labels.FromMap(e.ExpAnnotations).String())
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("%s at %s:\n firing:\n%s\n expected:\n%s", c.Alertname, c.EvalTime, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
