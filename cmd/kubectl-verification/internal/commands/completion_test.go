package commands

import (
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// completions asks the plugin what the shell should suggest for the last
// of args, as a shell (or kubectl, through kubectl_complete-verification)
// does: the suggestions, and cobra's directive (":4", no file names).
func completions(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	r := plugin(append([]string{"__complete"}, args...)...)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if r.code != 0 || len(lines) == 0 || !strings.HasPrefix(lines[len(lines)-1], ":") {
		t.Fatalf("__complete %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return lines[:len(lines)-1], lines[len(lines)-1]
}

func TestCompletion(t *testing.T) {
	ns, other := newNamespace(t, "complete"), newNamespace(t, "complete")
	createProvider(t, ns, "truework", v1.VendorTruework)
	createProvider(t, ns, "accountchek", v1.VendorAccountChek)
	// A name no other test's providers have, for -A.
	createProvider(t, other, "truv-completed", v1.VendorTruv)
	createOrder(t, ns, "loan-1", "truework", "tw-1", v1.DesiredCanceled)
	createOrder(t, ns, "loan-2", "truework", "tw-2", v1.DesiredCanceled, labeled(map[string]string{"team": "a"}))
	createOrder(t, ns, "assets-1", "accountchek", "ac-1", v1.DesiredClosed)
	createOrder(t, other, "loan-9", "truv-completed", "tv-9", v1.DesiredCanceled)

	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"plan", "-n", ns, ""}, []string{"assets-1", "loan-1", "loan-2"}},
		{[]string{"plan", "-n", ns, "lo"}, []string{"loan-1", "loan-2"}},
		{[]string{"plan", "-n", ns, "loan-1", ""}, []string{"assets-1", "loan-2"}},
		{[]string{"plan", "-n", ns, "--provider", "accountchek", ""}, []string{"assets-1"}},
		{[]string{"plan", "-n", ns, "-l", "team=a", ""}, []string{"loan-2"}},
		{[]string{"plan", "-n", other, ""}, []string{"loan-9"}},
		{[]string{"refresh", "--namespace", ns, "loan-"}, []string{"loan-1", "loan-2"}},
		// Names need one namespace; -f takes none.
		{[]string{"plan", "-A", ""}, nil},
		{[]string{"plan", "-n", ns, "-f", "manifests/", ""}, nil},
		{[]string{"status", "-n", ns, "--provider", ""}, []string{"accountchek", "truework"}},
		{[]string{"plan", "-A", "--provider", "truv-c"}, []string{"truv-completed"}},
		{[]string{"plan", "-n", other, "--provider", "tr"}, []string{"truv-completed"}},
		{[]string{"plan", "-o", ""}, []string{"json", "yaml"}},
	} {
		got, directive := completions(t, tc.args...)
		if !slices.Equal(got, tc.want) || directive != ":4" {
			t.Errorf("__complete %s: %q %s, want %q :4", strings.Join(tc.args, " "), got, directive, tc.want)
		}
	}
}

func TestCompletionOfNamespaces(t *testing.T) {
	ns := newNamespace(t, "complete-ns")
	got, directive := completions(t, "plan", "-n", "")
	if !slices.Contains(got, ns) || !slices.Contains(got, metav1.NamespaceDefault) || directive != ":4" {
		t.Errorf("__complete plan -n '': %q %s, want every namespace, %s among them", got, directive, ns)
	}
	got, _ = completions(t, "status", "--namespace", "complete-n")
	if !slices.Contains(got, ns) || slices.ContainsFunc(got, func(s string) bool { return !strings.HasPrefix(s, "complete-n") }) {
		t.Errorf("__complete status --namespace complete-n: %q", got)
	}
}

// An API server that cannot be reached suggests nothing, and not file
// names either.
func TestCompletionWithoutACluster(t *testing.T) {
	for _, args := range [][]string{{"plan", "-n", "x", ""}, {"plan", "-n", ""}} {
		got, directive := completions(t, append([]string{"--server", "https://127.0.0.1:1"}, args...)...)
		if len(got) > 0 || directive != ":4" {
			t.Errorf("__complete %s with no API server: %q %s, want nothing, :4", strings.Join(args, " "), got, directive)
		}
	}
}

// The default completion command writes a script for the plugin's name.
func TestCompletionScript(t *testing.T) {
	r := plugin("completion", "bash")
	if r.code != 0 || !strings.Contains(r.stdout, "__start_kubectl-verification") {
		t.Errorf("completion bash: exit %d\n%.300s%s", r.code, r.stdout, r.stderr)
	}
}
