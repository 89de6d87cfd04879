package deploy

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	structuralschema "k8s.io/apiextensions-apiserver/pkg/apiserver/schema"
	schemacel "k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel"
	"k8s.io/apiextensions-apiserver/pkg/apiserver/schema/cel/model"
	"k8s.io/apimachinery/pkg/util/version"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	apiservercel "k8s.io/apiserver/pkg/cel"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"
)

// The fields of x-kubernetes-validations and of a CRD version, and the
// Kubernetes minor version whose API server first knows them (enabled by
// default). An older API server drops a field it does not know: the rule
// would then fail without its path or reason, or not run at all.
var crdFeatureSince = map[string]int{
	"x-kubernetes-validations": 25, // CustomResourceValidationExpressions, beta
	"messageExpression":        27,
	"fieldPath":                28,
	"reason":                   28,
	"optionalOldSelf":          30, // CRDValidationRatcheting, beta
	"selectableFields":         31, // CustomResourceFieldSelectors, beta
}

// Chart.yaml's kubeVersion is the oldest Kubernetes whose API server runs
// the CRDs' validation as written: it knows every field of their rules, and
// its CEL (the environment the API server compiles new expressions in at
// that version) compiles every rule.
var _ = Describe("The Helm chart's kubeVersion", func() {
	var minMinor int

	BeforeEach(func() {
		data, err := os.ReadFile(filepath.Join(repoRoot, chartDir, "Chart.yaml"))
		Expect(err).NotTo(HaveOccurred())
		var chart struct {
			KubeVersion string `json:"kubeVersion"`
		}
		Expect(yaml.Unmarshal(data, &chart)).To(Succeed())
		m := regexp.MustCompile(`^>=\s*v?1\.(\d+)\.0-0$`).FindStringSubmatch(chart.KubeVersion)
		Expect(m).NotTo(BeNil(), "kubeVersion %q: want >=1.N.0-0 (the -0 admits providers' versions such as v1.30.4-eks-1)", chart.KubeVersion)
		minMinor, err = strconv.Atoi(m[1])
		Expect(err).NotTo(HaveOccurred())
	})

	It("is refused by helm below it, for providers' versions too", func() {
		below := fmt.Sprintf("1.%d.99", minMinor-1)
		out, err := runHelm(append(helmArgs("template", releaseName, "default"), "--kube-version", below)...)
		Expect(err).To(HaveOccurred(), "helm rendered for Kubernetes %s:\n%s", below, out)
		Expect(out).To(ContainSubstring("chart requires kubeVersion"))
		out, err = runHelm(append(helmArgs("template", releaseName, "default"), "--kube-version", fmt.Sprintf("v1.%d.3-eks-4f4795d", minMinor))...)
		Expect(err).NotTo(HaveOccurred(), out)
	})

	It("is new enough for every field the CRDs' validation rules use, and its CEL compiles them all", func() {
		envSet := environment.MustBaseEnvSet(version.MajorMinor(1, uint(minMinor)))
		rules := 0
		for _, crd := range configCRDs() {
			for _, v := range crd.Spec.Versions {
				if len(v.SelectableFields) > 0 {
					Expect(minMinor).To(BeNumerically(">=", crdFeatureSince["selectableFields"]), "%s %s: selectableFields", crd.Name, v.Name)
				}
				internal := &apiextensions.JSONSchemaProps{}
				Expect(apiextensionsv1.Convert_v1_JSONSchemaProps_To_apiextensions_JSONSchemaProps(v.Schema.OpenAPIV3Schema, internal, nil)).To(Succeed())
				s, err := structuralschema.NewStructural(internal)
				Expect(err).NotTo(HaveOccurred())
				rules += compileRules(envSet, minMinor, crd.Name+"/"+v.Name, s, model.SchemaDeclType(s, true))
			}
		}
		Expect(rules).To(BeNumerically(">", 0), "control: the CRDs have validation rules")
	})
})

// compileRules checks and compiles the validation rules of s and of every
// schema below it, as the API server does for a new CRD, and returns how
// many there were.
func compileRules(envSet *environment.EnvSet, minMinor int, path string, s *structuralschema.Structural, declType *apiservercel.DeclType) int {
	GinkgoHelper()
	n := len(s.XValidations)
	if n > 0 {
		for _, r := range s.XValidations {
			used := []string{"x-kubernetes-validations"}
			if r.MessageExpression != "" {
				used = append(used, "messageExpression")
			}
			if r.FieldPath != "" {
				used = append(used, "fieldPath")
			}
			if r.Reason != nil {
				used = append(used, "reason")
			}
			if r.OptionalOldSelf != nil {
				used = append(used, "optionalOldSelf")
			}
			for _, field := range used {
				Expect(minMinor).To(BeNumerically(">=", crdFeatureSince[field]),
					"%s: rule %q uses %s, which API servers know from 1.%d", path, r.Rule, field, crdFeatureSince[field])
			}
		}
		Expect(declType).NotTo(BeNil(), "%s: no CEL type", path)
		results, err := schemacel.Compile(s, declType, celconfig.PerCallLimit, envSet, schemacel.NewExpressionsEnvLoader())
		Expect(err).NotTo(HaveOccurred(), path)
		for i, r := range results {
			Expect(r.Error).NotTo(HaveOccurred(), "%s: rule %q does not compile for Kubernetes 1.%d", path, s.XValidations[i].Rule, minMinor)
			Expect(r.MessageExpressionError).NotTo(HaveOccurred(), "%s: messageExpression of rule %q", path, s.XValidations[i].Rule)
		}
	}
	if declType == nil {
		return n
	}
	for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
		child := s.Properties[name]
		escaped, ok := apiservercel.Escape(name)
		if !ok {
			continue
		}
		if field, ok := declType.Fields[escaped]; ok {
			n += compileRules(envSet, minMinor, path+"."+name, &child, field.Type)
		}
	}
	if s.Items != nil {
		n += compileRules(envSet, minMinor, path+"[]", s.Items, declType.ElemType)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Structural != nil {
		n += compileRules(envSet, minMinor, path+"{}", s.AdditionalProperties.Structural, declType.ElemType)
	}
	return n
}

// configCRDs returns the CRDs controller-gen writes to config/crd/bases.
func configCRDs() []*apiextensionsv1.CustomResourceDefinition {
	GinkgoHelper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "config", "crd", "bases", "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	Expect(paths).NotTo(BeEmpty())
	crds := make([]*apiextensionsv1.CustomResourceDefinition, 0, len(paths))
	for _, p := range paths {
		data, err := os.ReadFile(p)
		Expect(err).NotTo(HaveOccurred())
		crd := &apiextensionsv1.CustomResourceDefinition{}
		Expect(yaml.UnmarshalStrict(data, crd)).To(Succeed(), p)
		crds = append(crds, crd)
	}
	return crds
}
