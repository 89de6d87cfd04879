// Package conflict turns an optimistic-concurrency conflict into a quiet
// requeue. A conflict means only that the object changed since the cache
// delivered it: the newer version is reconciled from scratch. It is not a
// failure, and a person reading the log must not take it for one (a fresh
// `make sandbox` used to show "Reconciler error ... the object has been
// modified" on its first screen).
package conflict

import (
	"context"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Retry is how soon an object whose write met a newer version is looked
// at again.
const Retry = 100 * time.Millisecond

// Quiet returns what a reconcile that ended in res, err should return: a
// conflict becomes a requeue after Retry, logged at debug level.
func Quiet(ctx context.Context, res ctrl.Result, err error) (ctrl.Result, error) {
	if !apierrors.IsConflict(err) {
		return res, err
	}
	log.FromContext(ctx).V(1).Info("the object changed meanwhile; reconciling the newer version", "error", err.Error())
	return ctrl.Result{RequeueAfter: Retry}, nil
}
