package deploy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	appsv1 "k8s.io/api/apps/v1"
	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/fixture"
	"github.com/ordersync/verification-operator/test/testutil"
)

// Ordered: the dry-run specs must see an API server without the CRDs, which
// the later specs install. ContinueOnFailure: one failure still lets the
// independent specs after it report.
var _ = Describe("The installer (config/default, as in dist/install.yaml)", Ordered, ContinueOnFailure, func() {
	var docs []*unstructured.Unstructured
	img := os.Getenv("IMG")
	if img == "" {
		img = defaultInstIMG
	}

	BeforeAll(func() {
		docs = renderInstaller(img)
	})

	Context("applied with server-side dry run to an API server without the CRDs", func() {
		BeforeAll(func(ctx SpecContext) {
			// A dry run does not create anything, and namespaced documents are
			// admitted only into an existing namespace, so the installer's own
			// Namespace is applied for real first. It is the only prerequisite:
			// custom resources would need their CRD installed for real too,
			// but config/default ships none (asserted below).
			namespaces := byKind(docs, "Namespace")
			Expect(namespaces).To(HaveLen(1))
			Expect(namespaces[0].GetName()).To(Equal(operatorNS))
			Expect(apply(ctx, admin, namespaces[0], false)).To(Succeed())
		})

		It("accepts every document and persists none of them", func(ctx SpecContext) {
			expectDryRunAccepted(ctx, docs)

			// Everything the manager needs is there...
			Expect(byKind(docs, "CustomResourceDefinition")).To(HaveLen(3))
			Expect(byKind(docs, "Deployment")).To(HaveLen(1))
			Expect(names(byKind(docs, "ServiceAccount"))).To(ConsistOf(operatorNS + "/" + managerSA))
			Expect(names(byKind(docs, "ClusterRole"))).To(ContainElement("verification-operator-manager-role"))
			Expect(names(byKind(docs, "Role"))).To(ContainElement(operatorNS + "/verification-operator-leader-election-role"))
			// ...GitOps tools and Helm are told never to delete the CRDs...
			for _, crd := range byKind(docs, "CustomResourceDefinition") {
				Expect(crd.GetAnnotations()).To(And(
					HaveKeyWithValue("argocd.argoproj.io/sync-options", "Prune=false,Delete=false"),
					HaveKeyWithValue("kustomize.toolkit.fluxcd.io/prune", "disabled"),
					HaveKeyWithValue("helm.sh/resource-policy", "keep")), crd.GetName())
			}
			// ...and the dry run really was dry: no CRD was created.
			for _, crd := range byKind(docs, "CustomResourceDefinition") {
				got := &unstructured.Unstructured{}
				got.SetGroupVersionKind(crd.GroupVersionKind())
				err := admin.Get(ctx, client.ObjectKeyFromObject(crd), got)
				Expect(apierrors.IsNotFound(err)).To(BeTrue(), "CRD %s exists after a dry run: %v", crd.GetName(), err)
			}
		})

		It("runs the manager as a pod that meets the restricted Pod Security Standard", func(ctx SpecContext) {
			deploy := deploymentOf(docs)
			Expect(deploy.Name).To(Equal(managerDeploy))
			pod := deploy.Spec.Template.Spec
			Expect(pod.ServiceAccountName).To(Equal(managerSA))
			Expect(pod.Containers).NotTo(BeEmpty())
			Expect(pod.Containers[0].Image).To(Equal(img), "the image set like build-installer does")
			expectRestrictedPodAdmitted(ctx, deploy)
		})
	})

	Context("installed for real, with the manager running as its ServiceAccount", func() {
		var (
			saCfg   *rest.Config
			manager *testutil.Process
		)

		BeforeAll(func(ctx SpecContext) {
			// Everything but the Deployment: the manager runs here as a local
			// process with the Deployment's ServiceAccount instead.
			// Namespace and CRDs first, as what follows needs them.
			for _, kind := range []string{"Namespace", "CustomResourceDefinition"} {
				for _, d := range byKind(docs, kind) {
					Expect(apply(ctx, admin, d, false)).To(Succeed(), describe(d))
				}
			}
			for _, d := range docs {
				switch d.GetKind() {
				case "Namespace", "CustomResourceDefinition", "Deployment":
				default:
					Expect(apply(ctx, admin, d, false)).To(Succeed(), describe(d))
				}
			}
			Eventually(func() error {
				return admin.List(ctx, &v1.VerificationProviderList{})
			}).Should(Succeed(), "CRDs established")
			Eventually(func() error {
				return admin.List(ctx, &v1.VerificationOrderList{})
			}).Should(Succeed(), "CRDs established")

			saCfg = serviceAccountConfig(ctx, operatorNS, managerSA)
			bin := testutil.Build("./cmd/manager")
			// The Deployment's args, with a free probe port, no metrics
			// server, and the Lease namespace that in-cluster runs read from
			// the pod's service account.
			args := []string{"--leader-elect", "--leader-election-namespace=" + operatorNS, "--cluster-resource-namespace=" + operatorNS,
				"--health-probe-bind-address=127.0.0.1:0", "--metrics-bind-address=0"}
			manager = startManager(bin, writeKubeconfig(saCfg), args...)
		})

		It("authenticates with a TokenRequest token as the ServiceAccount, not as admin", func(ctx SpecContext) {
			sa := kubernetes.NewForConfigOrDie(saCfg)
			review, err := sa.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
			Expect(err).NotTo(HaveOccurred())
			Expect(review.Status.UserInfo.Username).To(Equal("system:serviceaccount:" + operatorNS + ":" + managerSA))
			Expect(review.Status.UserInfo.Groups).NotTo(ContainElement("system:masters"))
			Expect(canI(ctx, sa, "list", "verificationorders")).To(BeTrue())
			Expect(canI(ctx, sa, "delete", "verificationproviders")).To(BeFalse(), "the manager should not delete providers")
		})

		It("lets the ServiceAccount take the leader election Lease", func(ctx SpecContext) {
			// Checked on its own, as the manager may not elect here (see
			// BeforeAll): client-go's leader election, which controller-runtime
			// uses, with the ServiceAccount's token gets, creates and updates
			// a Lease in the operator namespace, as the Role must allow.
			Expect(acquireLease(ctx, saCfg, operatorNS, "deploy-test-lease")).To(Succeed())
		})

		It("lets the manager cancel an order at the vendor", func(ctx SpecContext) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "deploy-orders-"}}
			Expect(admin.Create(ctx, ns)).To(Succeed())
			vendor, err := fixture.Start("accountchek", fixture.Namespace(ns.Name), fixture.PollInterval(time.Second))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(vendor.Close)
			Expect(vendor.MutatingMethod).To(Equal(http.MethodPatch))
			sim, provider := vendor.Sim, vendor.Provider
			Expect(vendor.Create(ctx, admin)).To(Succeed())
			id, err := sim.CreateOrder(vendor.Cancelable)
			Expect(err).NotTo(HaveOccurred())
			order := &v1.VerificationOrder{
				ObjectMeta: metav1.ObjectMeta{Name: "cancel-me", Namespace: ns.Name},
				Spec: v1.VerificationOrderSpec{
					ProviderRef: v1.ProviderReference{Name: provider.Name}, OrderID: id, State: v1.DesiredCanceled,
				},
			}
			Expect(admin.Create(ctx, order)).To(Succeed())

			Eventually(func(g Gomega) {
				g.Expect(manager.Exited()).To(BeFalse(), "the manager exited:\n%s", manager.Output)
				g.Expect(admin.Get(ctx, client.ObjectKeyFromObject(order), order)).To(Succeed())
				expectConditionTrue(g, order.Status.Conditions, v1.ConditionReady, v1.ReasonConverged)
				g.Expect(order.Status.ObservedGeneration).To(Equal(order.Generation))
				g.Expect(order.Status.State).To(BeEquivalentTo("canceled"))
			}).Should(Succeed())
			Expect(sim.CountCalls(id, http.MethodPatch)).To(Equal(1))
			// A few 1s polls later the order is still canceled once.
			Consistently(func() int { return sim.CountCalls(id, http.MethodPatch) }, 3*time.Second).Should(Equal(1))

			// The provider's status and the order's event were written by the
			// manager too.
			Expect(admin.Get(ctx, client.ObjectKeyFromObject(provider), provider)).To(Succeed())
			expectConditionTrue(Default, provider.Status.Conditions, v1.ConditionReady, v1.ReasonCredentialsValid)
			Eventually(func(g Gomega) {
				var events eventsv1.EventList
				g.Expect(admin.List(ctx, &events, client.InNamespace(ns.Name))).To(Succeed())
				var about []string
				for _, e := range events.Items {
					if e.Regarding.Name == order.Name {
						about = append(about, e.Reason)
					}
				}
				g.Expect(about).NotTo(BeEmpty(), "no event about the order")
			}).Should(Succeed())
		})

		It("logs no forbidden error: the shipped RBAC covers every informer and write", func() {
			log := manager.Output.String()
			// The check reads real output: the controllers did start.
			Expect(log).To(ContainSubstring("Starting workers"))
			forbidden := regexp.MustCompile(`(?i)forbidden`)
			var lines []string
			for _, l := range strings.Split(log, "\n") {
				if forbidden.MatchString(l) {
					lines = append(lines, l)
				}
			}
			Expect(lines).To(BeEmpty(), "RBAC gaps in the manager's log")
		})
	})

	confinedToNamespaces()

	It("is removed by make undeploy without the CRDs, so no order is deleted or canceled by surprise", func() {
		removed := render("undeploy", img)
		Expect(byKind(removed, "CustomResourceDefinition")).To(BeEmpty())
		Expect(byKind(removed, "Deployment")).To(HaveLen(1))
		Expect(removed).To(HaveLen(len(docs)-len(byKind(docs, "CustomResourceDefinition"))), "everything else config/default installs")
	})

	Context("negative control", func() {
		It("forbids a ServiceAccount bound to nothing, so the token path is really RBAC-limited", func(ctx SpecContext) {
			ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "deploy-unbound-"}}
			Expect(admin.Create(ctx, ns)).To(Succeed())
			createServiceAccount(ctx, ns.Name, "unbound")
			cfg := serviceAccountConfig(ctx, ns.Name, "unbound")

			Expect(canI(ctx, kubernetes.NewForConfigOrDie(cfg), "list", "verificationorders")).To(BeFalse())
			c, err := client.New(cfg, client.Options{Scheme: scheme})
			Expect(err).NotTo(HaveOccurred())
			err = c.List(ctx, &v1.VerificationOrderList{}, client.InNamespace(ns.Name))
			Expect(apierrors.IsForbidden(err)).To(BeTrue(), "want forbidden, got %v", err)
		})
	})
})

// deploymentOf returns the installer's one Deployment, typed.
func deploymentOf(docs []*unstructured.Unstructured) *appsv1.Deployment {
	GinkgoHelper()
	deploys := byKind(docs, "Deployment")
	Expect(deploys).To(HaveLen(1))
	d := &appsv1.Deployment{}
	Expect(runtime.DefaultUnstructuredConverter.FromUnstructured(deploys[0].Object, d)).To(Succeed())
	return d
}

// expectDryRunAccepted applies every document with server-side dry run as
// admin and expects the API server to accept each without a warning (Pod
// Security admission warns about a pod template that violates the
// namespace's warn level). Custom resources of the operator's own API need
// their CRD installed for real, so none may be among docs.
func expectDryRunAccepted(ctx context.Context, docs []*unstructured.Unstructured) {
	GinkgoHelper()
	for _, d := range docs {
		Expect(d.GroupVersionKind().Group).NotTo(Equal(v1.GroupVersion.Group),
			"%s is a custom resource: install its CRD for real before the dry run", describe(d))
	}
	firstWarning := warnings.count()
	rejected := map[string]string{}
	for _, d := range docs {
		if err := apply(ctx, admin, d, true); err != nil {
			rejected[describe(d)] = err.Error()
		}
	}
	Expect(rejected).To(BeEmpty(), "the API server rejected these documents")
	Expect(warnings.since(firstWarning)).To(BeEmpty(), "the API server warned (e.g. Pod Security)")
}

// expectRestrictedPodAdmitted checks that every container of the
// Deployment's pod meets the restricted Pod Security Standard and has
// probes and resources, and that Pod Security admission of its namespace,
// which must enforce restricted, admits the pod and rejects it made
// privileged.
func expectRestrictedPodAdmitted(ctx context.Context, deploy *appsv1.Deployment) {
	GinkgoHelper()
	pod := deploy.Spec.Template.Spec
	for _, c := range pod.Containers {
		expectRestrictedContainer(pod.SecurityContext, c)
		Expect(c.LivenessProbe).NotTo(BeNil(), "container %s has no livenessProbe", c.Name)
		Expect(c.ReadinessProbe).NotTo(BeNil(), "container %s has no readinessProbe", c.Name)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			Expect(c.Resources.Requests).To(HaveKey(r), "container %s: no %s request", c.Name, r)
			Expect(c.Resources.Limits).To(HaveKey(r), "container %s: no %s limit", c.Name, r)
		}
	}

	// Pod Security admission is what would reject the Deployment's pods, so
	// dry-run one.
	Expect(admin.Create(ctx, podFrom(deploy), client.DryRunAll)).To(Succeed(),
		"Pod Security admission (enforce: restricted) rejects the manager's pod")
	// Control: the same pod made privileged is rejected, so the
	// enforcement above is real. (allowPrivilegeEscalation: false
	// would contradict privileged and fail validation instead.)
	privileged := podFrom(deploy)
	privileged.Spec.Containers[0].SecurityContext.Privileged = new(true)
	privileged.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	err := admin.Create(ctx, privileged, client.DryRunAll)
	Expect(err).To(MatchError(ContainSubstring("violates PodSecurity")))
}

// podFrom returns a Pod as the Deployment's ReplicaSet would create it.
func podFrom(d *appsv1.Deployment) *corev1.Pod {
	t := d.Spec.Template.DeepCopy()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{GenerateName: d.Name + "-", Namespace: d.Namespace, Labels: t.Labels, Annotations: t.Annotations},
		Spec:       t.Spec,
	}
}

// expectRestrictedContainer checks the restricted Pod Security Standard's
// settings for one container; runAsNonRoot and seccompProfile may come from
// the pod.
func expectRestrictedContainer(pod *corev1.PodSecurityContext, c corev1.Container) {
	GinkgoHelper()
	if pod == nil {
		pod = &corev1.PodSecurityContext{}
	}
	sc := c.SecurityContext
	Expect(sc).NotTo(BeNil(), "container %s has no securityContext", c.Name)

	runAsNonRoot := pod.RunAsNonRoot
	if sc.RunAsNonRoot != nil {
		runAsNonRoot = sc.RunAsNonRoot
	}
	Expect(runAsNonRoot).To(HaveValue(BeTrue()), "container %s: runAsNonRoot", c.Name)
	seccomp := pod.SeccompProfile
	if sc.SeccompProfile != nil {
		seccomp = sc.SeccompProfile
	}
	Expect(seccomp).NotTo(BeNil(), "container %s: no seccompProfile", c.Name)
	Expect(seccomp.Type).To(Equal(corev1.SeccompProfileTypeRuntimeDefault), "container %s: seccompProfile", c.Name)
	Expect(sc.AllowPrivilegeEscalation).To(HaveValue(BeFalse()), "container %s: allowPrivilegeEscalation", c.Name)
	Expect(sc.Capabilities).NotTo(BeNil(), "container %s: no capabilities", c.Name)
	Expect(sc.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")), "container %s: capabilities.drop", c.Name)
	Expect(sc.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()), "container %s: readOnlyRootFilesystem", c.Name)
}

func expectConditionTrue(g Gomega, conditions []metav1.Condition, condition string, reason v1.Reason) {
	c := meta.FindStatusCondition(conditions, condition)
	g.Expect(c).NotTo(BeNil(), "no %s condition yet; conditions: %+v", condition, conditions)
	g.Expect(c.Status).To(Equal(metav1.ConditionTrue), "%s: %s", c.Reason, c.Message)
	g.Expect(c.Reason).To(BeEquivalentTo(reason), c.Message)
}

// canI asks the API server whether the client's user may do verb on
// resource in the verification API group, in any namespace.
func canI(ctx context.Context, cs kubernetes.Interface, verb, resource string) bool {
	GinkgoHelper()
	review, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, &authzv1.SelfSubjectAccessReview{
		Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: verb, Group: v1.GroupVersion.Group, Resource: resource,
		}},
	}, metav1.CreateOptions{})
	Expect(err).NotTo(HaveOccurred())
	return review.Status.Allowed
}

// acquireLease runs client-go leader election for a Lease as cfg's user
// until it leads, then releases the Lease. Leader election only logs API
// errors, so a forbidden one shows as never leading.
func acquireLease(ctx context.Context, cfg *rest.Config, namespace, name string) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	leading := make(chan struct{})
	stopped := make(chan struct{})
	elector, err := leaderelection.NewLeaderElector(leaderelection.LeaderElectionConfig{
		Lock: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: name, Namespace: namespace},
			Client:     cs.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: "deploy-test"},
		},
		LeaseDuration:   15 * time.Second,
		RenewDeadline:   10 * time.Second,
		RetryPeriod:     time.Second,
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) { close(leading) },
			OnStoppedLeading: func() {},
		},
	})
	if err != nil {
		return err
	}
	go func() {
		defer close(stopped)
		elector.Run(ctx)
	}()
	select {
	case <-leading:
	case <-time.After(15 * time.Second):
		cancel()
		<-stopped
		return errNotLeading
	}
	cancel() // releases the Lease: an update
	<-stopped
	return nil
}

var errNotLeading = errors.New("never became leader within 15s: is the ServiceAccount forbidden to get/create/update leases? (see the leaderelection log above)")

func names(docs []*unstructured.Unstructured) []string {
	out := make([]string, 0, len(docs))
	for _, d := range docs {
		if ns := d.GetNamespace(); ns != "" {
			out = append(out, ns+"/"+d.GetName())
		} else {
			out = append(out, d.GetName())
		}
	}
	return out
}
