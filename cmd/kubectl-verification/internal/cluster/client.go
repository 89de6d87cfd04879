// Package cluster is what the plugin asks the API server: which orders and
// providers there are, a refresh and the wait for it, and a server-side
// dry run of a manifest.
package cluster

import (
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// FieldManager is the name the plugin's writes (a refresh annotation, a
// dry-run apply) are recorded under.
const FieldManager = "kubectl-verification"

// NewClient is a client for the operator's kinds that can also watch.
func NewClient(cfg *rest.Config) (client.WithWatch, error) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	return client.NewWithWatch(cfg, client.Options{Scheme: scheme})
}
