package controllers

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/budget"
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// Connection is an order's provider, resolved: the vendor's description, a
// client holding the provider's credentials, and how often to poll.
type Connection struct {
	vendor providers.Vendor
	client providers.Client
	// budget is the vendor account's request budget; account names it.
	budget  *budget.Budget
	account string
	// poll is the provider's pollInterval, before the budget stretches it.
	poll time.Duration
	// provider is the order's provider, of either kind, as read.
	provider v1.Provider
}

// Connector turns an order's provider and its Secret into a connection. It
// reads the Secret's data only when the Secret changed: the cache holds
// Secret metadata only.
type Connector struct {
	// Cached reads providers and Secret metadata from the informer cache.
	Cached client.Reader
	// Live reads Secret data past the cache.
	Live     client.Reader
	Registry providers.Registry
	Clients  *ClientCache
	// OperatorNamespace holds the Secrets of ClusterVerificationProviders
	// that name no namespace.
	OperatorNamespace string
	// ClusterProviders says whether ClusterVerificationProviders are served
	// (the manager may read them and Namespaces cluster-wide).
	ClusterProviders bool
}

// connect resolves the order's provider, or returns the outcome that tells a
// person what is missing.
func (c *Connector) connect(ctx context.Context, o *v1.VerificationOrder) (*Connection, *outcome) {
	p, failed := c.provider(ctx, o)
	if failed != nil {
		return nil, failed
	}
	spec := p.ProviderSpec()
	vendor, err := c.Registry.Get(string(spec.Vendor))
	if err != nil {
		out := stalled(v1.ReasonProviderNotReady, err.Error(), plan.RecheckNever)
		return nil, &out
	}
	vc, account, err := c.client(ctx, o, p, vendor)
	if err != nil {
		if providers.KindOf(err) == providers.KindUnauthorized {
			out := errorOutcome(err, vendor.Name, "", providers.ActionNone)
			return nil, &out
		}
		return nil, connectFailure(err, fmt.Sprintf("%s: %v", describeProvider(kindOf(p), p.GetName()), err))
	}
	return &Connection{vendor: vendor, client: vc, poll: pollInterval(p), provider: p,
		budget: c.Clients.Budgets.For(account, Limits(p, vendor)), account: account}, nil
}

// provider reads the order's provider, and checks that a cluster provider
// serves the order's namespace.
func (c *Connector) provider(ctx context.Context, o *v1.VerificationOrder) (v1.Provider, *outcome) {
	ref := o.Spec.ProviderRef
	if ref.Cluster() && !c.ClusterProviders {
		out := stalled(v1.ReasonProviderNotReady, fmt.Sprintf("This operator does not serve ClusterVerificationProviders (--cluster-providers=false); use a VerificationProvider in namespace %q.", o.Namespace), plan.RecheckNever)
		return nil, &out
	}
	p, key := providerOf(o)
	if err := c.Cached.Get(ctx, key, p); err != nil {
		where := ""
		if !ref.Cluster() {
			where = fmt.Sprintf(" in namespace %q", o.Namespace)
		}
		return nil, connectFailure(err, fmt.Sprintf("%s was not found%s; create it or fix spec.providerRef.", describeProvider(ref.Kind, ref.Name), where))
	}
	if cluster, ok := p.(*v1.ClusterVerificationProvider); ok {
		var refused errNotSelected
		switch err := selects(ctx, c.Cached, cluster, o.Namespace); {
		case errors.As(err, &refused):
			out := stalled(v1.ReasonProviderNotAllowed, err.Error(), plan.RecheckNever)
			return nil, &out
		case err != nil:
			return nil, connectFailure(err, err.Error())
		}
	}
	return p, nil
}

// client returns the cached client for p, or builds one from the Secret.
func (c *Connector) client(ctx context.Context, o *v1.VerificationOrder, p v1.Provider, vendor providers.Vendor) (providers.Client, string, error) {
	key := secretKey(p, c.OperatorNamespace)
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Cached.Get(ctx, key, meta); err != nil {
		return c.lastGood(p, o, secretError(err, key))
	}
	if vc, account, ok := c.Clients.Cached(p, Version(p, meta)); ok {
		return vc, account, nil
	}
	secret := &corev1.Secret{}
	if err := c.Live.Get(ctx, key, secret); err != nil {
		return c.lastGood(p, o, secretError(err, key))
	}
	return c.Clients.Build(p, vendor, secret)
}

// credentials returns the data of p's credentials Secret, for the webhook
// receiver: read past the cache only when the Secret changed.
func (c *Connector) credentials(ctx context.Context, p v1.Provider) (map[string][]byte, error) {
	key := secretKey(p, c.OperatorNamespace)
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Cached.Get(ctx, key, meta); err != nil {
		return nil, err
	}
	if data, ok := c.Clients.secretData(key, meta.ResourceVersion); ok {
		return data, nil
	}
	secret := &corev1.Secret{}
	if err := c.Live.Get(ctx, key, secret); err != nil {
		return nil, err
	}
	c.Clients.keepSecretData(key, secret.ResourceVersion, secret.Data)
	return secret.Data, nil
}

// lastGood lets the cancel of an order being deleted use the credentials
// last built for its provider when the Secret is already gone, as it is
// when a namespace is deleted: the provider's in-use finalizer keeps the
// provider, but nothing keeps the Secret.
func (c *Connector) lastGood(p v1.Provider, o *v1.VerificationOrder, err error) (providers.Client, string, error) {
	var missing errSecretNotFound
	if o.DeletionTimestamp.IsZero() || !errors.As(err, &missing) {
		return nil, "", err
	}
	if vc, account, ok := c.Clients.Last(p); ok {
		return vc, account, nil
	}
	return nil, "", err
}

func secretError(err error, key types.NamespacedName) error {
	if apierrors.IsNotFound(err) {
		return errSecretNotFound{key: key}
	}
	return err
}

type errSecretNotFound struct{ key types.NamespacedName }

func (e errSecretNotFound) Error() string {
	return fmt.Sprintf("Secret %q with its credentials was not found in namespace %q; create it there", e.key.Name, e.key.Namespace)
}

// connectFailure: a missing object stalls (its creation triggers a
// reconcile); an API error is transient.
func connectFailure(err error, message string) *outcome {
	var missing errSecretNotFound
	if apierrors.IsNotFound(err) || errors.As(err, &missing) {
		out := stalled(v1.ReasonProviderNotReady, message, plan.RecheckSlow)
		return &out
	}
	out := retrying(v1.ReasonReconcileError, "Kubernetes API error: "+err.Error(), 0)
	return &out
}

// planInput is the plan's view of order o; reverify says whether the
// object observed is a request still to be reverified.
func (conn *Connection) planInput(o *v1.VerificationOrder, reverify bool, now time.Time) plan.Input {
	return plan.Input{
		Vendor:       conn.vendor.Name,
		Desired:      desired(o),
		Reverify:     reverify,
		Capabilities: conn.vendor.Capabilities,
		LastApplied:  mayHaveApplied(o),
		Now:          now,
	}
}

// mayHaveApplied is the last action that may have reached the vendor: the
// last one it accepted, or a cancel whose answer was lost.
func mayHaveApplied(o *v1.VerificationOrder) providers.Action {
	if o.Status.LastAppliedAction == "" && o.Status.CancelRequestedTime != nil {
		return providers.ActionCancel
	}
	return providers.Action(o.Status.LastAppliedAction)
}

func desired(o *v1.VerificationOrder) v1.DesiredState {
	if o.Spec.State == "" {
		return v1.DesiredActive
	}
	return o.Spec.State
}
