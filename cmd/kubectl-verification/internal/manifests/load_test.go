package manifests

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

const order = `apiVersion: verification.ordersync.dev/v1alpha1
kind: VerificationOrder
metadata: {name: %s}
spec: {providerRef: {name: p}, orderID: a, state: canceled}
`

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b.yaml", "---\n# only a comment\n---\n"+strings.ReplaceAll(order, "%s", "b1")+"---\n"+
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\n---\n")
	write(t, dir, "a.yml", strings.ReplaceAll(order, "%s", "a1"))
	write(t, dir, "c.json", `{"apiVersion": "verification.ordersync.dev/v1alpha1", "kind": "VerificationProvider", "metadata": {"name": "p"}}`)
	write(t, dir, "README.md", "not a manifest")
	write(t, dir, "nested/d.yaml", strings.ReplaceAll(order, "%s", "nested"))
	write(t, dir, "e.yaml/f.yaml", strings.ReplaceAll(order, "%s", "nested-too")) // a directory, named as a file

	docs, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, 0, len(docs))
	for _, d := range docs {
		got = append(got, filepath.Base(d.Source)+" "+d.Describe()+" "+map[bool]string{true: "order", false: "other"}[d.IsVerificationOrder()])
	}
	want := []string{
		"a.yml VerificationOrder/a1 order",
		"b.yaml#1 VerificationOrder/b1 order",
		"b.yaml#2 ConfigMap/settings other",
		"c.json VerificationProvider/p other",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Load(dir):\n got %q\nwant %q", got, want)
	}
}

func TestLoadFile(t *testing.T) {
	path := write(t, t.TempDir(), "one.yaml", strings.ReplaceAll(order, "%s", "only"))
	docs, err := Load(path)
	if err != nil || len(docs) != 1 || docs[0].Source != path || docs[0].Object.GetName() != "only" {
		t.Fatalf("Load(file) = %v, %v", docs, err)
	}
	spec := docs[0].Object.Object["spec"].(map[string]any)
	if spec["state"] != "canceled" {
		t.Errorf("spec is kept as written: %v", spec)
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	for name, tc := range map[string]struct{ content, want string }{
		"not yaml":   {"kind: [unclosed", "document 1"},
		"no kind":    {"apiVersion: v1\nmetadata: {name: x}\n", "document 1 has no apiVersion or kind"},
		"second bad": {strings.ReplaceAll(order, "%s", "x") + "---\nkind: Thing\n", "document 2 has no apiVersion or kind"},
	} {
		path := write(t, dir, strings.ReplaceAll(name, " ", "-")+".yaml", tc.content)
		if _, err := Load(path); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", name, err, tc.want)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path loads without error")
	}
}

func TestRead(t *testing.T) {
	docs, err := Read(strings.NewReader(strings.ReplaceAll(order, "%s", "first")+"---\n"+strings.ReplaceAll(order, "%s", "second")), "stdin")
	if err != nil || len(docs) != 2 || docs[0].Source != "stdin#1" || docs[1].Object.GetName() != "second" {
		t.Fatalf("Read = %v, %v", docs, err)
	}
}
