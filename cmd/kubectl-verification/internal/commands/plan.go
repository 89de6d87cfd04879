package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/orderplan"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/report"
)

type planFlags struct {
	selectFlags
	output    outputFlag
	refresh   bool
	timeout   time.Duration
	file      string
	unchanged bool
	detailed  bool
}

func newPlan(e *env) *cobra.Command {
	f := &planFlags{}
	cmd := &cobra.Command{
		Use:   "plan [NAME...]",
		Short: "Show what the operator will do about orders, or about applying manifests",
		Long: `plan shows, like terraform plan, what the operator will do next about each
selected VerificationOrder: the action its own plan makes from the order's
spec and the observation its status records, or why it is blocked.

  ~ to cancel, close or reverify      ? pending: not observed yet
  ! blocked: Stalled, or paused       + to create (with -f)
  x invalid: refused by the API server (with -f)

Orders with nothing to do are listed with -v. --refresh first asks the
operator to observe the orders again and waits for it (see refresh).

-o json|yaml prints the plan for scripts instead: every order, with its
action (Cancel, Close, Reverify, Create, Pending, Blocked, Invalid or
NoChange), and the counts (docs/kubectl-plugin.md has the schema).

-f FILE|DIR|- plans applying VerificationOrder manifests instead: each is
applied server-side with dry run, so the API server validates it (schema,
enums, immutable fields) without storing anything, and the result is
planned with the order's last observation. Other kinds are skipped.`,
		Example: `  kubectl verification plan -n lending
  kubectl verification plan -A -l team=lending --provider truework --refresh
  kubectl verification plan -f manifests/ --detailed-exitcode
  kubectl verification plan -A -o json | jq -r '.items[] | select(.action == "Blocked") | .name'
  kustomize build overlays/prod | kubectl verification plan -f -`,
		ValidArgsFunction: func(cmd *cobra.Command, names []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if f.file != "" {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return e.completeOrders(&f.selectFlags)(cmd, names, toComplete)
		},
		RunE: func(cmd *cobra.Command, names []string) error {
			if f.file != "" && (len(names) > 0 || f.set() || f.refresh) {
				return errors.New("-f plans the manifests given: it takes no order names, --all-namespaces, --selector, --provider or --refresh")
			}
			printer, err := f.output.printer()
			if err != nil {
				return err
			}
			c, s, err := e.connectSelecting(&f.selectFlags, names)
			if err != nil {
				return err
			}
			var entries []orderplan.Entry
			if f.file != "" {
				entries, err = e.planManifests(cmd.Context(), c, s.Namespace, f.file, cmd.InOrStdin())
			} else {
				entries, err = e.planOrders(cmd.Context(), c, s, f)
			}
			if err != nil {
				return err
			}
			table := func(w io.Writer) error { return orderplan.Render(w, entries, f.unchanged) }
			if err := e.show(printer, report.PlanOf(entries), table); err != nil {
				return err
			}
			return planExit(orderplan.Summarize(entries), f.detailed)
		},
	}
	f.bind(cmd, e)
	f.output.bind(cmd)
	cmd.Flags().BoolVar(&f.refresh, "refresh", false, "Ask the operator to observe the orders again first, and wait for it")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultRefreshTimeout, "How long --refresh waits")
	cmd.Flags().StringVarP(&f.file, "filename", "f", "", "Plan applying the VerificationOrders in this file, in the .yaml, .yml and .json files of this directory, or on stdin (-)")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
	cmd.Flags().BoolVarP(&f.unchanged, "verbose", "v", false, "Also list the orders with nothing to do (-o lists them always)")
	cmd.Flags().BoolVar(&f.detailed, "detailed-exitcode", false, "Exit 0 when nothing changes, 2 when something will (1 is an error)")
	return cmd
}

// planExit: invalid manifests fail the command, as kubectl apply would;
// with detailed, changes exit 2, as terraform plan -detailed-exitcode.
func planExit(s orderplan.Summary, detailed bool) error {
	switch {
	case s.Invalid > 0:
		return exitCode(1)
	case detailed && s.Changes() > 0:
		return exitCode(2)
	}
	return nil
}

// planOrders plans the selected orders as they are, after a refresh when
// asked for.
func (e *env) planOrders(ctx context.Context, c client.WithWatch, s cluster.Selection, f *planFlags) ([]orderplan.Entry, error) {
	orders, err := selectOrders(ctx, c, s)
	if err != nil {
		return nil, err
	}
	if f.refresh {
		if orders, err = e.refreshForPlan(ctx, c, s, orders, f.timeout); err != nil {
			return nil, err
		}
	}
	resolver := cluster.NewResolver(c, e.registry)
	entries := make([]orderplan.Entry, 0, len(orders))
	for i := range orders {
		p, err := resolver.Provider(ctx, &orders[i])
		if err != nil {
			return nil, err
		}
		entries = append(entries, orderplan.Forecast(&orders[i], p, e.now()))
	}
	return entries, nil
}

// refreshForPlan refreshes orders, waits up to timeout, warns about those
// not observed again in time (they are planned from what status had), and
// returns the orders as they are now.
func (e *env) refreshForPlan(ctx context.Context, c client.WithWatch, s cluster.Selection, orders []v1.VerificationOrder, timeout time.Duration) ([]v1.VerificationOrder, error) {
	refreshes, err := cluster.RequestRefresh(ctx, c, orders, e.now())
	if err != nil {
		return nil, err
	}
	left, err := await(ctx, c, s, refreshes, timeout)
	if err != nil {
		return nil, err
	}
	for _, r := range left {
		fmt.Fprintf(e.errOut, "warning: %s was not observed again within %s; planned from its last observation (%s)\n",
			r.Key(), timeout, lastObserved(&r.Order))
	}
	return selectOrders(ctx, c, s)
}

func lastObserved(o *v1.VerificationOrder) string {
	if t := o.Status.LastObservedTime; t != nil {
		return t.UTC().Format(time.RFC3339)
	}
	return "none"
}
