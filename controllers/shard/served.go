package shard

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// ServedOnly is c, except that a provider this shard does not serve reads
// as not found, and is left out of lists: the provider reconciler given it
// keeps no status, no in-use finalizer and no declared limits of another
// shard's providers (it counts its own shard's orders only, and would
// write counts, or drop a finalizer, that are not its to write), and the
// order reconciler waits for the limits of its own shard's providers only
// after a start (another shard's are never declared here). A shard that
// serves everything gets c itself.
func ServedOnly(c client.Client, s Shard) client.Client {
	if !s.Sharded() {
		return c
	}
	return servedOnly{Client: c, shard: s}
}

type servedOnly struct {
	client.Client
	shard Shard
}

func (c servedOnly) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := c.Client.Get(ctx, key, obj, opts...); err != nil {
		return err
	}
	if _, provider := obj.(v1.Provider); provider && !c.shard.Serves(obj) {
		resource := "verificationproviders"
		if _, cluster := obj.(*v1.ClusterVerificationProvider); cluster {
			resource = "clusterverificationproviders"
		}
		return apierrors.NewNotFound(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: resource}, key.Name)
	}
	return nil
}

func (c servedOnly) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if err := c.Client.List(ctx, list, opts...); err != nil {
		return err
	}
	switch l := list.(type) {
	case *v1.VerificationProviderList:
		l.Items = served(l.Items, c.shard)
	case *v1.ClusterVerificationProviderList:
		l.Items = served(l.Items, c.shard)
	}
	return nil
}

// served are the items s serves, in their order.
func served[T any, P interface {
	*T
	client.Object
}](items []T, s Shard) []T {
	out := items[:0:0]
	for i := range items {
		if s.Serves(P(&items[i])) {
			out = append(out, items[i])
		}
	}
	return out
}
