package commands

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// manifestDir writes files (name → content) into a new directory.
func manifestDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func orderManifest(name, spec string) string {
	return "apiVersion: verification.ordersync.dev/v1alpha1\nkind: VerificationOrder\nmetadata: {name: " + name + "}\nspec: " + spec + "\n"
}

func TestPlanManifests(t *testing.T) {
	ns := newNamespace(t, "gitops")
	createProvider(t, ns, "truework", v1.VendorTruework)
	existing := createOrder(t, ns, "loan-4411-employment", "truework", "8f3c21d0", v1.DesiredActive)
	record(t, existing, observed("processing", "active"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is active at truework (processing)."))
	createOrder(t, ns, "loan-4418-employment", "truework", "tw-4418", v1.DesiredActive)
	notFound := createOrder(t, ns, "loan-4422-income", "truework", "tw-4422", v1.DesiredActive)
	record(t, notFound, stalled(v1.ReasonOrderNotFound, `truework has no order "tw-4422" visible to these credentials.`))

	dir := manifestDir(t, map[string]string{
		"a-orders.yaml": orderManifest("loan-4411-employment", "{providerRef: {name: truework}, orderID: 8f3c21d0, state: canceled}") +
			"---\n" + orderManifest("loan-4420-income", "{providerRef: {name: truework}, orderID: tw-4420, state: canceled}") +
			"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: lending-settings}\n",
		"b-bogus.yaml":     orderManifest("loan-4419-income", "{providerRef: {name: truework}, orderID: tw-4419, state: bogus}"),
		"c-immutable.yaml": orderManifest("loan-4418-employment", "{providerRef: {name: truework}, orderID: tw-OTHER, state: active}"),
		"d-closed.yaml":    orderManifest("loan-4421-income", "{providerRef: {name: truework}, orderID: tw-4421, state: closed}"),
		"e-not-found.yaml": orderManifest("loan-4422-income", "{providerRef: {name: truework}, orderID: tw-4422, state: canceled}"),
	})
	r := plugin("plan", "-n", ns, "-f", dir)
	t.Logf("plan -f:\n%s%s", r.stdout, r.stderr)

	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	wantPrefixes := []string{
		"+ " + ns + "/loan-4420-income: create (truework order tw-4420, wants canceled)",
		"+ " + ns + "/loan-4421-income: create (truework order tw-4421, wants closed); then Stalled UnsupportedState: truework does not support state: closed.",
		"~ " + ns + "/loan-4411-employment: cancel (truework order 8f3c21d0, observed processing (active))",
		"! " + ns + "/loan-4422-income: Stalled OrderNotFound: truework has no order \"tw-4422\" visible to these credentials.",
		"x " + ns + "/loan-4418-employment: invalid: " + filepath.Join(dir, "c-immutable.yaml") + ": ",
		"x " + ns + "/loan-4419-income: invalid: " + filepath.Join(dir, "b-bogus.yaml") + ": ",
		"",
		"Plan: 1 to cancel, 0 to close, 0 to reverify, 1 blocked, 2 to create, 2 invalid, 0 unchanged.",
	}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("plan -f: exit %d, %d lines, want %d:\n%s%s", r.code, len(lines), len(wantPrefixes), r.stdout, r.stderr)
	}
	for i, want := range wantPrefixes {
		if !strings.HasPrefix(lines[i], want) {
			t.Errorf("line %d:\n got %q\nwant %q...", i+1, lines[i], want)
		}
	}
	// The API server's own words, naming the field.
	for line, fragments := range map[int][]string{
		4: {"spec.orderID", "spec.orderID is immutable once set"},
		5: {"spec.state", `Unsupported value: "bogus"`},
	} {
		for _, f := range fragments {
			if !strings.Contains(lines[line], f) {
				t.Errorf("line %d does not say %q: %s", line+1, f, lines[line])
			}
		}
	}
	if r.code != 1 {
		t.Errorf("invalid manifests: exit %d, want 1", r.code)
	}
	note := "note: " + filepath.Join(dir, "a-orders.yaml") + "#3: skipping ConfigMap/lending-settings: only VerificationOrders are planned\n"
	if r.stderr != note {
		t.Errorf("stderr %q, want %q", r.stderr, note)
	}

	// A dry run stores nothing.
	err := k8s.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "loan-4420-income"}, &v1.VerificationOrder{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("the new order was created: %v", err)
	}
	if got := latest(t, existing).Spec.State; got != v1.DesiredActive {
		t.Errorf("the existing order's state was changed to %s", got)
	}
}

func TestPlanManifestExitCodes(t *testing.T) {
	ns := newNamespace(t, "gitops")
	createProvider(t, ns, "truework", v1.VendorTruework)
	o := createOrder(t, ns, "loan-1", "truework", "tw-1", v1.DesiredCanceled)
	record(t, o, observed("canceled", "canceled"), ready(metav1.ConditionTrue, v1.ReasonConverged, "The order is canceled at truework."))
	unchanged := manifestDir(t, map[string]string{"o.yaml": orderManifest("loan-1", "{providerRef: {name: truework}, orderID: tw-1, state: canceled}")})
	created := manifestDir(t, map[string]string{"o.yaml": orderManifest("loan-2", "{providerRef: {name: truework}, orderID: tw-2}")})

	for _, tc := range []struct {
		path, want string
		code       int
	}{
		{unchanged, "Plan: 0 to cancel, 0 to close, 0 to reverify, 0 blocked, 1 unchanged.", 0},
		{filepath.Join(created, "o.yaml"), "+ " + ns + "/loan-2: create (truework order tw-2, wants active)", 2},
	} {
		r := plugin("plan", "-n", ns, "-f", tc.path, "--detailed-exitcode")
		if r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("plan -f %s --detailed-exitcode: exit %d (want %d)\n%s%s", tc.path, r.code, tc.code, r.stdout, r.stderr)
		}
	}
	stdin := orderManifest("loan-1", "{providerRef: {name: truework}, orderID: tw-1, state: canceled}") + "---\n" +
		orderManifest("loan-3", "{providerRef: {name: truework}, orderID: tw-3, state: closed}")
	r := pluginWithInput(stdin, "plan", "-n", ns, "-f", "-")
	want := "+ " + ns + "/loan-3: create (truework order tw-3, wants closed); then Stalled UnsupportedState: truework does not support state: closed."
	if r.code != 0 || !strings.HasPrefix(r.stdout, want) || !strings.Contains(r.stdout, "1 to create, 1 unchanged.") {
		t.Errorf("plan -f - (stdin): exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := plugin("plan", "-n", ns, "-f", unchanged, "--refresh"); r.code != 1 || !strings.Contains(r.stderr, "-f plans the manifests given") {
		t.Errorf("-f with --refresh: exit %d, stderr %q", r.code, r.stderr)
	}
}
