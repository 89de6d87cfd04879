// Package monitoring tests what config/prometheus and config/grafana ship:
// the alerts, with promtool's rule unit tests run on Prometheus's own rules
// engine; the ServiceMonitor, against the metrics Service config/default
// installs; and every PromQL expression of the rules and the dashboard,
// against the metrics the operator exports.
//
// It is a module of its own, so that Prometheus's dependencies stay out of
// the operator's go.mod: `make test-monitoring` runs it.
package monitoring

import (
	"os"
	"path/filepath"
	"testing"

	"sigs.k8s.io/yaml"
)

// Paths from this package's directory, where `go test` runs it.
const (
	repoRoot       = "../.."
	rulesPath      = repoRoot + "/config/prometheus/rules.yaml"
	dashboardPath  = repoRoot + "/config/grafana/verification-operator.json"
	monitoringDoc  = repoRoot + "/docs/monitoring.md"
	alertTestsPath = "alerts_test.yaml"
)

// ruleGroups is a Prometheus rule file: the spec of a PrometheusRule.
type ruleGroups struct {
	Groups []ruleGroup `json:"groups"`
}

type ruleGroup struct {
	Name  string `json:"name"`
	Rules []rule `json:"rules"`
}

type rule struct {
	Alert       string            `json:"alert,omitempty"`
	Record      string            `json:"record,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// readRuleFile returns the spec of the PrometheusRule in rules.yaml.
func readRuleFile(t *testing.T) ruleGroups {
	t.Helper()
	var doc struct {
		APIVersion string         `json:"apiVersion"`
		Kind       string         `json:"kind"`
		Metadata   map[string]any `json:"metadata"`
		Spec       ruleGroups     `json:"spec"`
	}
	readYAML(t, rulesPath, &doc)
	if doc.Kind != "PrometheusRule" {
		t.Fatalf("%s holds a %q, not a PrometheusRule", rulesPath, doc.Kind)
	}
	return doc.Spec
}

// writeRuleFile writes the spec of rules.yaml into dir as the rule file
// Prometheus loads (the Prometheus Operator hands it the spec as it is), and
// returns its path.
func writeRuleFile(t *testing.T, dir string) string {
	t.Helper()
	out, err := yaml.Marshal(readRuleFile(t))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "rules.yaml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// alerts returns the alerting rules of rules.yaml.
func alerts(t *testing.T) []rule {
	t.Helper()
	var alerts []rule
	for _, g := range readRuleFile(t).Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				alerts = append(alerts, r)
			}
		}
	}
	if len(alerts) == 0 {
		t.Fatalf("%s has no alerts", rulesPath)
	}
	return alerts
}

// readYAML decodes path into into, refusing fields into does not know.
func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
