package index

import (
	"context"

	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersync/verification-operator/internal/webhook"
)

// vendorIDIndex is the webhook receiver's index of the orders by the
// vendor ids they manage, bucketed: nearly every active order's ids are
// its own.
var vendorIDIndex = bucketed{name: webhook.OrderVendorIDIndex, keysOf: webhook.VendorIDs, has: webhook.ManagesVendorID}

// SetupVendorIDs indexes the orders in informers by the buckets of the
// vendor ids they manage, for the webhook receiver's Orders, as
// SetupClaims does the claims. Only a manager that receives webhooks
// needs it.
func SetupVendorIDs(ctx context.Context, informers cache.Informers, idx client.FieldIndexer, reader client.Reader) (Lookup, error) {
	return vendorIDIndex.setup(ctx, informers, idx, reader)
}
