package monitoring

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// dashboard is the part of a Grafana dashboard JSON that the tests read.
type dashboard struct {
	UID        string `json:"uid"`
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"` // a string, or {query: ...} for a Prometheus query variable
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource struct {
		UID string `json:"uid"`
	} `json:"datasource"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a row's, when collapsed
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	data, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	return d
}

// graphs returns the dashboard's panels that are not rows, rows' included.
func (d dashboard) graphs() []panel {
	var graphs []panel
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			graphs = append(graphs, p)
		}
	}
	walk(d.Panels)
	return graphs
}

// Grafana's variables: $name, ${name} or ${name:format}.
var grafanaVariable = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)`)

// builtins are Grafana's own variables, with a value to parse with.
var builtins = map[string]string{"__rate_interval": "5m", "__interval": "1m", "__range": "1h"}

// expand replaces Grafana's variables in expr as Grafana would before it
// sends the query: builtins with a duration, the dashboard's own variables
// with a value (inside a regex matcher, as `=~"$vendor"`). A variable the
// dashboard does not define is an error: Grafana would send it as is.
func expand(expr string, defined []string) (string, error) {
	var err error
	expanded := grafanaVariable.ReplaceAllStringFunc(expr, func(v string) string {
		m := grafanaVariable.FindStringSubmatch(v)
		name := m[1] + m[2]
		if value, ok := builtins[name]; ok {
			return value
		}
		if !slices.Contains(defined, name) {
			err = fmt.Errorf("$%s is not a variable of the dashboard", name)
		}
		return "value"
	})
	return expanded, err
}

// TestDashboard checks config/grafana's dashboard: it is JSON Grafana can
// import (a uid, unique panel ids, every panel on the datasource variable),
// every panel queries something, every query and variable parses as PromQL
// once Grafana's variables are filled in and selects only metrics that the
// operator, controller-runtime or Prometheus exports, and every operator
// metric is on a panel.
func TestDashboard(t *testing.T) {
	d := readDashboard(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: want both, so that imports update one dashboard", d.UID, d.Title)
	}
	defined := make([]string, 0, len(d.Templating.List))
	exprs := map[string]string{}
	for _, v := range d.Templating.List {
		defined = append(defined, v.Name)
		if v.Type == "query" {
			exprs["variable "+v.Name] = labelValuesSelector(t, v.Name, v.Query)
		}
	}
	ids := map[int]bool{}
	for _, p := range d.graphs() {
		if ids[p.ID] {
			t.Errorf("panel %q: id %d is used twice", p.Title, p.ID)
		}
		ids[p.ID] = true
		if p.Datasource.UID != "${datasource}" {
			t.Errorf("panel %q: datasource %q, want the dashboard's ${datasource}", p.Title, p.Datasource.UID)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q queries nothing", p.Title)
		}
		for _, target := range p.Targets {
			exprs[fmt.Sprintf("panel %q %s", p.Title, target.RefID)] = target.Expr
		}
	}
	for where, expr := range exprs {
		expanded, err := expand(expr, defined)
		if err != nil {
			t.Errorf("%s: %v", where, err)
		}
		exprs[where] = expanded
	}
	selected := checkPromQL(t, exprs)
	for _, name := range operatorMetrics {
		if !selected[name] && !selected[name+"_bucket"] {
			t.Errorf("no panel shows %s", name)
		}
	}
}

// labelValuesSelector returns the series selector of a variable's
// label_values(selector, label) query.
func labelValuesSelector(t *testing.T, name string, query any) string {
	t.Helper()
	if q, ok := query.(map[string]any); ok {
		query = q["query"]
	}
	s, _ := query.(string)
	m := regexp.MustCompile(`^label_values\((.+),\s*\w+\)$`).FindStringSubmatch(s)
	if m == nil {
		t.Errorf("variable %s: query %q, want label_values(<series selector>, <label>)", name, query)
		return ""
	}
	return m[1]
}

// TestAlertsNamePanelsThatExist: an alert that sends a person to a panel
// ("Vendor errors by code" panel) must name one the dashboard has.
func TestAlertsNamePanelsThatExist(t *testing.T) {
	graphs := readDashboard(t).graphs()
	titles := make([]string, 0, len(graphs))
	for _, p := range graphs {
		titles = append(titles, p.Title)
	}
	named := regexp.MustCompile(`"([^"]+)" panel`)
	for _, a := range alerts(t) {
		for _, m := range named.FindAllStringSubmatch(strings.Join(strings.Fields(a.Annotations["description"]), " "), -1) {
			if !slices.Contains(titles, m[1]) {
				t.Errorf("%s: names a panel %q that the dashboard does not have", a.Alert, m[1])
			}
		}
	}
}
