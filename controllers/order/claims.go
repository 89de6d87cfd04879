package order

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/controllers/connection"
	"github.com/ordersync/verification-operator/controllers/index"
	"github.com/ordersync/verification-operator/controllers/plan"
)

// One vendor order has one owner. Two VerificationOrders may name the same
// vendor order at the same account, in two namespaces or through two
// provider objects (copies of one Secret); were both to manage it, one
// could cancel what the other's team wants kept, and two reverifications
// could be bought for one request. The owner is the oldest order that
// manages it (creationTimestamp, then namespace/name): a rule every replica
// and every restart agrees on, whatever order the reconciles come in. The
// others stall with OrderClaimed, make no vendor call, and take over, the
// oldest first, when the owner is deleted. Orders that only observe
// (managementPolicy ObserveOnly) never act, so they neither claim nor wait.

// claimedBy returns the owner of the vendor order o names at conn's
// account, when it is another order. A claim that cannot be looked up is
// an error, never "unclaimed": the order would act on a vendor order that
// another may own.
func (r *Reconciler) claimedBy(ctx context.Context, o *v1.VerificationOrder, conn *connection.Connection) (owner types.NamespacedName, claimed bool, _ error) {
	if o.Spec.ManagementPolicy == v1.ManagementObserveOnly {
		return types.NamespacedName{}, false, nil
	}
	oldest := o
	for _, key := range index.ClaimKeys(o) {
		others, err := r.Claims(ctx, key)
		if err != nil {
			return types.NamespacedName{}, false, err
		}
		for i := range others {
			other := &others[i]
			if other.UID == o.UID || other.Spec.ManagementPolicy == v1.ManagementObserveOnly || !older(other, oldest) {
				continue
			}
			if c, err := r.Connector.Connect(ctx, other); err == nil && c.Account == conn.Account {
				oldest = other
			}
		}
	}
	return client.ObjectKeyFromObject(oldest), oldest.UID != o.UID, nil
}

// older: a was created before b (their names break a tie).
func older(a, b *v1.VerificationOrder) bool {
	if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	}
	return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
}

// claimsUnknownOutcome: who owns the vendor order could not be told, so
// no call is made; retried with backoff.
func claimsUnknownOutcome(err error) outcome {
	return retrying(v1.ReasonReconcileError, "Looking up which VerificationOrder manages this vendor order failed, so no vendor call is made until it is known: "+err.Error(), 0)
}

func claimedOutcome(owner types.NamespacedName) outcome {
	return stalled(v1.ReasonOrderClaimed, fmt.Sprintf(
		"VerificationOrder %s already manages this vendor order at the same account, so this one makes no vendor call. Delete one of them; this order takes over when %s is deleted.",
		owner, owner.Name), plan.RecheckNever)
}

// claimants are the other orders that claim what obj claimed: when obj is
// deleted, or stops managing, the oldest of them takes over.
func (r *Reconciler) claimants(ctx context.Context, obj client.Object) []reconcile.Request {
	o := obj.(*v1.VerificationOrder)
	var reqs []reconcile.Request
	for _, key := range index.ClaimKeys(o) {
		others, err := r.Claims(ctx, key)
		if err != nil {
			continue
		}
		for i := range others {
			if others[i].UID != o.UID {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&others[i])})
			}
		}
	}
	return reqs
}
