// Package connection turns an order's provider and its Secret into a
// connection to the vendor: a client holding the provider's credentials,
// tied to the request budget of the vendor account it calls. It owns
// everything about reaching a vendor that both reconcilers and the webhook
// receiver share: provider lookups, Secret reads (data only when the
// Secret changed), the client cache, account names and budget reports.
package connection

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
	"github.com/ordersync/verification-operator/providers"
)

// Connection is an order's provider, resolved: the vendor's description, a
// client holding the provider's credentials, and how often to poll.
type Connection struct {
	Vendor providers.Vendor
	Client providers.Client
	// Budget is the vendor account's request budget; Account names it.
	Budget  *budget.Budget
	Account string
	// Poll is the provider's pollInterval, before the budget stretches it.
	Poll time.Duration
	// Provider is the order's provider, of either kind, as read.
	Provider v1.Provider
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
	// Claim, when set, is asked whether this instance may spend the
	// account (shard.go); nil: always.
	Claim Claim
}

// Unusable is why an order's provider cannot serve it until someone
// changes something: the condition reason and a message for a person.
type Unusable struct {
	Reason  v1.Reason
	Message string
	// Permanent: only a change to the order or its provider helps. Otherwise
	// an outside fix (a Secret created) may, and it is worth checking now
	// and then.
	Permanent bool
}

func (e *Unusable) Error() string { return e.Message }

// CredentialsRejected says the vendor's client refused the Secret's
// credentials (Err is a *providers.Error of KindUnauthorized).
type CredentialsRejected struct {
	Vendor string
	Err    error
}

func (e *CredentialsRejected) Error() string { return e.Err.Error() }
func (e *CredentialsRejected) Unwrap() error { return e.Err }

// Connect resolves the order's provider. Its errors are *Unusable,
// *CredentialsRejected, *AccountHeld, or a Kubernetes API error (transient).
func (c *Connector) Connect(ctx context.Context, o *v1.VerificationOrder) (*Connection, error) {
	p, err := c.provider(ctx, o)
	if err != nil {
		return nil, err
	}
	spec := p.ProviderSpec()
	vendor, err := c.Registry.Get(string(spec.Vendor))
	if err != nil {
		return nil, &Unusable{Reason: v1.ReasonProviderNotReady, Message: err.Error(), Permanent: true}
	}
	vc, account, err := c.client(ctx, o, p, vendor)
	if err != nil {
		if providers.KindOf(err) == providers.KindUnauthorized {
			return nil, &CredentialsRejected{Vendor: vendor.Name, Err: err}
		}
		return nil, failure(err, fmt.Sprintf("%s: %v", Describe(KindOf(p), p.GetName()), err))
	}
	limits := budget.LimitsOf(p, vendor)
	if c.Claim != nil {
		if err := c.Claim(ctx, account, p, limits); err != nil {
			return nil, err
		}
	}
	return &Connection{Vendor: vendor, Client: vc, Poll: PollInterval(p), Provider: p,
		Budget: c.Clients.Budget(account, limits), Account: account}, nil
}

// NeverServes says o names a provider that can never serve it as it is:
// a ClusterVerificationProvider that does not select o's namespace, or one
// this operator does not serve. Such an order is no user of the provider:
// it takes no finalizer, so it cannot hold up the provider's deletion.
func (c *Connector) NeverServes(ctx context.Context, o *v1.VerificationOrder) bool {
	if !o.Spec.ProviderRef.Cluster() {
		return false
	}
	_, err := c.provider(ctx, o)
	var unusable *Unusable
	return errors.As(err, &unusable) && unusable.Permanent
}

// provider reads the order's provider, and checks that a cluster provider
// serves the order's namespace.
func (c *Connector) provider(ctx context.Context, o *v1.VerificationOrder) (v1.Provider, error) {
	ref := o.Spec.ProviderRef
	if ref.Cluster() && !c.ClusterProviders {
		return nil, &Unusable{Reason: v1.ReasonProviderNotReady, Permanent: true, Message: fmt.Sprintf(
			"This operator does not serve ClusterVerificationProviders (--cluster-providers=false); use a VerificationProvider in namespace %q.", o.Namespace)}
	}
	p, key := ProviderOf(o)
	if err := c.Cached.Get(ctx, key, p); err != nil {
		where := ""
		if !ref.Cluster() {
			where = fmt.Sprintf(" in namespace %q", o.Namespace)
		}
		return nil, failure(err, fmt.Sprintf("%s was not found%s; create it or fix spec.providerRef.", Describe(ref.Kind, ref.Name), where))
	}
	if cluster, ok := p.(*v1.ClusterVerificationProvider); ok {
		var refused errNotSelected
		switch err := Selects(ctx, c.Cached, cluster, o.Namespace); {
		case errors.As(err, &refused):
			return nil, &Unusable{Reason: v1.ReasonProviderNotAllowed, Message: err.Error(), Permanent: true}
		case err != nil:
			return nil, failure(err, err.Error())
		}
	}
	return p, nil
}

// client returns the cached client for p, or builds one from the Secret.
func (c *Connector) client(ctx context.Context, o *v1.VerificationOrder, p v1.Provider, vendor providers.Vendor) (providers.Client, string, error) {
	key := SecretKey(p, c.OperatorNamespace)
	current, err := c.secretMeta(ctx, key)
	if err != nil {
		return c.lastGood(p, o, secretError(err, key))
	}
	if vc, account, ok := c.Clients.Cached(p, Version(p, current)); ok {
		return vc, account, nil
	}
	secret := &corev1.Secret{}
	if err := c.Live.Get(ctx, key, secret); err != nil {
		return c.lastGood(p, o, secretError(err, key))
	}
	return c.Clients.Build(p, vendor, secret)
}

// Credentials returns the data of p's credentials Secret, for the webhook
// receiver: read past the cache only when the Secret changed.
func (c *Connector) Credentials(ctx context.Context, p v1.Provider) (map[string][]byte, error) {
	key := SecretKey(p, c.OperatorNamespace)
	current, err := c.secretMeta(ctx, key)
	if err != nil {
		if apierrors.IsNotFound(err) {
			c.Clients.forgetSecretData(key)
		}
		return nil, err
	}
	if data, ok := c.Clients.secretData(key, current.GetResourceVersion()); ok {
		return data, nil
	}
	secret := &corev1.Secret{}
	if err := c.Live.Get(ctx, key, secret); err != nil {
		return nil, err
	}
	c.Clients.keepSecretData(key, secret.ResourceVersion, secret.Data)
	return secret.Data, nil
}

// secretMeta reads the Secret's metadata from the cache: enough to tell
// whether what was read before is still current.
func (c *Connector) secretMeta(ctx context.Context, key types.NamespacedName) (metav1.Object, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Cached.Get(ctx, key, meta); err != nil {
		return nil, err
	}
	return meta, nil
}

// lastGood lets the cancel of an order being deleted use the credentials
// last built for its provider when the Secret is already gone, as it is
// when a namespace is deleted: the provider's in-use finalizer keeps the
// provider, but nothing keeps the Secret.
func (c *Connector) lastGood(p v1.Provider, o *v1.VerificationOrder, err error) (providers.Client, string, error) {
	var missing SecretNotFound
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
		return SecretNotFound{Key: key}
	}
	return err
}

// SecretNotFound is the error of a provider whose credentials Secret does not exist.
type SecretNotFound struct{ Key types.NamespacedName }

func (e SecretNotFound) Error() string {
	return fmt.Sprintf("Secret %q with its credentials was not found in namespace %q; create it there", e.Key.Name, e.Key.Namespace)
}

// failure: a missing object makes the provider unusable until it is
// created (which triggers a reconcile); any other error is the Kubernetes
// API's, and transient.
func failure(err error, message string) error {
	var missing SecretNotFound
	if apierrors.IsNotFound(err) || errors.As(err, &missing) {
		return &Unusable{Reason: v1.ReasonProviderNotReady, Message: message}
	}
	return err
}
