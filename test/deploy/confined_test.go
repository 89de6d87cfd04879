package deploy

import (
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/test/testutil"
)

// confinedToNamespaces runs the manager as the README suggests for a team
// that will not grant cluster-wide Secret access: the generated ClusterRole
// bound with a RoleBinding in one namespace only, and --watch-namespaces.
// It needs the CRDs and RBAC the installer specs before it applied.
func confinedToNamespaces() {
	Context("confined to one namespace with RoleBindings only (--watch-namespaces)", func() {
		var (
			manager *testutil.Process
			target  string
		)

		BeforeAll(func(ctx SpecContext) {
			const sa = "confined-manager"
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "deploy-confined-"}}
			Expect(admin.Create(ctx, ns)).To(Succeed())
			target = ns.Name
			createServiceAccount(ctx, operatorNS, sa)
			subject := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa, Namespace: operatorNS}}
			for _, rb := range []*rbacv1.RoleBinding{
				{
					ObjectMeta: metav1.ObjectMeta{Name: "confined-manager", Namespace: target},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "verification-operator-manager-role"},
					Subjects:   subject,
				},
				{
					ObjectMeta: metav1.ObjectMeta{Name: "confined-manager-leader-election", Namespace: operatorNS},
					RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "verification-operator-leader-election-role"},
					Subjects:   subject,
				},
			} {
				Expect(admin.Create(ctx, rb)).To(Succeed())
			}
			cfg := serviceAccountConfig(ctx, operatorNS, sa)
			Expect(canI(ctx, kubernetes.NewForConfigOrDie(cfg), "list", "verificationorders")).To(BeFalse(), "not cluster-wide")
			manager = startManager(testutil.Build("./cmd/manager"), writeKubeconfig(cfg),
				"--watch-namespaces="+target, "--leader-election-namespace="+operatorNS, "--cluster-providers=false",
				"--health-probe-bind-address=127.0.0.1:0", "--metrics-bind-address=0")
		})

		It("cancels an order in the watched namespace, and logs no forbidden error", func(ctx SpecContext) {
			vendor, err := fixture.Start("accountchek", fixture.Namespace(target), fixture.SecretName("credentials"), fixture.PollInterval(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(vendor.Close)
			sim, provider := vendor.Sim, vendor.Provider
			Expect(vendor.Create(ctx, admin)).To(Succeed())
			id, err := sim.CreateOrder(vendor.Cancelable)
			Expect(err).NotTo(HaveOccurred())
			order := &v1.VerificationOrder{
				ObjectMeta: metav1.ObjectMeta{Name: "cancel-me", Namespace: target},
				Spec:       v1.VerificationOrderSpec{ProviderRef: v1.ProviderReference{Name: provider.Name}, OrderID: id, State: v1.DesiredCanceled},
			}
			Expect(admin.Create(ctx, order)).To(Succeed())

			Eventually(func(g Gomega) {
				g.Expect(manager.Exited()).To(BeFalse(), "the manager exited:\n%s", manager.Output)
				g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(order), order)).To(Succeed())
				expectConditionTrue(g, order.Status.Conditions, v1.ConditionReady, v1.ReasonConverged)
			}, time.Minute).Should(Succeed())
			Expect(sim.CountCalls(id, http.MethodPatch)).To(Equal(1))
			Expect(manager.Output.String()).NotTo(MatchRegexp(`(?i)forbidden`), "RBAC gaps in the confined manager's log")
		})
	})
}
