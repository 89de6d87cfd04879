package monitoring

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// operatorMetrics are the operator's own metrics; TestOperatorMetricsExist
// keeps the list honest.
var operatorMetrics = []string{
	"verification_operator_vendor_requests_total",
	"verification_operator_vendor_request_duration_seconds",
	"verification_operator_vendor_unanswered_total",
	"verification_operator_orders_pruned_total",
	"verification_operator_orders",
	"verification_operator_orders_stalled",
	"verification_operator_provider_ready",
	"verification_operator_budget_queue_depth",
	"verification_operator_budget_wait_seconds",
	"verification_operator_budget_paused",
	"verification_operator_polls_stretched",
	"verification_operator_webhook_deliveries_total",
	"verification_operator_build_info",
	"verification_operator_account_shard",
	"verification_operator_shard_leader",
	"verification_operator_shard_providers",
}

// otherMetrics are the series the rules and the dashboard may query beyond
// operatorMetrics: a histogram's own series, controller-runtime's reconcile
// and workqueue metrics, and Prometheus's `up`.
var otherMetrics = []string{
	"verification_operator_vendor_request_duration_seconds_bucket",
	"verification_operator_vendor_request_duration_seconds_count",
	"verification_operator_vendor_request_duration_seconds_sum",
	"controller_runtime_reconcile_total",
	"controller_runtime_reconcile_errors_total",
	"controller_runtime_reconcile_panics_total",
	"controller_runtime_reconcile_time_seconds_bucket",
	"controller_runtime_active_workers",
	"controller_runtime_max_concurrent_reconciles",
	"workqueue_depth",
	"workqueue_adds_total",
	"workqueue_retries_total",
	"workqueue_queue_duration_seconds_bucket",
	"workqueue_work_duration_seconds_bucket",
	"workqueue_longest_running_processor_seconds",
	"workqueue_unfinished_work_seconds",
	"up",
}

// TestOperatorMetricsExist checks that each of operatorMetrics is still
// defined in controllers/, so that a renamed metric fails here rather than
// leave an alert that never fires or a panel that shows nothing.
// TestOperatorMetricsExist checks operatorMetrics against the operator's
// Go sources both ways: each listed metric is defined, and each metric the
// operator defines is listed (and so must have a panel).
func TestOperatorMetricsExist(t *testing.T) {
	defined := map[string]bool{}
	name := regexp.MustCompile(`"(verification_operator_[a-z_]+)"`)
	for _, dir := range []string{"controllers", "internal", "cmd"} {
		err := filepath.WalkDir(filepath.Join(repoRoot, dir), func(path string, e fs.DirEntry, err error) error {
			if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			data, err := os.ReadFile(path)
			for _, m := range name.FindAllStringSubmatch(string(data), -1) {
				defined[m[1]] = true
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range operatorMetrics {
		if !defined[n] {
			t.Errorf("%s is listed but not defined in the operator's sources", n)
		}
	}
	for n := range defined {
		if !slices.Contains(operatorMetrics, n) {
			t.Errorf("the operator defines %s: list it in operatorMetrics and give it a panel", n)
		}
	}
}

// metricNames parses expr as PromQL and returns the metric names it
// selects. A selector without a plain metric name is an error: it would hide
// what it selects from TestPromQL.
func metricNames(expr string) ([]string, error) {
	parsed, err := parser.NewParser(parser.Options{}).ParseExpr(expr)
	if err != nil {
		return nil, err
	}
	var names []string
	parser.Inspect(parsed, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		name := vs.Name
		for _, m := range vs.LabelMatchers {
			if m.Name == model.MetricNameLabel && m.Type == labels.MatchEqual {
				name = m.Value
			}
		}
		if name == "" {
			err = fmt.Errorf("%s selects no metric by name", vs)
		}
		names = append(names, name)
		return nil
	})
	return names, err
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`up`:                       {"up"},
		`absent(up{job="a"} == 1)`: {"up"},
		`sum by (v) (rate(a_total{code=~"5.."}[10m])) / ignoring(code) group_left sum by (v) (rate(b_total[5m] offset 1h))`: {"a_total", "b_total"},
		`histogram_quantile(0.99, sum(rate({__name__="h_bucket", a="}"}[5m])) without (le))`:                                {"h_bucket"},
	} {
		got, err := metricNames(expr)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, %v; want %v", expr, got, err, want)
		}
	}
	for _, bad := range []string{`{__name__=~"verification_.*"}`, `sum(rate(x[5m])`, `rate(x)`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("metricNames(%s) accepted it", bad)
		}
	}
}

// checkPromQL fails t for each expression (by where it is) that does not
// parse as PromQL or selects a metric that nothing exports, and returns the
// metrics they select.
func checkPromQL(t *testing.T, exprs map[string]string) map[string]bool {
	t.Helper()
	known := slices.Concat(operatorMetrics, otherMetrics)
	selected := map[string]bool{}
	for _, where := range slices.Sorted(maps.Keys(exprs)) {
		names, err := metricNames(exprs[where])
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		for _, name := range names {
			if !slices.Contains(known, name) {
				t.Errorf("%s: %s is not a metric the operator, controller-runtime or Prometheus exports", where, name)
			}
			selected[name] = true
		}
	}
	return selected
}

// TestRulesSelectExportedMetrics: the unit tests feed the rules series by
// name, so a misspelled name in a rule and its test would pass them both.
func TestRulesSelectExportedMetrics(t *testing.T) {
	exprs := map[string]string{}
	for _, a := range alerts(t) {
		exprs[a.Alert] = a.Expr
	}
	checkPromQL(t, exprs)
}
