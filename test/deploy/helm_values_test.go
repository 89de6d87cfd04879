package deploy

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

var _ = Describe("The Helm chart with other values", func() {
	const managerRole = releaseName + "-manager-role"

	It("confines the manager to watchNamespaces with a Role and RoleBinding in each, and no cluster-wide grant", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-confined-")
		teamA, teamB := createRestrictedNamespace(ctx, "helm-team-a-"), createRestrictedNamespace(ctx, "helm-team-b-")
		chart := renderChart(releaseNS, "watchNamespaces={"+teamA+","+teamB+"}", "clusterProviders=false")
		expectDryRunAccepted(ctx, chart)

		generated := find(renderInstaller(defaultInstIMG), "ClusterRole", managerRole)
		Expect(generated).NotTo(BeNil())
		for _, ns := range []string{teamA, teamB} {
			role := findIn(chart, "Role", ns, managerRole)
			Expect(role).NotTo(BeNil(), "no Role in %s", ns)
			Expect(role.Object["rules"]).To(Equal(generated.Object["rules"]), "config/rbac/role.yaml's rules")
			binding := findIn(chart, "RoleBinding", ns, releaseName+"-manager-rolebinding")
			Expect(binding).NotTo(BeNil(), "no RoleBinding in %s", ns)
			Expect(binding.Object["roleRef"]).To(HaveKeyWithValue("kind", "Role"))
			Expect(binding.Object["roleRef"]).To(HaveKeyWithValue("name", managerRole))
			Expect(binding.Object["subjects"]).To(ConsistOf(HaveKeyWithValue("name", managerSA)))
		}
		Expect(find(chart, "ClusterRole", managerRole)).To(BeNil())
		for _, b := range byKind(chart, "ClusterRoleBinding") {
			Expect(field(b, "roleRef", "name")).NotTo(Equal(managerRole), describe(b))
		}
		for _, r := range byKind(chart, "ClusterRole") {
			Expect(grantsSecrets(r)).To(BeFalse(), "%s grants Secrets cluster-wide", describe(r))
		}
		Expect(grantsSecrets(findIn(chart, "Role", teamA, managerRole))).To(BeTrue(), "control: the check above can fire")
		Expect(deploymentOf(chart).Spec.Template.Spec.Containers[0].Args).To(ContainElement("--watch-namespaces=" + teamA + "," + teamB))
	})

	It("renders a ServiceMonitor for the metrics Service, verifying the metrics certificate from a Secret", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-monitored-")
		chart := renderChart(releaseNS, "metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.labels.release=prometheus",
			"metrics.serviceMonitor.interval=30s", "metrics.certSecretName=metrics-server-cert")
		// The test API server has no Prometheus Operator CRDs: the
		// ServiceMonitor is checked here, everything else by the API server.
		monitors := byKind(chart, "ServiceMonitor")
		Expect(monitors).To(HaveLen(1))
		monitor := monitors[0]
		Expect(monitor.GetAPIVersion()).To(Equal("monitoring.coreos.com/v1"))
		Expect(monitor.GetNamespace()).To(Equal(releaseNS))
		Expect(monitor.GetLabels()).To(HaveKeyWithValue("release", "prometheus"))
		service := find(chart, "Service", releaseName+"-controller-manager-metrics-service")
		Expect(service).NotTo(BeNil())
		Expect(field(monitor, "spec", "selector", "matchLabels")).NotTo(BeEmpty())
		for k, v := range field(monitor, "spec", "selector", "matchLabels").(map[string]any) {
			Expect(service.GetLabels()).To(HaveKeyWithValue(k, v), "the ServiceMonitor selects the metrics Service")
		}
		endpoints, _ := field(monitor, "spec", "endpoints").([]any)
		Expect(endpoints).To(HaveLen(1))
		Expect(endpoints[0]).To(And(
			HaveKeyWithValue("port", field(service, "spec", "ports").([]any)[0].(map[string]any)["name"]),
			HaveKeyWithValue("scheme", "https"),
			HaveKeyWithValue("path", "/metrics"),
			HaveKeyWithValue("interval", "30s"),
			HaveKeyWithValue("authorization", map[string]any{"type": "Bearer", "credentials": map[string]any{
				"name": releaseName + "-metrics-scraper-token", "key": "token",
			}}),
			Not(HaveKey("bearerTokenFile")),
			HaveKeyWithValue("tlsConfig", map[string]any{
				"serverName":         service.GetName() + "." + releaseNS + ".svc",
				"insecureSkipVerify": false,
				"ca":                 map[string]any{"secret": map[string]any{"name": "metrics-server-cert", "key": "ca.crt"}},
			})))

		// The manager serves the Secret's certificate.
		deploy := deploymentOf(chart)
		pod := deploy.Spec.Template.Spec
		Expect(pod.Volumes).To(ContainElement(HaveField("VolumeSource.Secret.SecretName", "metrics-server-cert")))
		mounts := pod.Containers[0].VolumeMounts
		Expect(mounts).To(HaveLen(1))
		Expect(pod.Containers[0].Args).To(ContainElement("--metrics-cert-path=" + mounts[0].MountPath))
		var rest []*unstructured.Unstructured
		for _, d := range chart {
			if d.GetKind() != "ServiceMonitor" {
				rest = append(rest, d)
			}
		}
		expectDryRunAccepted(ctx, rest)
		expectRestrictedPodAdmitted(ctx, deploy)

		// Without a certificate it trusts the self-signed one, as
		// kubebuilder's config/prometheus does.
		selfSigned := byKind(renderChart(releaseNS, "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
		Expect(selfSigned).To(HaveLen(1))
		Expect(field(selfSigned[0], "spec", "endpoints")).To(ConsistOf(HaveKeyWithValue("tlsConfig", map[string]any{"insecureSkipVerify": true})))
	})

	It("leaves the CRDs to Helm, Argo CD and Flux only when crds.keep is off, and out with crds.enabled off", func() {
		keep := []string{"helm.sh/resource-policy", "argocd.argoproj.io/sync-options", "kustomize.toolkit.fluxcd.io/prune"}
		crds := byKind(renderChart("default", "crds.keep=false"), "CustomResourceDefinition")
		Expect(crds).To(HaveLen(len(byKind(renderInstaller(defaultInstIMG), "CustomResourceDefinition"))))
		for _, crd := range crds {
			for _, k := range keep {
				Expect(crd.GetAnnotations()).NotTo(HaveKey(k), crd.GetName())
			}
			Expect(crd.GetAnnotations()).To(HaveKey("controller-gen.kubebuilder.io/version"), "config/crd's own annotations stay")
		}
		Expect(byKind(renderChart("default", "crds.enabled=false"), "CustomResourceDefinition")).To(BeEmpty())
	})

	It("runs without leader election, metrics, webhooks, network policy or aggregated roles when they are off", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-minimal-")
		chart := renderChart(releaseNS, "leaderElection.enabled=false", "metrics.enabled=false", "rbac.aggregateToDefaultRoles=false",
			"webhook.enabled=false", "networkPolicy.enabled=false")
		expectDryRunAccepted(ctx, chart)
		c := deploymentOf(chart).Spec.Template.Spec.Containers[0]
		Expect(c.Args).To(ContainElements("--leader-elect=false", "--metrics-bind-address=0"))
		Expect(c.Args).NotTo(ContainElement("--leader-elect"))
		Expect(c.Args).NotTo(ContainElement(HavePrefix("--webhook-bind-address")))
		Expect(c.Ports).To(ConsistOf(HaveField("Name", "health")))
		Expect(byKind(chart, "Service")).To(BeEmpty())
		Expect(byKind(chart, "NetworkPolicy")).To(BeEmpty())
		Expect(byKind(chart, "Role")).To(BeEmpty(), "no leader election Role")
		Expect(names(byKind(chart, "ClusterRole"))).To(ConsistOf(managerRole), "no metrics or aggregated roles")
	})

	It("serves the webhook receiver only when asked, and lets in only webhook.allowFrom", func(ctx SpecContext) {
		byDefault := renderChart("default")
		c := deploymentOf(byDefault).Spec.Template.Spec.Containers[0]
		Expect(c.Args).NotTo(ContainElement(HavePrefix("--webhook-")), "the receiver faces the internet: it is opt-in")
		Expect(c.Ports).NotTo(ContainElement(HaveField("Name", "webhook")))
		Expect(find(byDefault, "Service", releaseName+"-webhook-service")).To(BeNil())

		releaseNS := createRestrictedNamespace(ctx, "helm-webhook-")
		ingress := map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": "ingress-nginx"}}}
		chart := renderChart(releaseNS, "webhook.enabled=true", "webhook.certSecretName=hooks-tls",
			"webhook.allowFrom[0].namespaceSelector.matchLabels.kubernetes\\.io/metadata\\.name=ingress-nginx")
		expectDryRunAccepted(ctx, chart)
		pod := deploymentOf(chart).Spec.Template.Spec
		Expect(pod.Containers[0].Args).To(ContainElements("--webhook-bind-address=:9443", HavePrefix("--webhook-cert-path=")))
		Expect(pod.Containers[0].Ports).To(ContainElement(HaveField("Name", "webhook")))
		Expect(pod.Volumes).To(ContainElement(HaveField("VolumeSource.Secret.SecretName", "hooks-tls")))
		Expect(find(chart, "Service", releaseName+"-webhook-service")).NotTo(BeNil())
		policies := byKind(chart, "NetworkPolicy")
		Expect(policies).To(HaveLen(1))
		Expect(field(policies[0], "spec", "ingress")).To(ContainElement(And(
			HaveKeyWithValue("ports", ConsistOf(HaveKeyWithValue("port", "webhook"))),
			HaveKeyWithValue("from", ConsistOf(ingress)))))
	})

	DescribeTable("rejects bad values, saying which and why",
		func(want string, set ...string) {
			Expect(renderChartFails(set...)).To(ContainSubstring(want))
		},
		Entry("negative replicas", "at '/replicas': minimum: got -1, want 0", "replicas=-1"),
		Entry("no workers", "at '/workers': minimum: got 0, want 1", "workers=0"),
		Entry("a log level zap does not know", "at '/logLevel': value must be one of 'debug', 'info', 'error'", "logLevel=verbose"),
		Entry("an empty image tag", "at '/image/tag': minLength: got 0, want 1", "image.tag="),
		Entry("a namespace that is no DNS label", "at '/watchNamespaces/0': 'Team_A' does not match pattern", "watchNamespaces={Team_A}"),
		Entry("a misspelled value", "additional properties 'replica' not allowed", "replica=2"),
		Entry("an unknown pull policy", "at '/image/pullPolicy'", "image.pullPolicy=Sometimes"),
		Entry("two replicas without leader election", "replicas > 1 needs leaderElection.enabled", "replicas=2", "leaderElection.enabled=false"),
		Entry("a ServiceMonitor without metrics", "metrics.serviceMonitor.enabled needs metrics.enabled",
			"metrics.enabled=false", "metrics.serviceMonitor.enabled=true"),
		Entry("no ServiceAccount to run as", "serviceAccount.create=false needs serviceAccount.name", "serviceAccount.create=false"),
		Entry("cluster providers in a manager confined to namespaces", "watchNamespaces needs clusterProviders=false", "watchNamespaces={team-a}"),
		Entry("a webhook certificate without the webhook", "webhook.certSecretName needs webhook.enabled", "webhook.certSecretName=hooks-tls"),
		Entry("webhook peers without the webhook", "webhook.allowFrom needs webhook.enabled and networkPolicy.enabled",
			"webhook.allowFrom[0].podSelector.matchLabels.app=ingress"),
		Entry("webhook peers without the NetworkPolicy that enforces them", "webhook.allowFrom needs webhook.enabled and networkPolicy.enabled",
			"webhook.enabled=true", "networkPolicy.enabled=false", "webhook.allowFrom[0].podSelector.matchLabels.app=ingress"),
		Entry("a webhook peer that is no object", "at '/webhook/allowFrom/0'", "webhook.enabled=true", "webhook.allowFrom[0]=ingress"),
		Entry("alerts without metrics", "metrics.prometheusRule.enabled needs metrics.enabled",
			"metrics.enabled=false", "metrics.prometheusRule.enabled=true"),
		Entry("a dashboard without metrics", "metrics.dashboard.enabled needs metrics.enabled",
			"metrics.enabled=false", "metrics.dashboard.enabled=true"),
		Entry("a ServiceMonitor with no credentials", "metrics.serviceMonitor needs credentials",
			"metrics.serviceMonitor.enabled=true", "metrics.serviceMonitor.authorization.createToken=false"),
		Entry("both a created and a given token", "set createToken or credentials.name, not both",
			"metrics.serviceMonitor.authorization.credentials.name=my-token"),
		Entry("a token Secret that is no name", "at '/metrics/serviceMonitor/authorization/credentials/name'",
			"metrics.serviceMonitor.authorization.createToken=false", "metrics.serviceMonitor.authorization.credentials.name=My_Token"),
		Entry("a dashboard label that is no label key", "at '/metrics/dashboard/label'", "metrics.dashboard.label=grafana dashboard"),
		Entry("a budget that keeps the only replica", "podDisruptionBudget.minAvailable=1 keeps all 1 replicas",
			"podDisruptionBudget.enabled=true", "podDisruptionBudget.minAvailable=1"),
		Entry("a budget that keeps every replica, in percent (rounded up)", "podDisruptionBudget.minAvailable=60% keeps all 2 replicas",
			"replicas=2", "podDisruptionBudget.enabled=true", "podDisruptionBudget.minAvailable=60%"),
		Entry("a budget that lets nothing go", "at '/podDisruptionBudget/maxUnavailable'", "podDisruptionBudget.maxUnavailable=0"),
		Entry("a misspelled budget value", "additional properties 'minAvailible' not allowed", "podDisruptionBudget.minAvailible=1"),
		Entry("an environment variable the chart sets", "extraEnv: POD_NAMESPACE is set by the chart",
			"extraEnv[0].name=POD_NAMESPACE", "extraEnv[0].value=elsewhere"),
		Entry("an environment variable with value and valueFrom", "extraEnv: HTTPS_PROXY has both value and valueFrom",
			"extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy:3128", "extraEnv[0].valueFrom.secretKeyRef.name=proxy"),
		Entry("an environment variable with no name", "at '/extraEnv/0': missing property 'name'", "extraEnv[0].value=x"),
		Entry("a pod label the selector owns", "podLabels: app.kubernetes.io/instance is a selector label",
			"podLabels.app\\.kubernetes\\.io/instance=other"),
		Entry("a pod annotation the chart owns", "podAnnotations: kubectl.kubernetes.io/default-container is the chart's",
			"podAnnotations.kubectl\\.kubernetes\\.io/default-container=sidecar"),
		Entry("a priority class that is no name", "at '/priorityClassName'", "priorityClassName=High_Priority"),
		Entry("a spread constraint without a topology key", "missing property 'topologyKey'",
			"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].whenUnsatisfiable=DoNotSchedule"),
		Entry("a spread constraint that Kubernetes does not know", "at '/topologySpreadConstraints/0/whenUnsatisfiable'",
			"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].topologyKey=zone", "topologySpreadConstraints[0].whenUnsatisfiable=Sometimes"),
	)
})

// findIn returns the document of the given kind, namespace and name, or nil.
func findIn(docs []*unstructured.Unstructured, kind, namespace, name string) *unstructured.Unstructured {
	for _, d := range byKind(docs, kind) {
		if d.GetNamespace() == namespace && d.GetName() == name {
			return d
		}
	}
	return nil
}

// grantsSecrets reports whether a Role or ClusterRole has a rule on core
// Secrets (or on every resource).
func grantsSecrets(role *unstructured.Unstructured) bool {
	GinkgoHelper()
	rules, _ := field(role, "rules").([]any)
	for _, r := range rules {
		rule, ok := r.(map[string]any)
		Expect(ok).To(BeTrue())
		groups, _ := rule["apiGroups"].([]any)
		resources, _ := rule["resources"].([]any)
		core := false
		for _, g := range groups {
			core = core || g == "" || g == "*"
		}
		for _, res := range resources {
			if s, _ := res.(string); core && (s == string(corev1.ResourceSecrets) || s == "*" || strings.HasPrefix(s, "secrets/")) {
				return true
			}
		}
	}
	return false
}
