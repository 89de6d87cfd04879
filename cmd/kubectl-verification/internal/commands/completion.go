package commands

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
)

// completionTimeout bounds what a completion asks of the API server: a
// shell waiting on <TAB> for an unreachable cluster is worse than no
// suggestion.
const completionTimeout = 5 * time.Second

// completeFunc is a completion that asks the API server: c is connected
// with the command's flags (--kubeconfig, --context, -n), and namespace is
// the one -n or the context names. It returns every candidate; complete
// keeps those that start with what was typed.
type completeFunc func(ctx context.Context, c client.Reader, namespace string) ([]string, error)

// complete turns list into a cobra completion. An error suggests nothing:
// the shell then falls back to nothing rather than to file names.
func (e *env) complete(list completeFunc) cobra.CompletionFunc {
	return func(cmd *cobra.Command, taken []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		ctx, cancel := context.WithTimeout(cmd.Context(), completionTimeout)
		defer cancel()
		c, namespace, err := e.connect()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := list(ctx, c, namespace)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, name := range names {
			if strings.HasPrefix(name, toComplete) && !slices.Contains(taken, name) {
				out = append(out, name)
			}
		}
		slices.Sort(out)
		return slices.Compact(out), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeNamespaces completes -n with the cluster's namespaces.
func (e *env) completeNamespaces(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return e.complete(func(ctx context.Context, c client.Reader, _ string) ([]string, error) {
		return cluster.Namespaces(ctx, c)
	})(cmd, nil, toComplete)
}

// completeOrders completes order names: those of the orders the flags
// select (-n, -l, --provider), but not those already given. With -A there
// are none to suggest: names need one namespace.
func (e *env) completeOrders(f *selectFlags) cobra.CompletionFunc {
	return func(cmd *cobra.Command, names []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if f.allNamespaces {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return e.complete(func(ctx context.Context, c client.Reader, namespace string) ([]string, error) {
			s, err := f.selection(namespace, nil)
			if err != nil {
				return nil, err
			}
			orders, _, err := cluster.Orders(ctx, c, s)
			out := make([]string, 0, len(orders))
			for _, o := range orders {
				out = append(out, o.Name)
			}
			return out, err
		})(cmd, names, toComplete)
	}
}

// completeProviders completes --provider with the providers in the
// namespace -n names, or in every namespace with -A.
func (e *env) completeProviders(f *selectFlags) cobra.CompletionFunc {
	return e.complete(func(ctx context.Context, c client.Reader, namespace string) ([]string, error) {
		provs, err := cluster.Providers(ctx, c, cluster.Selection{Namespace: namespace, AllNamespaces: f.allNamespaces})
		out := make([]string, 0, len(provs))
		for _, p := range provs {
			out = append(out, p.Name)
		}
		return out, err
	})
}
