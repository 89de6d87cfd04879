package controllers

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/internal/webhook"
)

// An order names its provider by kind and name: a VerificationProvider in
// the order's namespace, or a cluster-scoped ClusterVerificationProvider.
// Everything past the lookup treats both kinds alike through v1.Provider;
// a provider's key has an empty namespace when it is cluster-scoped.

// providerOf returns an empty provider of the kind o refers to, and its key.
func providerOf(o *v1.VerificationOrder) (v1.Provider, types.NamespacedName) {
	ref := o.Spec.ProviderRef
	if ref.Cluster() {
		return emptyProvider(ref.Kind), types.NamespacedName{Name: ref.Name}
	}
	return emptyProvider(ref.Kind), types.NamespacedName{Namespace: o.Namespace, Name: ref.Name}
}

// emptyProvider returns an empty provider of kind.
func emptyProvider(kind v1.ProviderKind) v1.Provider {
	if kind == v1.KindClusterVerificationProvider {
		return &v1.ClusterVerificationProvider{}
	}
	return &v1.VerificationProvider{}
}

// kindOf names p's kind, for messages and index values.
func kindOf(p v1.Provider) v1.ProviderKind {
	if _, ok := p.(*v1.ClusterVerificationProvider); ok {
		return v1.KindClusterVerificationProvider
	}
	return v1.KindVerificationProvider
}

// refIndexValue is the orderProviderIndex value of orders using the
// provider of kind and name.
func refIndexValue(kind v1.ProviderKind, name string) string {
	if kind == "" {
		kind = v1.KindVerificationProvider
	}
	return string(kind) + "/" + name
}

// secretKey is where p's credentials are: a VerificationProvider's Secret is
// in its own namespace; a ClusterVerificationProvider's is in the namespace
// it names, or the operator's.
func secretKey(p v1.Provider, operatorNamespace string) types.NamespacedName {
	ref := p.ProviderSpec().CredentialsSecretRef
	ns := p.GetNamespace()
	if ns == "" {
		ns = ref.Namespace
	}
	if ns == "" {
		ns = operatorNamespace
	}
	return types.NamespacedName{Namespace: ns, Name: ref.Name}
}

// describeProvider names p for messages: `VerificationProvider "x"`.
func describeProvider(kind v1.ProviderKind, name string) string {
	return fmt.Sprintf("%s %q", kind, name)
}

// errNotSelected: a ClusterVerificationProvider that does not serve the
// order's namespace.
type errNotSelected struct{ provider, namespace string }

func (e errNotSelected) Error() string {
	return fmt.Sprintf("ClusterVerificationProvider %q does not select namespace %q: label the namespace to match its spec.namespaceSelector, or use another provider.", e.provider, e.namespace)
}

// selects says whether cluster provider p serves orders in namespace.
func selects(ctx context.Context, reader client.Reader, p *v1.ClusterVerificationProvider, namespace string) error {
	selector, err := metav1.LabelSelectorAsSelector(p.Spec.NamespaceSelector)
	if err != nil {
		return fmt.Errorf("ClusterVerificationProvider %q has an invalid namespaceSelector: %w", p.Name, err)
	}
	if selector.Empty() {
		return nil
	}
	ns := &metav1.PartialObjectMetadata{}
	ns.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err := reader.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return err
	}
	if !selector.Matches(labels.Set(ns.Labels)) {
		return errNotSelected{provider: p.Name, namespace: namespace}
	}
	return nil
}

// defaultWebhookPoll is spec.webhook.pollInterval's default.
const defaultWebhookPoll = time.Hour

// pushing says whether p's vendor is pushing changes (an authentic delivery
// arrived within spec.webhook.pollInterval), and if so how often its
// orders are still polled.
func pushing(p v1.Provider, now time.Time) (time.Duration, bool) {
	hook, st := p.ProviderSpec().Webhook, p.ProviderStatus().Webhook
	if hook == nil || st == nil || st.LastDeliveryTime == nil {
		return 0, false
	}
	quiet := defaultWebhookPoll
	if hook.PollInterval != nil {
		quiet = hook.PollInterval.Duration
	}
	return quiet, now.Sub(st.LastDeliveryTime.Time) < quiet
}

// syncWebhookStatus shows where p receives deliveries, or drops
// status.webhook when p has none.
func syncWebhookStatus(p v1.Provider) {
	st := p.ProviderStatus()
	if p.ProviderSpec().Webhook == nil {
		st.Webhook = nil
		return
	}
	if st.Webhook == nil {
		st.Webhook = &v1.WebhookStatus{}
	}
	st.Webhook.Path = webhook.Path(p)
}
