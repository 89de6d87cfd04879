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

// All returns every simulated vendor, in the order the docs list them. A
// new vendor goes last: a chaos run draws its orders vendor by vendor in
// this order, and reordering them would change the run a seed replays
// (docs/reliability.md).
func All() []Simulated {
	return []Simulated{truework.Entry(), truv.Entry(), accountchek.Entry(), txcloud.Entry()}
}

// Get returns the named vendor; it panics when there is none.
func Get(name string) Simulated {
	v, ok := Lookup(name)
	if !ok {
		panic("no simulator for vendor " + name)
	}
	return v
}

// Lookup returns the named vendor, and whether there is one.
func Lookup(name string) (Simulated, bool) {
	for _, v := range All() {
		if v.Name == name {
			return v, true
		}
	}
	return Simulated{}, false
}
