// Package shard splits the operator across instances, as Flux shards its
// controllers: each instance is started with --watch-label-selector over
// the shard label, serves the providers whose labels its selector matches,
// and reconciles their orders only. An order carries its provider's shard
// label (the Router copies it), so each instance caches and reconciles the
// orders of its own providers, and nobody else's. A vendor account's
// budget lives in one process, so the account itself is held by one
// instance at a time, through a Lease (accounts.go). docs/scaling.md is the
// operator's guide; docs/design.md ("Sharding") the reasoning.
package shard

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// Label is the shard key: on a VerificationProvider or a
// ClusterVerificationProvider, the shard that serves it; on a
// VerificationOrder, its provider's, copied by the Router.
const Label = "verification.ordersync.dev/shard"

// DefaultName names the instance that serves the providers no shard
// selects (no shard label), and, in metrics, those providers' shard.
const DefaultName = "default"

// Shard is what one instance serves: the objects its selector matches.
type Shard struct {
	// Selector is --watch-label-selector; labels.Everything() when unset.
	Selector labels.Selector
	// Expression is the selector as given ("" when unset).
	Expression string
	// Name is the shard's name, in metrics, Events and the account Leases:
	// the value of "shard=<name>", DefaultName for "!shard" and for an
	// instance that serves everything, else the selector itself.
	Name string
}

// Unsharded serves every provider and order: the operator as it runs
// without --watch-label-selector.
func Unsharded() Shard {
	return Shard{Selector: labels.Everything(), Name: DefaultName}
}

// Parse reads --watch-label-selector as Flux does (a label selector,
// e.g. "verification.ordersync.dev/shard=shard1" or
// "!verification.ordersync.dev/shard"). Empty serves everything. Every
// requirement must be on Label: orders carry that label only, so a
// selector on any other would split a provider's orders from it.
func Parse(expr string) (Shard, error) {
	if expr == "" {
		return Unsharded(), nil
	}
	ls, err := metav1.ParseToLabelSelector(expr)
	if err != nil {
		return Shard{}, fmt.Errorf("--watch-label-selector %q: %w", expr, err)
	}
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil {
		return Shard{}, fmt.Errorf("--watch-label-selector %q: %w", expr, err)
	}
	reqs, _ := sel.Requirements()
	for _, r := range reqs {
		if r.Key() != Label {
			return Shard{}, fmt.Errorf("--watch-label-selector %q: selects on label %q; shards are selected by %s only (e.g. %s=shard1, or !%s for the default instance)",
				expr, r.Key(), Label, Label, Label)
		}
	}
	return Shard{Selector: sel, Expression: expr, Name: nameOf(sel, reqs)}, nil
}

func nameOf(sel labels.Selector, reqs labels.Requirements) string {
	if len(reqs) != 1 {
		return sel.String()
	}
	r := reqs[0]
	switch r.Operator() {
	case selection.DoesNotExist:
		return DefaultName
	case selection.Equals, selection.DoubleEquals, selection.In:
		if v := r.Values().List(); len(v) == 1 {
			return v[0]
		}
	}
	return sel.String()
}

// Serves says whether this instance serves obj: a provider whose labels the
// selector matches, or an order that carries such a provider's label.
func (s Shard) Serves(obj metav1.Object) bool {
	if s.Selector == nil {
		return true
	}
	return s.Selector.Matches(labels.Set(obj.GetLabels()))
}

// Sharded says whether a selector was given: an instance without one
// serves everything.
func (s Shard) Sharded() bool { return s.Expression != "" }

// Of is the name of the shard that serves obj, by its label: the label's
// value, or DefaultName without one.
func Of(obj metav1.Object) string {
	if v, ok := obj.GetLabels()[Label]; ok {
		return v
	}
	return DefaultName
}

// LeaderElectionID is the name of the Lease the instance's replicas elect
// their leader with: base for the default instance (unsharded, or "!shard"),
// and base followed by a hash of the selector for any other shard, so that
// each shard has a leader of its own, as Flux derives its IDs from the
// selector. The default instance keeps base whether or not shards exist:
// turning sharding on rolls it over its own Lease, so the old pod (which
// serves every order) and the new one (the unlabeled ones) never lead at
// once.
func (s Shard) LeaderElectionID(base string) string {
	if s.Name == DefaultName {
		return base
	}
	sum := sha256.Sum256([]byte(s.Expression))
	return base + "-" + hex.EncodeToString(sum[:])[:8]
}

// CacheOptions confines the informer of VerificationOrders to the orders
// this shard serves (they carry their provider's shard label); providers,
// Secrets and Namespaces stay cached whole, as every instance needs every
// provider to route orders.
func (s Shard) CacheOptions(opts cache.Options) cache.Options {
	if !s.Sharded() {
		return opts
	}
	if opts.ByObject == nil {
		opts.ByObject = map[client.Object]cache.ByObject{}
	}
	opts.ByObject[&v1.VerificationOrder{}] = cache.ByObject{Label: s.Selector}
	return opts
}
