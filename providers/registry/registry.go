// Package registry lists the vendors built into the operator.
package registry

import (
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/accountchek"
	"github.com/ordersync/verification-operator/providers/truework"
	"github.com/ordersync/verification-operator/providers/truv"
	"github.com/ordersync/verification-operator/providers/txcloud"
)

// Default returns every vendor this operator supports.
func Default() providers.Registry {
	return providers.NewRegistry(accountchek.Vendor(), truework.Vendor(), truv.Vendor(), txcloud.Vendor())
}
