package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

const (
	chartDir = "charts/verification-operator"
	// With this release name the chart names every object as config/default
	// does (the README's suggestion), which the parity specs rely on.
	releaseName = "verification-operator"
)

// helmBinary returns bin/helm, which `make test` builds before it runs the
// tests.
func helmBinary() string {
	GinkgoHelper()
	helm := filepath.Join(repoRoot, "bin", "helm")
	_, err := os.Stat(helm)
	Expect(err).NotTo(HaveOccurred(), "%s is missing: run `make helm` (the test target builds it)", helm)
	return helm
}

// helmArgs are the arguments of `helm <command>` (template, or install
// --dry-run) for the chart as release in namespace, with each of set
// passed as --set.
func helmArgs(command, release, namespace string, set ...string) []string {
	args := make([]string, 0, 5+2*len(set))
	args = append(args, command, release, filepath.Join(repoRoot, chartDir), "--namespace", namespace)
	for _, s := range set {
		args = append(args, "--set", s)
	}
	return args
}

// renderChart returns the documents `helm template` renders for the
// release releaseName in namespace with the given --set values.
func renderChart(namespace string, set ...string) []*unstructured.Unstructured {
	GinkgoHelper()
	return renderRelease(releaseName, namespace, set...)
}

// renderRelease is renderChart for another release name.
func renderRelease(release, namespace string, set ...string) []*unstructured.Unstructured {
	GinkgoHelper()
	return decodeDocs(run(repoRoot, helmBinary(), helmArgs("template", release, namespace, set...)...), "helm template "+chartDir)
}

// renderChartFails runs `helm template` with values it must refuse and
// returns what helm said.
func renderChartFails(set ...string) string {
	GinkgoHelper()
	out, err := runHelm(helmArgs("template", releaseName, "default", set...)...)
	Expect(err).To(HaveOccurred(), "helm template accepted %v:\n%s", set, out)
	return out
}

// runHelm runs bin/helm with args and returns its output, stdout and
// stderr, and whether it failed.
func runHelm(args ...string) (string, error) {
	GinkgoHelper()
	out, err := exec.Command(helmBinary(), args...).CombinedOutput()
	return string(out), err
}

// createRestrictedNamespace creates a namespace that enforces, warns about
// and audits the restricted Pod Security Standard, as config/manager's does
// and as the README asks of the chart's release namespace.
func createRestrictedNamespace(ctx context.Context, generateName string) string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: generateName, Labels: map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
		"pod-security.kubernetes.io/warn":            "restricted",
		"pod-security.kubernetes.io/audit":           "restricted",
	}}}
	Expect(admin.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// acceptedOnly expects the API server to accept every document of chart
// (server-side dry run) and returns the one of kind, as a T.
func acceptedOnly[T any](ctx context.Context, chart []*unstructured.Unstructured, kind string) *T {
	GinkgoHelper()
	expectDryRunAccepted(ctx, chart)
	docs := byKind(chart, kind)
	Expect(docs).To(HaveLen(1), "%s objects", kind)
	out := new(T)
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(docs[0].Object, out)).To(Succeed())
	return out
}

// find returns the document of the given kind and name (in any namespace)
// or nil.
func find(docs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, d := range byKind(docs, kind) {
		if d.GetName() == name {
			return d
		}
	}
	return nil
}

// field returns the value at path in u, or nil.
func field(u *unstructured.Unstructured, path ...string) any {
	v, _, _ := unstructured.NestedFieldNoCopy(u.Object, path...)
	return v
}
