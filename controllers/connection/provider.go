package connection

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// An order names its provider by kind and name: a VerificationProvider in
// the order's namespace, or a cluster-scoped ClusterVerificationProvider.
// Everything past the lookup treats both kinds alike through v1.Provider;
// a provider's key has an empty namespace when it is cluster-scoped.

// ProviderOf returns an empty provider of the kind o refers to, and its key.
func ProviderOf(o *v1.VerificationOrder) (v1.Provider, types.NamespacedName) {
	ref := o.Spec.ProviderRef
	if ref.Cluster() {
		return EmptyProvider(ref.Kind), types.NamespacedName{Name: ref.Name}
	}
	return EmptyProvider(ref.Kind), types.NamespacedName{Namespace: o.Namespace, Name: ref.Name}
}

// EmptyProvider returns an empty provider of kind.
func EmptyProvider(kind v1.ProviderKind) v1.Provider {
	if kind == v1.KindClusterVerificationProvider {
		return &v1.ClusterVerificationProvider{}
	}
	return &v1.VerificationProvider{}
}

// KindOf names p's kind, for messages and index values.
func KindOf(p v1.Provider) v1.ProviderKind {
	if _, ok := p.(*v1.ClusterVerificationProvider); ok {
		return v1.KindClusterVerificationProvider
	}
	return v1.KindVerificationProvider
}

// KeyKind is the kind of the provider of key: a cluster provider's key has
// no namespace.
func KeyKind(key types.NamespacedName) v1.ProviderKind {
	if key.Namespace == "" {
		return v1.KindClusterVerificationProvider
	}
	return v1.KindVerificationProvider
}

// SecretKey is where p's credentials are: a VerificationProvider's Secret is
// in its own namespace; a ClusterVerificationProvider's is in the namespace
// it names, or the operator's.
func SecretKey(p v1.Provider, operatorNamespace string) types.NamespacedName {
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

// Describe names p for messages: `VerificationProvider "x"`.
func Describe(kind v1.ProviderKind, name string) string {
	return fmt.Sprintf("%s %q", kind, name)
}

// errNotSelected: a ClusterVerificationProvider that does not serve the
// order's namespace.
type errNotSelected struct{ provider, namespace string }

func (e errNotSelected) Error() string {
	return fmt.Sprintf("ClusterVerificationProvider %q does not select namespace %q: label the namespace to match its spec.namespaceSelector, or use another provider.", e.provider, e.namespace)
}

// IsNotSelected says err is Selects' answer for a namespace the provider
// does not select (and not a failure to find out).
func IsNotSelected(err error) bool {
	var refused errNotSelected
	return errors.As(err, &refused)
}

// Selects says whether cluster provider p serves orders in namespace: nil
// when it does, an error saying why not otherwise.
func Selects(ctx context.Context, reader client.Reader, p *v1.ClusterVerificationProvider, namespace string) error {
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

// DefaultPollInterval is spec.pollInterval's default.
const DefaultPollInterval = 5 * time.Minute

// PollInterval is how often p's orders are to be polled, before the
// account's budget stretches it.
func PollInterval(p v1.Provider) time.Duration {
	if i := p.ProviderSpec().PollInterval; i != nil {
		return i.Duration
	}
	return DefaultPollInterval
}

// Stretched says p's status says its orders are polled less often than its
// pollInterval, to keep polls within their share of the budget.
func Stretched(p v1.Provider) bool {
	e := p.ProviderStatus().EffectivePollInterval
	return e != nil && e.Duration > PollInterval(p)
}
