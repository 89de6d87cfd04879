package shard

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
)

// Router keeps each order on its provider's shard: the order carries the
// provider's shard label, which is what every instance's cache of orders
// selects on. An instance that finds an order of a provider it does not
// serve relabels it and does nothing else with it: the order leaves this
// instance's cache and enters its shard's. New orders carry no label, so
// they reach the default instance, which routes them the same way; when a
// provider is relabeled, the instance that served it still caches its
// orders, hears of the provider's change, and routes them after it.
type Router struct {
	// Client reads providers from the cache (every instance caches all of
	// them) and patches orders.
	Client client.Client
	Shard  Shard
	// Moved, when set, is called after an order was sent to another shard
	// (Accounts.Nudge: the account it leaves may be free now).
	Moved func()
	// Relabeled, when set, is told of a provider whose shard label changed
	// (connection.BudgetReports.Refresh: the provider reconciler looks at
	// it now, to declare it in its new shard and forget it in its old).
	Relabeled func(v1.Provider)
}

// Route makes o carry its provider's shard label. moved says o's provider
// is served by another shard: the caller must make no vendor call, write
// nothing else and forget what it keeps about o. A provider that does not
// exist routes nothing (the order stays, and says its provider is
// missing). Call it before anything else looks at o, deletion included: a
// deleted order's cancel belongs to its provider's shard too.
func (r *Router) Route(ctx context.Context, o *v1.VerificationOrder) (moved bool, err error) {
	if !r.Shard.Sharded() {
		return false, nil // the only instance: every order is its own
	}
	p, key := connection.ProviderOf(o)
	if err := r.Client.Get(ctx, key, p); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	want, labeled := p.GetLabels()[Label]
	have, carries := o.GetLabels()[Label]
	if labeled != carries || want != have {
		before := o.DeepCopy()
		l := o.GetLabels()
		if l == nil {
			l = map[string]string{}
		}
		if labeled {
			l[Label] = want
		} else {
			delete(l, Label)
		}
		o.SetLabels(l)
		if err := r.Client.Patch(ctx, o, client.MergeFrom(before)); err != nil {
			if apierrors.IsNotFound(err) {
				return true, nil // gone meanwhile: nothing left to do here
			}
			return false, err
		}
		log.FromContext(ctx).Info("routed an order to its provider's shard", "shard", Of(p), "from", ofLabel(have, carries), "served", r.Shard.Serves(p))
	}
	moved = !r.Shard.Serves(p)
	if moved && r.Moved != nil {
		r.Moved()
	}
	return moved, nil
}

func ofLabel(v string, ok bool) string {
	if !ok {
		return DefaultName
	}
	return v
}
