package deploy

import (
	"os"
	"path/filepath"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// The chart must install what config/default installs: the same objects
// under the same names, the CRDs and RBAC rules controller-gen generates,
// and the same manager pod. These specs compare its default render with
// kustomize's, so that a change to config/ that the chart misses fails here.
// Nothing is persisted but namespaces, so they run in any order with the
// installer's specs.
var _ = Describe("The Helm chart (charts/verification-operator) with its default values", Ordered, ContinueOnFailure, func() {
	var (
		releaseNS string
		installer []*unstructured.Unstructured
		chart     []*unstructured.Unstructured
	)

	BeforeAll(func(ctx SpecContext) {
		releaseNS = createRestrictedNamespace(ctx, "helm-release-")
		installer = renderInstaller(defaultInstIMG)
		// config/default ships the webhook receiver; the chart's is opt-in
		// (webhook.enabled, false by default), so it is turned on to compare.
		chart = renderChart(releaseNS, "webhook.enabled=true")
	})

	It("is accepted by the API server with server-side dry run, and its pod by restricted Pod Security", func(ctx SpecContext) {
		expectDryRunAccepted(ctx, chart)
		expectRestrictedPodAdmitted(ctx, deploymentOf(chart))
		for _, d := range chart {
			if namespaced := d.GetNamespace() != ""; namespaced {
				Expect(d.GetNamespace()).To(Equal(releaseNS), describe(d))
			}
		}
	})

	It("installs every object config/default installs, under the same name, but the namespace", func() {
		kindNames := func(docs []*unstructured.Unstructured) []string {
			var out []string
			for _, d := range docs {
				if d.GetKind() != "Namespace" {
					out = append(out, d.GetKind()+" "+d.GetName())
				}
			}
			return out
		}
		Expect(kindNames(chart)).To(ConsistOf(kindNames(installer)))
		Expect(byKind(chart, "Namespace")).To(BeEmpty(), "Helm's convention: the release namespace is the user's (--create-namespace)")
	})

	It("carries current copies of the CRDs, roles, alerts and dashboard config/ holds (else run `make helm-manifests`)", func() {
		expectSameFiles(filepath.Join(chartDir, "files", "crds"), "config/crd/bases", "*.yaml")
		expectSameFiles(filepath.Join(chartDir, "files", "rbac"), "config/rbac", "*role.yaml")
		expectSameFiles(filepath.Join(chartDir, "files", "prometheus"), "config/prometheus", "rules.yaml")
		expectSameFiles(filepath.Join(chartDir, "files", "grafana"), "config/grafana", "*.json")
	})

	It("installs config/crd's CRDs, annotated so that Helm, Argo CD and Flux never delete them", func() {
		crds := byKind(installer, "CustomResourceDefinition")
		Expect(byKind(chart, "CustomResourceDefinition")).To(HaveLen(len(crds)))
		for _, want := range crds {
			got := find(chart, want.GetKind(), want.GetName())
			Expect(got).NotTo(BeNil(), "the chart has no CRD %s", want.GetName())
			Expect(got.Object["spec"]).To(Equal(want.Object["spec"]), "CRD %s: spec differs from config/crd/bases", want.GetName())
			Expect(got.GetAnnotations()).To(Equal(want.GetAnnotations()), "CRD %s", want.GetName())
			Expect(got.GetAnnotations()).To(HaveKeyWithValue("helm.sh/resource-policy", "keep"))
		}
	})

	It("grants exactly config/rbac's rules, to its own ServiceAccount", func() {
		for _, kind := range []string{"ClusterRole", "Role"} {
			for _, want := range byKind(installer, kind) {
				got := find(chart, kind, want.GetName())
				Expect(got).NotTo(BeNil(), "the chart has no %s", describe(want))
				Expect(got.Object["rules"]).To(Equal(want.Object["rules"]), "rules of %s", describe(want))
				for k, v := range want.GetLabels() {
					if strings.HasPrefix(k, "rbac.authorization.k8s.io/aggregate-to-") {
						Expect(got.GetLabels()).To(HaveKeyWithValue(k, v), describe(want))
					}
				}
			}
		}
		subject := []any{map[string]any{"kind": "ServiceAccount", "name": managerSA, "namespace": releaseNS}}
		for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
			for _, want := range byKind(installer, kind) {
				got := find(chart, kind, want.GetName())
				Expect(got).NotTo(BeNil(), "the chart has no %s", describe(want))
				Expect(got.Object["roleRef"]).To(Equal(want.Object["roleRef"]), describe(want))
				Expect(got.Object["subjects"]).To(Equal(subject), describe(want))
			}
		}
	})

	It("runs config/manager's pod: security contexts, probes, grace period, ports, resources and args", func() {
		want, got := deploymentOf(installer), deploymentOf(chart)
		Expect(got.Spec.Replicas).To(Equal(want.Spec.Replicas))
		Expect(got.Spec.Template.Annotations).To(Equal(want.Spec.Template.Annotations))
		wantPod, gotPod := want.Spec.Template.Spec, got.Spec.Template.Spec
		Expect(gotPod.SecurityContext).To(Equal(wantPod.SecurityContext))
		Expect(gotPod.TerminationGracePeriodSeconds).To(Equal(wantPod.TerminationGracePeriodSeconds))
		Expect(gotPod.ServiceAccountName).To(Equal(wantPod.ServiceAccountName))
		Expect(gotPod.Containers).To(HaveLen(len(wantPod.Containers)))
		w, g := wantPod.Containers[0], gotPod.Containers[0]
		Expect(g.Name).To(Equal(w.Name))
		Expect(g.Image).To(Equal(w.Image), "the chart's default image is the Makefile's IMG")
		Expect(g.Command).To(Equal(w.Command))
		Expect(g.Ports).To(Equal(w.Ports))
		Expect(g.Env).To(Equal(w.Env))
		Expect(g.SecurityContext).To(Equal(w.SecurityContext))
		Expect(g.LivenessProbe).To(Equal(w.LivenessProbe))
		Expect(g.ReadinessProbe).To(Equal(w.ReadinessProbe))
		Expect(g.Resources).To(Equal(w.Resources))
		// config/manager's args, and the defaults of the chart's values.
		Expect(g.Args).To(ConsistOf(slices.Concat(w.Args, []string{"--workers=8", "--zap-log-level=info"})))
	})

	It("puts the metrics and webhook ports behind Services like config/default's, and lets in only them", func() {
		want := byKind(installer, "Service")
		Expect(want).To(HaveLen(2))
		for _, w := range want {
			got := find(chart, "Service", w.GetName())
			Expect(got).NotTo(BeNil(), "the chart has no %s", describe(w))
			Expect(field(got, "spec", "ports")).To(Equal(field(w, "spec", "ports")))
			selector, ok := field(got, "spec", "selector").(map[string]any)
			Expect(ok).To(BeTrue())
			for k, v := range field(w, "spec", "selector").(map[string]any) {
				Expect(selector).To(HaveKeyWithValue(k, v))
			}
		}
		Expect(deploymentOf(chart).Spec.Template.Labels).To(HaveKeyWithValue("app.kubernetes.io/instance", releaseName),
			"the Services select this release's pods only")
		policies := byKind(installer, "NetworkPolicy")
		Expect(policies).To(HaveLen(1))
		got := find(chart, "NetworkPolicy", policies[0].GetName())
		Expect(got).NotTo(BeNil())
		Expect(field(got, "spec", "ingress")).To(Equal(field(policies[0], "spec", "ingress")))
		Expect(field(got, "spec", "policyTypes")).To(Equal(field(policies[0], "spec", "policyTypes")))
	})
})

// expectSameFiles expects the files matching pattern in the chart's dir and
// in config's to be the same, byte for byte (paths relative to the repo).
func expectSameFiles(chart, config, pattern string) {
	GinkgoHelper()
	names := func(dir string) []string {
		paths, err := filepath.Glob(filepath.Join(repoRoot, dir, pattern))
		Expect(err).NotTo(HaveOccurred())
		out := make([]string, 0, len(paths))
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	want := names(config)
	Expect(want).NotTo(BeEmpty(), "nothing matches %s in %s", pattern, config)
	Expect(names(chart)).To(ConsistOf(want), "%s is stale: run `make helm-manifests`", chart)
	for _, name := range want {
		w, err := os.ReadFile(filepath.Join(repoRoot, config, name))
		Expect(err).NotTo(HaveOccurred())
		g, err := os.ReadFile(filepath.Join(repoRoot, chart, name))
		Expect(err).NotTo(HaveOccurred())
		Expect(string(g)).To(Equal(string(w)), "%s/%s differs from %s/%s: run `make helm-manifests`", chart, name, config, name)
	}
}
