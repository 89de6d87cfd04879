package commands

import (
	"cmp"
	"context"
	"fmt"
	"io"

	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/manifests"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/orderplan"
)

// planManifests plans applying the VerificationOrders in path ("-":
// stdin): each is dry-run applied, and planned from the result and the
// order's last status. Other kinds are skipped with a note.
func (e *env) planManifests(ctx context.Context, c client.Client, namespace, path string, stdin io.Reader) ([]orderplan.Entry, error) {
	var docs []manifests.Document
	var err error
	if path == "-" {
		docs, err = manifests.Read(stdin, "stdin")
	} else {
		docs, err = manifests.Load(path)
	}
	if err != nil {
		return nil, err
	}
	resolver := cluster.NewResolver(c, e.registry)
	var entries []orderplan.Entry
	for _, doc := range docs {
		if !doc.IsVerificationOrder() {
			fmt.Fprintf(e.errOut, "note: %s: skipping %s: only VerificationOrders are planned\n", doc.Source, doc.Describe())
			continue
		}
		preview, err := cluster.DryRunApply(ctx, c, doc.Object, namespace)
		if err != nil {
			return nil, err
		}
		if preview.Refused != nil {
			ns := cmp.Or(doc.Object.GetNamespace(), namespace)
			name := cmp.Or(doc.Object.GetName(), "(no name)")
			entries = append(entries, orderplan.Refused(ns, name, fmt.Errorf("%s: %w", doc.Source, preview.Refused)))
			continue
		}
		o := preview.Applied
		p, err := resolver.Provider(ctx, o)
		if err != nil {
			return nil, err
		}
		if preview.Existing == nil {
			entries = append(entries, orderplan.ForecastNew(o, p, e.now()))
			continue
		}
		// The dry run answers with the stored status (an apply never
		// changes it): the new spec is planned against the controller's
		// last observation.
		entries = append(entries, orderplan.Forecast(o, p, e.now()))
	}
	return entries, nil
}
