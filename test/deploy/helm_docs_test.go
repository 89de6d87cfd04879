package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
)

// Deleting the CRDs deliberately must delete every one of them while the
// manager runs: a CRD left behind keeps its objects, and the manager's
// finalizers wait on them. The commands that say how are NOTES.txt's (what
// `helm install` prints) and the README's.
var _ = Describe("The Helm chart's CRD deletion commands", func() {
	var crds []string

	BeforeEach(func() {
		crds = crdField(func(crd *apiextensionsv1.CustomResourceDefinition) string { return crd.Name })
	})

	deleteCommands := func(text string) [][]string {
		matches := regexp.MustCompile(`(?m)^\s*kubectl delete crd ([^\n]+)$`).FindAllStringSubmatch(text, -1)
		out := make([][]string, 0, len(matches))
		for _, m := range matches {
			out = append(out, strings.Fields(m[1]))
		}
		return out
	}

	It("delete every CRD in the notes helm install prints", func() {
		out, err := runHelm(append(helmArgs("install", releaseName, "default"), "--dry-run=client")...)
		Expect(err).NotTo(HaveOccurred(), out)
		_, notes, found := strings.Cut(out, "\nNOTES:\n")
		Expect(found).To(BeTrue(), "helm install printed no NOTES:\n%s", out)
		commands := deleteCommands(notes)
		Expect(commands).To(HaveLen(1), "NOTES:\n%s", notes)
		Expect(commands[0]).To(ConsistOf(crds))
		Expect(notes).To(ContainSubstring("kubectl get "+strings.Join(crdField(func(crd *apiextensionsv1.CustomResourceDefinition) string { return crd.Spec.Names.Plural }), ",")+" -A"), "the notes list every kind")
	})

	It("delete every CRD in the README's Helm section", func() {
		readme, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
		Expect(err).NotTo(HaveOccurred())
		_, helm, found := strings.Cut(string(readme), "### Install with Helm")
		Expect(found).To(BeTrue(), "README.md has no section \"Install with Helm\"")
		helm, _, _ = strings.Cut(helm, "\n### ")
		commands := deleteCommands(helm)
		Expect(commands).NotTo(BeEmpty())
		for _, c := range commands {
			Expect(c).To(ConsistOf(crds))
		}
	})
})

// crdField returns a field of each CRD of config/crd/bases, in the order
// of their files.
func crdField(of func(*apiextensionsv1.CustomResourceDefinition) string) []string {
	GinkgoHelper()
	crds := configCRDs()
	out := make([]string, 0, len(crds))
	for _, crd := range crds {
		out = append(out, of(crd))
	}
	return out
}
