package cluster

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Preview is what applying one VerificationOrder manifest would do.
type Preview struct {
	// Existing is the order as it is now; nil when applying creates it.
	Existing *v1.VerificationOrder
	// Applied is the order as the API server would store it; nil when it
	// refused the manifest.
	Applied *v1.VerificationOrder
	// Refused is the API server's refusal, naming what is wrong.
	Refused error
}

// DryRunApply asks the API server what applying manifest u would store:
// a server-side apply with dry run, so that its validation (schema, enums,
// CEL rules such as immutability) answers and nothing is written. Fields
// other managers own are taken over (force), as only the outcome matters.
// namespace is used when u names none. Only a failure to ask is an error.
func DryRunApply(ctx context.Context, c client.Client, u *unstructured.Unstructured, namespace string) (Preview, error) {
	u = u.DeepCopy()
	if u.GetNamespace() == "" {
		u.SetNamespace(namespace)
	}
	var p Preview
	if u.GetName() == "" {
		// Apply needs a name; the client refuses before asking the server.
		p.Refused = errors.New("metadata.name: Required value: apply needs a name (generateName cannot be applied)")
		return p, nil
	}
	existing := &v1.VerificationOrder{}
	err := c.Get(ctx, types.NamespacedName{Namespace: u.GetNamespace(), Name: u.GetName()}, existing)
	switch {
	case err == nil:
		p.Existing = existing
	case !apierrors.IsNotFound(err):
		return p, fmt.Errorf("reading VerificationOrder %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	err = c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.DryRunAll, client.ForceOwnership, client.FieldOwner(FieldManager))
	if err != nil {
		if refusal(err) {
			p.Refused = err
			return p, nil
		}
		return p, fmt.Errorf("dry-run apply of VerificationOrder %s/%s: %w", u.GetNamespace(), u.GetName(), err)
	}
	p.Applied = &v1.VerificationOrder{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p.Applied); err != nil {
		return p, fmt.Errorf("reading the dry-run result: %w", err)
	}
	return p, nil
}

// refusal: the API server answered that this manifest cannot be applied
// (4xx: invalid, immutable, no such namespace, forbidden), or has no such
// kind or version, rather than failing to answer.
func refusal(err error) bool {
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code >= 400 && code < 500
	}
	return meta.IsNoMatchError(err)
}
