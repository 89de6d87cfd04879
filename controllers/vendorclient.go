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
	"github.com/ordersync/verification-operator/controllers/plan"
	"github.com/ordersync/verification-operator/providers"
)

// vendorClient is a resolved provider: the vendor's description and a client
// built from the provider's Secret.
type vendorClient struct {
	vendor providers.Vendor
	client providers.Client
	// poll is the provider's pollInterval.
	poll time.Duration
}

// resolve turns the order's provider and Secret into a client, or
// the Stalled outcome that tells a person what is missing.
func (r *VerificationOrderReconciler) resolve(ctx context.Context, o *v1.VerificationOrder) (*vendorClient, *outcome) {
	p := &v1.VerificationProvider{}
	if err := r.Get(ctx, types.NamespacedName{Namespace: o.Namespace, Name: o.Spec.ProviderRef.Name}, p); err != nil {
		return nil, resolveFailure(err, fmt.Sprintf("VerificationProvider %q was not found in namespace %q; create it or fix spec.providerRef.", o.Spec.ProviderRef.Name, o.Namespace))
	}
	vendor, err := r.Clients.Registry.Get(string(p.Spec.Vendor))
	if err != nil {
		out := stalled(v1.ReasonProviderNotReady, err.Error(), false, recheckNever)
		return nil, &out
	}
	c, err := resolveClient(ctx, r.Client, r.APIReader, r.Clients, p)
	if err != nil {
		if providers.KindOf(err) == providers.KindUnauthorized {
			out := errorOutcome(err, vendor.Name, "")
			return nil, &out
		}
		return nil, resolveFailure(err, fmt.Sprintf("VerificationProvider %q: %v", p.Name, err))
	}
	vc := &vendorClient{vendor: vendor, client: c, poll: defaultPollInterval}
	if p.Spec.PollInterval != nil {
		vc.poll = p.Spec.PollInterval.Duration
	}
	return vc, nil
}

// resolveClient returns the cached client for p, reading the Secret's data
// only when its resourceVersion changed. The cache holds Secret metadata only.
func resolveClient(ctx context.Context, cached, live client.Reader, clients *ClientCache, p *v1.VerificationProvider) (providers.Client, error) {
	key := types.NamespacedName{Namespace: p.Namespace, Name: p.Spec.CredentialsSecretRef.Name}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := cached.Get(ctx, key, meta); err != nil {
		return nil, secretError(err, key.Name)
	}
	if c, ok := clients.Cached(p, Version(p, meta)); ok {
		return c, nil
	}
	secret := &corev1.Secret{}
	if err := live.Get(ctx, key, secret); err != nil {
		return nil, secretError(err, key.Name)
	}
	return clients.Build(p, secret)
}

func secretError(err error, name string) error {
	if apierrors.IsNotFound(err) {
		return errSecretNotFound{name: name}
	}
	return err
}

type errSecretNotFound struct{ name string }

func (e errSecretNotFound) Error() string {
	return fmt.Sprintf("Secret %q with its credentials was not found; create it in the provider's namespace", e.name)
}

// resolveFailure: a missing object stalls (its creation triggers a
// reconcile); an API error is transient.
func resolveFailure(err error, message string) *outcome {
	var missing errSecretNotFound
	if apierrors.IsNotFound(err) || errors.As(err, &missing) {
		out := stalled(v1.ReasonProviderNotReady, message, false, recheckSlow)
		return &out
	}
	out := outcome{phase: phaseRetrying, reason: v1.ReasonReconcileErr, message: "Kubernetes API error: " + err.Error()}
	return &out
}

// planInput is the plan's view of the order.
func (vc *vendorClient) planInput(o *v1.VerificationOrder, now time.Time) plan.Input {
	return plan.Input{
		Vendor:       vc.vendor.Name,
		Desired:      desired(o),
		Reverify:     o.Spec.Reverification != nil && o.Status.OrderID == "",
		Capabilities: vc.vendor.Capabilities,
		LastApplied:  providers.Action(o.Status.LastAppliedAction),
		Now:          now,
	}
}

// target is the client and id to observe and act on: the order in
// spec.orderID; for a reverification, the request to reverify until it has
// been reverified, then the request the vendor created.
func (vc *vendorClient) target(o *v1.VerificationOrder) (providers.Client, string) {
	if o.Spec.Reverification == nil {
		return vc.client, o.Spec.OrderID
	}
	rc := vc.client.(providers.Reverifier).Reverified() // plan.Preflight refused vendors without it
	if o.Status.OrderID != "" {
		return rc, o.Status.OrderID
	}
	return rc, o.Spec.Reverification.VerificationRequestID
}

func desired(o *v1.VerificationOrder) v1.DesiredState {
	if o.Spec.State == "" {
		return v1.DesiredActive
	}
	return o.Spec.State
}
