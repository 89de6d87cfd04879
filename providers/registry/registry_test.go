package registry_test

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/registry"
	"github.com/ordersync/verification-operator/providers/simulators"
)

var repoRoot = filepath.Join("..", "..")

// TestEveryVendorIsComplete fails for a vendor built into the operator that
// lacks what docs/adding-a-vendor.md lists beyond its client: a simulator
// with a chaos play, its state words and credential shapes, a sample
// provider and order in config/samples/, and a section in docs/vendors.md.
func TestEveryVendorIsComplete(t *testing.T) {
	samples := sampleOrdersByVendor(t)
	sections := vendorSections(t)
	reg := registry.Default()
	for _, name := range reg.Names() {
		t.Run(name, func(t *testing.T) {
			v := reg[name]
			if entry, ok := simulators.Lookup(name); !ok {
				t.Error("no simulator in providers/simulators.All")
			} else if entry.Chaos.Share <= 0 || len(entry.Chaos.Plays) == 0 {
				t.Errorf("no chaos play: its simulator Entry's Chaos is %+v", entry.Chaos)
			}
			if len(v.States) == 0 {
				t.Error("no States: the chaos suite reads the vendor's end states from them")
			}
			if len(v.CredentialShapes) == 0 {
				t.Error("no CredentialShapes: Sanitize would not redact the vendor's credentials by shape")
			}
			if len(v.IdentityKeys) == 0 {
				t.Error("no IdentityKeys: every key of the Secret would name the account, so a webhook secret would split its budget")
			}
			for _, k := range v.IdentityKeys {
				if !slices.Contains(v.CredentialKeys, k) {
					t.Errorf("IdentityKeys names %q, which is not among CredentialKeys %v", k, v.CredentialKeys)
				}
			}
			if samples[name] == 0 {
				t.Errorf("no sample in config/samples/: a VerificationProvider with spec.vendor %s and a VerificationOrder using it, listed in kustomization.yaml", name)
			}
			if !sections[name] {
				t.Errorf("no section in docs/vendors.md: a heading \"## <the vendor's name>\"")
			}
		})
	}
}

// TestSanitizeRedactsEveryVendorsCredentials holds each vendor's
// CredentialShapes to the credentials its simulator accepts: at least one
// must be matched, whole, in one of the forms a message could show it in,
// and Sanitize must then redact it whole.
func TestSanitizeRedactsEveryVendorsCredentials(t *testing.T) {
	reg := registry.Default() // hands the shapes to Sanitize
	for _, entry := range simulators.All() {
		v, err := reg.Get(entry.Name)
		if err != nil {
			t.Fatal(err)
		}
		matched := 0
		for key, value := range entry.Credentials {
			for _, form := range []string{value, "password '" + value + "'"} {
				if !matchesWhole(v.CredentialShapes, form) {
					continue
				}
				matched++
				if got := providers.Sanitize("refused " + form + " here"); got != "refused [redacted] here" {
					t.Errorf("%s credential %s: Sanitize(%q) = %q", entry.Name, key, form, got)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s: none of its CredentialShapes matches a credential its simulator accepts", entry.Name)
		}
	}
}

func matchesWhole(shapes []*regexp.Regexp, s string) bool {
	for _, shape := range shapes {
		if shape.FindString(s) == s {
			return true
		}
	}
	return false
}

// sampleOrdersByVendor counts, per vendor, the sample VerificationOrders
// of config/samples/kustomization.yaml whose provider is a sample
// VerificationProvider of that vendor.
func sampleOrdersByVendor(t *testing.T) map[string]int {
	t.Helper()
	dir := filepath.Join(repoRoot, "config", "samples")
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var kustomization struct{ Resources []string }
	if err := yaml.Unmarshal(data, &kustomization); err != nil {
		t.Fatalf("kustomization.yaml: %v", err)
	}
	// Only what tells a sample's vendor.
	type sample struct {
		Kind     string
		Metadata struct{ Name string }
		Spec     struct {
			Vendor      string
			ProviderRef struct{ Name string }
		}
	}
	vendorOf := map[string]string{} // provider name → vendor
	var orders []sample
	for _, resource := range kustomization.Resources {
		data, err := os.ReadFile(filepath.Join(dir, resource))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range strings.Split(string(data), "\n---") {
			var s sample
			if err := yaml.Unmarshal([]byte(doc), &s); err != nil {
				t.Fatalf("%s: %v", resource, err)
			}
			switch s.Kind {
			case "VerificationProvider":
				vendorOf[s.Metadata.Name] = s.Spec.Vendor
			case "VerificationOrder":
				orders = append(orders, s)
			}
		}
	}
	counts := map[string]int{}
	for _, o := range orders {
		if vendor, ok := vendorOf[o.Spec.ProviderRef.Name]; ok {
			counts[vendor]++
		}
	}
	return counts
}

// vendorSections are the vendors docs/vendors.md has a "## " section for,
// by the heading written as spec.vendor is ("AccountChek" is accountchek).
func vendorSections(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open(filepath.Join(repoRoot, "docs", "vendors.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sections := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if heading, ok := strings.CutPrefix(sc.Text(), "## "); ok {
			sections[strings.ToLower(strings.ReplaceAll(heading, " ", ""))] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return sections
}
