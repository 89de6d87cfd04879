package commands

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/report"
)

// decode reads a report as a script would, refusing fields the report's
// types do not have.
func decode[T any](t *testing.T, out string) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("the output does not parse: %v\n%s", err, out)
	}
	return v
}

// sameData fails unless the YAML output holds what the JSON output holds.
func sameData(t *testing.T, jsonOut, yamlOut string) {
	t.Helper()
	fromYAML, err := yaml.YAMLToJSON([]byte(yamlOut))
	if err != nil {
		t.Fatalf("the YAML does not parse: %v\n%s", err, yamlOut)
	}
	var a, b any
	if err := json.Unmarshal([]byte(jsonOut), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(fromYAML, &b); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("-o yaml differs from -o json (-json +yaml):\n%s", diff)
	}
}

// tableOrder is namespace/name of each order in a plan table, as listed.
func tableOrder(table string) []string {
	var out []string
	for line := range strings.Lines(table) {
		if k, _, ok := strings.Cut(line[min(2, len(line)):], ": "); ok && !strings.HasPrefix(line, "Plan:") {
			out = append(out, k)
		}
	}
	return out
}

func typeMeta(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: "kubectl.verification.ordersync.dev/v1alpha1", Kind: kind}
}

func TestPlanJSONNamesEveryOrdersAction(t *testing.T) {
	ns := mixedOrders(t)
	r := plugin("plan", "-n", ns, "-o", "json", "--detailed-exitcode")
	t.Logf("plan -n %s -o json:\n%s", ns, r.stdout)
	if r.code != 2 || r.stderr != "" {
		t.Errorf("plan -o json --detailed-exitcode: exit %d (want 2), stderr %q", r.code, r.stderr)
	}
	plan := decode[report.Plan](t, r.stdout)
	if plan.TypeMeta != typeMeta("Plan") {
		t.Errorf("apiVersion and kind: %+v", plan.TypeMeta)
	}

	actions := map[string]string{}
	listed := make([]string, 0, len(plan.Items))
	for _, item := range plan.Items {
		actions[item.Name] = item.Action
		listed = append(listed, item.Namespace+"/"+item.Name)
	}
	wantActions := map[string]string{
		"loan-4411-employment": "Cancel", "loan-4412-assets": "Close", "loan-4413-reverify": "Reverify",
		"loan-4414-employment": "NoChange", "loan-4415-employment": "Blocked", "loan-4416-income": "Pending",
		"loan-4417-income": "Blocked",
	}
	if diff := cmp.Diff(wantActions, actions); diff != "" {
		t.Errorf("actions by order (-want +got):\n%s", diff)
	}
	if table := tableOrder(plugin("plan", "-n", ns, "-v").stdout); !cmp.Equal(table, listed) {
		t.Errorf("items in the order %q; the table lists %q", listed, table)
	}
	if want := (report.PlanSummary{Cancel: 1, Close: 1, Reverify: 1, Blocked: 2, Pending: 1, Unchanged: 1}); plan.Summary != want {
		t.Errorf("summary %+v, want %+v", plan.Summary, want)
	}

	truework := report.ProviderRef{Kind: "VerificationProvider", Name: "truework"}
	wantItems := map[string]report.PlanItem{
		"loan-4411-employment": {Namespace: ns, Name: "loan-4411-employment", ProviderRef: truework, Vendor: "truework",
			OrderID: "8f3c21d0-0a3e-4b6c-9d1e-7f00aa11bb22", Desired: "canceled",
			Observed: report.Observation{VendorState: "processing", State: "active", Time: observedAt},
			Action:   "Cancel", Reason: "Canceling"},
		"loan-4413-reverify": {Namespace: ns, Name: "loan-4413-reverify", ProviderRef: truework, Vendor: "truework",
			Reverification: report.Reverification{VerificationRequestID: "vr-5521", ReportID: "rp-5521"}, Desired: "active",
			Observed: report.Observation{Time: observedAt}, Action: "Reverify", Reason: "Reverifying"},
		"loan-4415-employment": {Namespace: ns, Name: "loan-4415-employment", ProviderRef: truework, Vendor: "truework",
			OrderID: "tw-77aa", Desired: "canceled", Observed: report.Observation{VendorState: "completed", State: "completed", Time: observedAt},
			Action: "Blocked", Hold: "Stalled", Reason: "AlreadyTerminal"},
		"loan-4416-income": {Namespace: ns, Name: "loan-4416-income", ProviderRef: truework, Vendor: "truework",
			OrderID: "tw-9c2e", Desired: "canceled", Action: "Pending", Reason: "Pending"},
		"loan-4417-income": {Namespace: ns, Name: "loan-4417-income", ProviderRef: report.ProviderRef{Kind: "VerificationProvider", Name: "accountchek"},
			Vendor: "accountchek", OrderID: "AC-20950", Desired: "canceled",
			Observed: report.Observation{VendorState: "building", State: "active", Time: observedAt},
			Action:   "Blocked", Hold: "Paused", Reason: "Paused"},
	}
	for _, item := range plan.Items {
		want, ok := wantItems[item.Name]
		if !ok {
			continue
		}
		// The messages are the plan's and the conditions' words, which the
		// table tests check.
		if diff := cmp.Diff(want, item, cmpopts.IgnoreFields(report.PlanItem{}, "Message")); diff != "" || item.Message == "" {
			t.Errorf("%s (-want +got), message %q:\n%s", item.Name, item.Message, diff)
		}
	}

	yamlOut := plugin("plan", "-n", ns, "-o", "yaml")
	if yamlOut.code != 0 || !strings.HasPrefix(yamlOut.stdout, "apiVersion: kubectl.verification.ordersync.dev/v1alpha1\n") {
		t.Errorf("plan -o yaml: exit %d\n%s%s", yamlOut.code, yamlOut.stdout, yamlOut.stderr)
	}
	sameData(t, r.stdout, yamlOut.stdout)
}

// With -o, what is said to a person (notes on skipped kinds, warnings)
// stays on stderr, so stdout parses; the exit codes are the table's.
func TestPlanJSONOfManifestsAndRefresh(t *testing.T) {
	ns, _ := orderBeingCanceled(t)
	dir := manifestDir(t, map[string]string{
		"orders.yaml": orderManifest("loan-2", "{providerRef: {name: truework}, orderID: tw-2, state: canceled}") +
			"---\n" + orderManifest("loan-3", "{providerRef: {name: truework}, orderID: tw-3, state: bogus}") +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n",
	})
	r := plugin("plan", "-n", ns, "-f", dir, "-o", "json")
	plan := decode[report.Plan](t, r.stdout)
	actions := map[string]string{}
	for _, item := range plan.Items {
		actions[item.Name] = item.Action
	}
	if want := map[string]string{"loan-2": "Create", "loan-3": "Invalid"}; r.code != 1 || !cmp.Equal(actions, want) ||
		!strings.Contains(r.stderr, "skipping ConfigMap/settings") {
		t.Errorf("plan -f -o json: exit %d (want 1), actions %v (want %v)\nstderr: %s", r.code, actions, want, r.stderr)
	}

	r = plugin("plan", "-n", ns, "--refresh", "--timeout", "200ms", "-o", "json")
	plan = decode[report.Plan](t, r.stdout)
	if r.code != 0 || len(plan.Items) != 1 || plan.Items[0].Action != "Cancel" || !strings.HasPrefix(r.stderr, "warning: "+ns+"/loan-1 was not observed again") {
		t.Errorf("plan --refresh -o json: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestStatusJSON(t *testing.T) {
	ns := fleet(t)
	r := plugin("status", "-n", ns, "-o", "json")
	t.Logf("status -n %s -o json:\n%s", ns, r.stdout)
	got := decode[report.Overview](t, r.stdout)
	minutes := func(n int) metav1.Duration { return metav1.Duration{Duration: time.Duration(n) * time.Minute} }
	want := report.Overview{
		TypeMeta: typeMeta("Overview"),
		Providers: []report.ProviderStatus{
			{Namespace: ns, Name: "accountchek", Vendor: "accountchek", Ready: "False", Reason: "SecretNotFound",
				RateLimit: report.RateLimit{RequestsPerSecond: 10, Burst: 10, MaxInFlight: 10}, PollBudgetPercent: 50, PollInterval: minutes(5),
				Retention: report.Retention{TTLAfterFinished: "0s"}},
			{Namespace: ns, Name: "truework", Vendor: "truework", Ready: "True", Reason: "CredentialsValid",
				RateLimit:         report.RateLimit{RequestsPerSecond: 20, Burst: 40, MaxInFlight: 10},
				LimitsApplied:     report.LimitsApplied{Status: "False", Reason: "AccountLimitsDiffer", Message: heldToStricter},
				PollBudgetPercent: 50, Orders: 3, PollInterval: minutes(5), EffectivePollInterval: minutes(12), Stretched: true,
				Retention: report.Retention{Keep: true}, FinishedOrders: 1},
			{Namespace: ns, Name: "txcloud", Vendor: "txcloud", Ready: "True", Reason: "CredentialsValid",
				RateLimit: report.RateLimit{RequestsPerSecond: 1, Burst: 5, MaxInFlight: 10},
				LimitsApplied: report.LimitsApplied{Status: "True", Reason: "OwnLimits",
					Message: "Its vendor account is held to the limits this provider declares: 1 requests/s, burst 5."},
				PollBudgetPercent: 20, Orders: 1, PollInterval: minutes(1), EffectivePollInterval: minutes(1),
				Retention: report.Retention{TTLAfterFinished: "24h0m0s", PruneGitOpsManaged: true}, FinishedOrders: 2},
		},
		Orders: []report.OrderGroup{
			{Namespace: ns, Provider: "accountchek", Ready: "False", Reason: "ProviderNotReady", Count: 1},
			{Namespace: ns, Provider: "truework", Count: 1},
			{Namespace: ns, Provider: "truework", State: "active", Ready: "True", Reason: "Converged", Count: 2},
			{Namespace: ns, Provider: "truework", State: "completed", Ready: "False", Reason: "AlreadyTerminal", Count: 1},
			{Namespace: ns, Provider: "txcloud", State: "canceled", Ready: "True", Reason: "Converged", Count: 1},
			{Namespace: ns, Provider: "txcloud", State: "expired", Ready: "False", Reason: "AlreadyTerminal", Count: 1},
		},
		Stalls: []report.StallGroup{
			{Reason: "AlreadyTerminal", Count: 2, Orders: []string{ns + "/c", ns + "/g"}},
			{Reason: "ProviderNotReady", Count: 1, Orders: []string{ns + "/e"}},
		},
	}
	if diff := cmp.Diff(want, got); r.code != 0 || diff != "" {
		t.Errorf("status -o json: exit %d (-want +got):\n%s%s", r.code, diff, r.stderr)
	}
	sameData(t, r.stdout, plugin("status", "-n", ns, "-o", "yaml").stdout)

	// Nothing to report is empty lists, not nulls: `.items | length` works.
	if r := plugin("status", "-n", newNamespace(t, "empty"), "-o", "json"); !strings.Contains(r.stdout, `"providers": [],`) {
		t.Errorf("status -o json of an empty namespace:\n%s", r.stdout)
	}
}

// An unknown -o is refused before anything is asked of the API server:
// plan --refresh has not annotated the order.
func TestOutputFormatIsChecked(t *testing.T) {
	ns, o := orderBeingCanceled(t)
	for _, args := range [][]string{{"plan", "--refresh"}, {"status"}} {
		r := plugin(append(args, "-n", ns, "-o", "xml")...)
		if want := `error: unknown output format "xml": -o takes json, yaml` + "\n"; r.code != 1 || r.stdout != "" || r.stderr != want {
			t.Errorf("%s -o xml: exit %d, stdout %q, stderr %q, want %q", args[0], r.code, r.stdout, r.stderr, want)
		}
	}
	if value, ok := latest(t, o).Annotations[cluster.RefreshAnnotation]; ok {
		t.Errorf("plan --refresh -o xml refreshed the order (%s)", value)
	}
}
