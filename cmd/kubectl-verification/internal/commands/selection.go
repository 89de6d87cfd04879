package commands

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
)

// selectFlags choose orders, as kubectl get does, and by provider.
type selectFlags struct {
	allNamespaces bool
	labels        string
	provider      string
}

// bind adds the flags to cmd, completing --provider from the providers the
// other flags select.
func (f *selectFlags) bind(cmd *cobra.Command, e *env) {
	fs := cmd.Flags()
	fs.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "Orders in every namespace")
	fs.StringVarP(&f.labels, "selector", "l", "", "Orders whose labels match this selector (e.g. team=lending,tier!=test)")
	fs.StringVar(&f.provider, "provider", "", "Orders whose provider has this name")
	_ = cmd.RegisterFlagCompletionFunc("provider", e.completeProviders(f))
}

// set reports whether any selection flag was given.
func (f *selectFlags) set() bool {
	return f.allNamespaces || f.labels != "" || f.provider != ""
}

func (f *selectFlags) selection(namespace string, names []string) (cluster.Selection, error) {
	s := cluster.Selection{Namespace: namespace, AllNamespaces: f.allNamespaces, Provider: f.provider, Names: names}
	if f.labels != "" {
		sel, err := labels.Parse(f.labels)
		if err != nil {
			return s, fmt.Errorf("--selector: %w", err)
		}
		s.Labels = sel
	}
	return s, s.Validate()
}

// connectSelecting connects, and reads the selection the flags and names
// make in the namespace of -n or the context.
func (e *env) connectSelecting(f *selectFlags, names []string) (client.WithWatch, cluster.Selection, error) {
	c, namespace, err := e.connect()
	if err != nil {
		return nil, cluster.Selection{}, err
	}
	s, err := f.selection(namespace, names)
	return c, s, err
}

// selectOrders lists the selected orders; an order named that does not
// exist is an error, as with kubectl get.
func selectOrders(ctx context.Context, c client.Reader, s cluster.Selection) ([]v1.VerificationOrder, error) {
	orders, _, err := cluster.Orders(ctx, c, s)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, name := range s.Names {
		if !slices.ContainsFunc(orders, func(o v1.VerificationOrder) bool { return o.Name == name }) {
			missing = append(missing, name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("no VerificationOrder %s in namespace %q matches", strings.Join(missing, ", "), s.Namespace)
	}
	return orders, nil
}
