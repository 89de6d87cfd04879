package deploy

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// shardLabel is controllers/shard's Label.
const shardLabel = "verification.ordersync.dev/shard"

// deployments decodes every Deployment of docs, by name.
func deployments(docs []*unstructured.Unstructured) map[string]*appsv1.Deployment {
	GinkgoHelper()
	out := map[string]*appsv1.Deployment{}
	for _, u := range byKind(docs, "Deployment") {
		d := &appsv1.Deployment{}
		Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, d)).To(Succeed())
		out[d.Name] = d
	}
	return out
}

var _ = Describe("The Helm chart with sharding.shards", func() {
	It("deploys the default instance and one Deployment per shard, each selecting its providers by label", func(ctx SpecContext) {
		releaseNS := createRestrictedNamespace(ctx, "helm-shards-")
		docs := renderChart(releaseNS, "sharding.shards={shard1,shard2}", "replicas=2")
		expectDryRunAccepted(ctx, docs)
		deploys := deployments(docs)
		Expect(deploys).To(HaveLen(3))
		base := "verification-operator-controller-manager"
		for name, selector := range map[string]string{
			base:             "--watch-label-selector=!" + shardLabel,
			base + "-shard1": "--watch-label-selector=" + shardLabel + "=shard1",
			base + "-shard2": "--watch-label-selector=" + shardLabel + "=shard2",
		} {
			d := deploys[name]
			Expect(d).NotTo(BeNil(), "no Deployment %s among %v", name, deploys)
			Expect(d.Spec.Replicas).To(HaveValue(BeEquivalentTo(2)), "each shard has replicas replicas: a leader and a standby")
			args := d.Spec.Template.Spec.Containers[0].Args
			Expect(args).To(ContainElement(selector), name)
			Expect(args).To(ContainElement("--leader-elect"), "%s elects its own leader", name)
			shard, sharded := d.Spec.Template.Labels[shardLabel]
			if name == base {
				Expect(sharded).To(BeFalse())
				Expect(d.Spec.Selector.MatchLabels).NotTo(HaveKey(shardLabel), "the default Deployment's selector is immutable: it stays as it was")
				continue
			}
			Expect(shard).To(Equal(name[len(base)+1:]))
			Expect(d.Spec.Selector.MatchLabels).To(HaveKeyWithValue(shardLabel, shard), "a shard's ReplicaSets are its own")
		}
	})

	It("has the ServiceMonitor label each series with its pod's shard", func() {
		docs := renderChart("default", "sharding.shards={shard1}", "metrics.serviceMonitor.enabled=true")
		monitors := byKind(docs, "ServiceMonitor")
		Expect(monitors).To(HaveLen(1))
		Expect(field(monitors[0], "spec", "podTargetLabels")).To(Equal([]any{shardLabel}))
		unsharded := byKind(renderChart("default", "metrics.serviceMonitor.enabled=true"), "ServiceMonitor")
		Expect(field(unsharded[0], "spec", "podTargetLabels")).To(BeNil(), "as config/prometheus's without shards")
	})

	It("without shards, deploys one unsharded instance", func() {
		deploys := deployments(renderChart("default"))
		Expect(deploys).To(HaveLen(1))
		for _, d := range deploys {
			Expect(d.Spec.Template.Spec.Containers[0].Args).NotTo(ContainElement(HavePrefix("--watch-label-selector")))
		}
	})

	It("refuses shards with the webhook receiver, a shard named default, and names that are no DNS label", func() {
		Expect(renderChartFails("sharding.shards={shard1}", "webhook.enabled=true")).To(ContainSubstring("each shard's receiver knows its own shard's orders only"))
		Expect(renderChartFails("sharding.shards={default}")).To(ContainSubstring("/sharding/shards/0"))
		Expect(renderChartFails("sharding.shards={Shard_1}")).To(ContainSubstring("/sharding/shards/0"))
		Expect(renderChartFails("sharding.shards={shard1}", "leaderElection.enabled=false")).To(ContainSubstring("needs leaderElection.enabled"))
	})
})
