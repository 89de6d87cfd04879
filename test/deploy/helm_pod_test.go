package deploy

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// The manager pod's options: each renders nothing unless set, and what it
// renders when set is accepted by the API server and by restricted Pod
// Security admission.
var _ = Describe("The Helm chart's pod options", func() {
	chartEnv := []corev1.EnvVar{
		{Name: "POD_NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
	}

	It("render nothing with the default values", func() {
		chart := renderChart("default")
		Expect(byKind(chart, "PodDisruptionBudget")).To(BeEmpty())
		deploy := deploymentOf(chart)
		pod := deploy.Spec.Template
		Expect(pod.Annotations).To(Equal(map[string]string{"kubectl.kubernetes.io/default-container": "manager"}))
		Expect(pod.Labels).To(Equal(deploy.Spec.Selector.MatchLabels), "the pod carries its selector labels only")
		Expect(pod.Spec.PriorityClassName).To(BeEmpty())
		Expect(pod.Spec.TopologySpreadConstraints).To(BeEmpty())
		Expect(pod.Spec.Containers[0].Env).To(Equal(chartEnv))
	})

	It("add podAnnotations and podLabels to the pod, next to the chart's, and the Services still select it", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-pod-meta-")
		chart := renderChart(releaseNS, "podAnnotations.example\\.com/owner=platform", "podLabels.team=lending")
		expectDryRunAccepted(ctx, chart)
		deploy := deploymentOf(chart)
		Expect(deploy.Spec.Template.Annotations).To(Equal(map[string]string{
			"kubectl.kubernetes.io/default-container": "manager", "example.com/owner": "platform",
		}))
		Expect(deploy.Spec.Template.Labels).To(HaveKeyWithValue("team", "lending"))
		for k, v := range deploy.Spec.Selector.MatchLabels {
			Expect(deploy.Spec.Template.Labels).To(HaveKeyWithValue(k, v), "the selector still matches the pod")
		}
		Expect(deploy.Spec.Selector.MatchLabels).NotTo(HaveKey("team"), "a pod label does not reach the immutable selector")
		for _, svc := range byKind(chart, "Service") {
			for k, v := range field(svc, "spec", "selector").(map[string]any) {
				Expect(deploy.Spec.Template.Labels).To(HaveKeyWithValue(k, v), describe(svc))
			}
		}
	})

	It("give the pod priorityClassName", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-pod-priority-")
		// Priority admission resolves the class when a pod is created.
		class := &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{GenerateName: "verification-operator-"}, Value: 1000}
		Expect(admin.Create(ctx, class)).To(Succeed())
		DeferCleanup(func(ctx SpecContext) { Expect(client.IgnoreNotFound(admin.Delete(ctx, class))).To(Succeed()) })

		chart := renderChart(releaseNS, "priorityClassName="+class.Name)
		expectDryRunAccepted(ctx, chart)
		deploy := deploymentOf(chart)
		Expect(deploy.Spec.Template.Spec.PriorityClassName).To(Equal(class.Name))
		expectRestrictedPodAdmitted(ctx, deploy)
	})

	It("append extraEnv to the manager's environment, after the chart's", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-pod-env-")
		chart := renderChart(releaseNS, "extraEnv[0].name=HTTPS_PROXY", "extraEnv[0].value=http://proxy.example.com:3128",
			"extraEnv[1].name=GOMEMLIMIT", "extraEnv[1].valueFrom.resourceFieldRef.containerName=manager",
			"extraEnv[1].valueFrom.resourceFieldRef.resource=limits.memory")
		expectDryRunAccepted(ctx, chart)
		deploy := deploymentOf(chart)
		Expect(deploy.Spec.Template.Spec.Containers[0].Env).To(Equal(append(chartEnv,
			corev1.EnvVar{Name: "HTTPS_PROXY", Value: "http://proxy.example.com:3128"},
			corev1.EnvVar{Name: "GOMEMLIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{
				ContainerName: "manager", Resource: "limits.memory",
			}}},
		)))
		expectRestrictedPodAdmitted(ctx, deploy)
	})

	It("spread the pods by topologySpreadConstraints, selecting this release's pods unless told otherwise", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-pod-spread-")
		chart := renderChart(releaseNS, "replicas=2",
			"topologySpreadConstraints[0].maxSkew=1", "topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone",
			"topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway",
			"topologySpreadConstraints[1].maxSkew=1", "topologySpreadConstraints[1].topologyKey=kubernetes.io/hostname",
			"topologySpreadConstraints[1].whenUnsatisfiable=DoNotSchedule",
			"topologySpreadConstraints[1].labelSelector.matchLabels.team=lending")
		expectDryRunAccepted(ctx, chart)
		deploy := deploymentOf(chart)
		Expect(deploy.Spec.Template.Spec.TopologySpreadConstraints).To(Equal([]corev1.TopologySpreadConstraint{
			{MaxSkew: 1, TopologyKey: "topology.kubernetes.io/zone", WhenUnsatisfiable: corev1.ScheduleAnyway,
				LabelSelector: &metav1.LabelSelector{MatchLabels: deploy.Spec.Selector.MatchLabels}},
			{MaxSkew: 1, TopologyKey: "kubernetes.io/hostname", WhenUnsatisfiable: corev1.DoNotSchedule,
				LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": "lending"}}},
		}))
		expectRestrictedPodAdmitted(ctx, deploy)
	})

	It("keep a standby manager through drains with podDisruptionBudget: maxUnavailable 1 by default, or minAvailable", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-pod-pdb-")
		budget := func(chart []*unstructured.Unstructured) *policyv1.PodDisruptionBudget {
			GinkgoHelper()
			pdb := acceptedOnly[policyv1.PodDisruptionBudget](ctx, chart, "PodDisruptionBudget")
			Expect(pdb.Namespace).To(Equal(releaseNS))
			Expect(pdb.Spec.Selector).To(Equal(deploymentOf(chart).Spec.Selector), "the budget covers the manager's pods")
			return pdb
		}

		// One replica: the budget lets a drain evict it (a budget that kept
		// it would block every drain, and the chart refuses one).
		pdb := budget(renderChart(releaseNS, "podDisruptionBudget.enabled=true"))
		Expect(pdb.Spec.MaxUnavailable).To(Equal(new(intstr.FromInt32(1))))
		Expect(pdb.Spec.MinAvailable).To(BeNil())

		pdb = budget(renderChart(releaseNS, "replicas=2", "podDisruptionBudget.enabled=true", "podDisruptionBudget.minAvailable=1"))
		Expect(pdb.Spec.MinAvailable).To(Equal(new(intstr.FromInt32(1))))
		Expect(pdb.Spec.MaxUnavailable).To(BeNil(), "minAvailable replaces maxUnavailable")

		pdb = budget(renderChart(releaseNS, "replicas=3", "podDisruptionBudget.enabled=true", "podDisruptionBudget.minAvailable=50%"))
		Expect(pdb.Spec.MinAvailable).To(Equal(new(intstr.FromString("50%"))))
	})
})
