// Package simulators lists every vendor simulator: the sandbox, the
// controller suites and the end-to-end suite start vendors from here. A
// vendor is one line below, as it is one line in providers/registry.
package simulators

import (
	"github.com/ordersync/verification-operator/providers/simkit"

	accountchek "github.com/ordersync/verification-operator/providers/accountchek/simulator"
	truework "github.com/ordersync/verification-operator/providers/truework/simulator"
	truv "github.com/ordersync/verification-operator/providers/truv/simulator"
	txcloud "github.com/ordersync/verification-operator/providers/txcloud/simulator"
)

// Sim is a running simulator.
type Sim = simkit.Sim

// Simulated is one simulated vendor.
type Simulated = simkit.Entry

// All returns every simulated vendor.
func All() []Simulated {
	return []Simulated{accountchek.Entry(), truework.Entry(), truv.Entry(), txcloud.Entry()}
}

// Get returns the named vendor.
func Get(name string) Simulated {
	for _, v := range All() {
		if v.Name == name {
			return v
		}
	}
	panic("no simulator for vendor " + name)
}
