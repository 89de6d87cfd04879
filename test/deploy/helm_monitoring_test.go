package deploy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// What the chart's monitoring values install: the ServiceMonitor with the
// credentials it sends, the alerts and the dashboard, checked against
// config/prometheus and config/grafana, which test/monitoring tests on
// Prometheus's own engine. The test API server has no Prometheus Operator
// CRDs: ServiceMonitors and PrometheusRules are checked here, everything
// else by the API server.
var _ = Describe("The Helm chart's monitoring", func() {
	monitoringKinds := []string{"ServiceMonitor", "PrometheusRule"}
	withoutKinds := func(docs []*unstructured.Unstructured, kinds ...string) []*unstructured.Unstructured {
		var out []*unstructured.Unstructured
		for _, d := range docs {
			if !strings.Contains(" "+strings.Join(kinds, " ")+" ", " "+d.GetKind()+" ") {
				out = append(out, d)
			}
		}
		return out
	}

	It("installs what config/prometheus does, under the same names, for the release verification-operator", func() {
		chart := renderRelease(releaseName, operatorNS, "metrics.serviceMonitor.enabled=true", "metrics.prometheusRule.enabled=true")
		kustomized := render("prometheus", defaultInstIMG)
		Expect(kustomized).To(HaveLen(5), "config/prometheus: a ServiceMonitor, its scraper's ServiceAccount, token Secret and binding, and the alerts")
		for _, want := range kustomized {
			got := findIn(chart, want.GetKind(), want.GetNamespace(), want.GetName())
			Expect(got).NotTo(BeNil(), "the chart has no %s", describe(want))
			switch want.GetKind() {
			case "PrometheusRule":
				Expect(got.Object["spec"]).To(Equal(want.Object["spec"]), "the alerts differ from config/prometheus/rules.yaml")
			case "ServiceMonitor":
				Expect(field(got, "spec", "endpoints")).To(Equal(field(want, "spec", "endpoints")))
				selector, _ := field(got, "spec", "selector", "matchLabels").(map[string]any)
				for k, v := range field(want, "spec", "selector", "matchLabels").(map[string]any) {
					Expect(selector).To(HaveKeyWithValue(k, v))
				}
			case "Secret":
				Expect(got.Object["type"]).To(Equal(want.Object["type"]))
				Expect(got.GetAnnotations()).To(Equal(want.GetAnnotations()))
			case "ServiceAccount":
				Expect(got.Object["automountServiceAccountToken"]).To(Equal(want.Object["automountServiceAccountToken"]))
			case "ClusterRoleBinding":
				Expect(got.Object["roleRef"]).To(Equal(want.Object["roleRef"]))
				Expect(got.Object["subjects"]).To(Equal(want.Object["subjects"]))
			default:
				Fail("config/prometheus has a " + want.GetKind() + " this spec does not compare")
			}
		}
	})

	It("has the alerts select this release's metrics Service, and name its namespace and ClusterRole", func() {
		config := render("prometheus", defaultInstIMG)
		rules := byKind(config, "PrometheusRule")
		Expect(rules).To(HaveLen(1))
		configSpec, err := json.Marshal(rules[0].Object["spec"])
		Expect(err).NotTo(HaveOccurred())

		// The second release name holds config/default's namespace, which
		// the chart must not replace inside the names it has put in.
		for _, release := range []string{"ops", "verification-operator-system"} {
			namespace := "monitoring-" + release
			chart := renderRelease(release, namespace, "metrics.prometheusRule.enabled=true")
			var metricsService, reader string
			for _, s := range byKind(chart, "Service") {
				if strings.HasSuffix(s.GetName(), "metrics-service") {
					metricsService = s.GetName()
				}
			}
			for _, r := range byKind(chart, "ClusterRole") {
				if strings.HasSuffix(r.GetName(), "metrics-reader") {
					reader = r.GetName()
				}
			}
			Expect(metricsService).To(HavePrefix(release + "-"))
			Expect(reader).To(HavePrefix(release + "-"))

			got := byKind(chart, "PrometheusRule")
			Expect(got).To(HaveLen(1))
			Expect(got[0].GetNamespace()).To(Equal(namespace))
			// config/prometheus/rules.yaml with config/default's names
			// replaced by the release's, and nothing else changed.
			var want any
			Expect(json.Unmarshal([]byte(strings.NewReplacer(
				managerDeploy+"-metrics-service", metricsService,
				"verification-operator-metrics-reader", reader,
				operatorNS, namespace,
			).Replace(string(configSpec))), &want)).To(Succeed())
			Expect(got[0].Object["spec"]).To(Equal(want), "release %s", release)

			down := ""
			for _, g := range field(got[0], "spec", "groups").([]any) {
				for _, r := range g.(map[string]any)["rules"].([]any) {
					if rule := r.(map[string]any); rule["alert"] == "VerificationOperatorDown" {
						down = rule["expr"].(string) + "\n" + rule["annotations"].(map[string]any)["description"].(string)
					}
				}
			}
			Expect(down).To(ContainSubstring(`up{job="`+metricsService+`"}`), "the job the ServiceMonitor gives this release's targets")
			Expect(down).To(ContainSubstring("kubectl -n " + namespace + " get pods"))
			Expect(down).To(ContainSubstring(reader))
			if !strings.Contains(release, "verification-operator") {
				Expect(regexp.MustCompile(`(^|[^-a-z0-9])verification-operator-(controller-manager-metrics-service|metrics-reader|system)`).FindString(down)).
					To(BeEmpty(), "a name of config/default's is left: %s", down)
			}
		}
	})

	It("sends a token the ServiceMonitor reads from a Secret, whose account may get /metrics and nothing else", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-scrape-")
		// Its own release name: this spec creates cluster-scoped objects.
		release := "scrape-" + rand.String(5)
		chart := renderRelease(release, releaseNS, "metrics.serviceMonitor.enabled=true")
		expectDryRunAccepted(ctx, withoutKinds(chart, monitoringKinds...))

		endpoint := serviceMonitorEndpoint(chart)
		Expect(endpoint).NotTo(HaveKey("bearerTokenFile"), "deprecated, and refused under arbitraryFSAccessThroughSMs.deny")
		secretName := release + "-verification-operator-metrics-scraper-token"
		Expect(endpoint).To(HaveKeyWithValue("authorization", map[string]any{
			"type": "Bearer", "credentials": map[string]any{"name": secretName, "key": "token"},
		}))
		secret := findIn(chart, "Secret", releaseNS, secretName)
		Expect(secret).NotTo(BeNil(), "the Secret is in the ServiceMonitor's namespace, where the Prometheus Operator reads it")
		Expect(secret.Object["type"]).To(BeEquivalentTo(corev1.SecretTypeServiceAccountToken))
		account := secret.GetAnnotations()[corev1.ServiceAccountNameKey]
		Expect(findIn(chart, "ServiceAccount", releaseNS, account)).NotTo(BeNil())

		// The token's account may get /metrics, as the manager asks the API
		// server (SubjectAccessReview) on each scrape, and nothing more: apply
		// the account and the RBAC the chart renders for it, for real.
		reader := find(chart, "ClusterRole", release+"-verification-operator-metrics-reader")
		Expect(reader).NotTo(BeNil())
		for _, d := range []*unstructured.Unstructured{
			findIn(chart, "ServiceAccount", releaseNS, account), reader,
			find(chart, "ClusterRoleBinding", release+"-verification-operator-metrics-scraper-rolebinding"),
		} {
			Expect(d).NotTo(BeNil())
			if d.GetNamespace() == "" {
				DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(admin.Delete(ctx, d.DeepCopy()))).To(Succeed()) })
			}
			Expect(apply(ctx, admin, d, false)).To(Succeed(), describe(d))
		}
		scraper, err := kubernetes.NewForConfig(serviceAccountConfig(ctx, releaseNS, account))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func(g Gomega) {
			g.Expect(mayGet(ctx, scraper, "/metrics")).To(BeTrue(), "the scraper may not get /metrics")
		}).Should(Succeed())
		Expect(mayGet(ctx, scraper, "/api")).To(BeTrue(), "control: every account may get /api")
		Expect(canI(ctx, scraper, "list", "verificationorders")).To(BeFalse(), "the scraper may read orders")
		Expect(grantsSecrets(reader)).To(BeFalse())
		createServiceAccount(ctx, releaseNS, "stranger")
		stranger, err := kubernetes.NewForConfig(serviceAccountConfig(ctx, releaseNS, "stranger"))
		Expect(err).NotTo(HaveOccurred())
		Expect(mayGet(ctx, stranger, "/metrics")).To(BeFalse(), "control: another account may get /metrics")
	})

	It("sends the token of a Secret of yours, or leaves the credentials to a scrape class", func() {
		scraperObjects := func(chart []*unstructured.Unstructured) []string {
			var out []string
			for _, d := range chart {
				if strings.Contains(d.GetName(), "metrics-scraper") {
					out = append(out, describe(d))
				}
			}
			return out
		}

		mine := renderChart("default", "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.authorization.createToken=false",
			"metrics.serviceMonitor.authorization.credentials.name=prometheus-token", "metrics.serviceMonitor.authorization.credentials.key=jwt")
		Expect(serviceMonitorEndpoint(mine)).To(HaveKeyWithValue("authorization", map[string]any{
			"type": "Bearer", "credentials": map[string]any{"name": "prometheus-token", "key": "jwt"},
		}))
		Expect(scraperObjects(mine)).To(BeEmpty())
		Expect(field(byKind(mine, "ServiceMonitor")[0], "spec", "scrapeClass")).To(BeNil())

		class := renderChart("default", "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.authorization.createToken=false",
			"metrics.serviceMonitor.scrapeClass=service-account-token")
		Expect(serviceMonitorEndpoint(class)).NotTo(HaveKey("authorization"), "a scrape class's authorization applies only to endpoints without one")
		Expect(field(byKind(class, "ServiceMonitor")[0], "spec", "scrapeClass")).To(Equal("service-account-token"))
		Expect(scraperObjects(class)).To(BeEmpty())

		Expect(scraperObjects(renderChart("default"))).To(BeEmpty(), "no ServiceMonitor, no scraper")
	})

	It("puts config/grafana's dashboard, unchanged, in a ConfigMap for Grafana's sidecar, labeled and placed as told", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-dashboard-")
		grafanaNS := createRestrictedNamespace(ctx, "helm-grafana-")
		dashboard, err := os.ReadFile(filepath.Join(repoRoot, "config", "grafana", "verification-operator.json"))
		Expect(err).NotTo(HaveOccurred())
		configMapOf := func(chart []*unstructured.Unstructured) *corev1.ConfigMap {
			GinkgoHelper()
			cm := acceptedOnly[corev1.ConfigMap](ctx, chart, "ConfigMap")
			Expect(cm.Data).To(Equal(map[string]string{"verification-operator.json": string(dashboard)}), "config/grafana's dashboard, byte for byte")
			return cm
		}

		cm := configMapOf(renderChart(releaseNS, "metrics.dashboard.enabled=true"))
		Expect(cm.Namespace).To(Equal(releaseNS))
		Expect(cm.Labels).To(HaveKeyWithValue("grafana_dashboard", "1"), "kube-prometheus-stack's sidecar default")
		Expect(cm.Annotations).To(BeEmpty())

		cm = configMapOf(renderChart(releaseNS, "metrics.dashboard.enabled=true", "metrics.dashboard.namespace="+grafanaNS,
			"metrics.dashboard.label=example.com/dashboard", "metrics.dashboard.labelValue=operators",
			"metrics.dashboard.annotations.grafana_folder=Operators"))
		Expect(cm.Namespace).To(Equal(grafanaNS))
		Expect(cm.Labels).To(HaveKeyWithValue("example.com/dashboard", "operators"))
		Expect(cm.Labels).NotTo(HaveKey("grafana_dashboard"))
		Expect(cm.Annotations).To(Equal(map[string]string{"grafana_folder": "Operators"}))

		Expect(byKind(renderChart(releaseNS), "ConfigMap")).To(BeEmpty())
	})

	It("renders no monitoring object with the default values", func() {
		chart := renderChart("default")
		for _, kind := range append(monitoringKinds, "ConfigMap", "Secret") {
			Expect(byKind(chart, kind)).To(BeEmpty(), kind)
		}
	})
})

// serviceMonitorEndpoint returns the endpoint of the chart's one
// ServiceMonitor, which has one.
func serviceMonitorEndpoint(chart []*unstructured.Unstructured) map[string]any {
	GinkgoHelper()
	monitors := byKind(chart, "ServiceMonitor")
	Expect(monitors).To(HaveLen(1))
	endpoints, _ := field(monitors[0], "spec", "endpoints").([]any)
	Expect(endpoints).To(HaveLen(1))
	endpoint, ok := endpoints[0].(map[string]any)
	Expect(ok).To(BeTrue())
	return endpoint
}

// mayGet asks the API server whether the client's user may get the
// non-resource URL path, as the manager's metrics endpoint asks of each
// scraper.
func mayGet(ctx SpecContext, cs kubernetes.Interface, path string) bool {
	GinkgoHelper()
	review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{NonResourceAttributes: &authzv1.NonResourceAttributes{Verb: "get", Path: path}},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return review.Status.Allowed
}
