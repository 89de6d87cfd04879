package commands

import (
	"github.com/spf13/cobra"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/overview"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/report"
)

func newStatus(e *env) *cobra.Command {
	f := &selectFlags{}
	var output outputFlag
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Summarize providers and orders: budgets, poll intervals, retention, states, stalls",
		Long: `status shows each VerificationProvider (vendor, Ready, the rate budget it
declares and whether its vendor account is held to it, how many orders it
polls and how often: the effective poll interval is marked stretched when
the polls would not fit the budget at spec.pollInterval; its retention,
spec.retention.ttlSecondsAfterFinished or "keep", and how many finished
orders it still holds, status.finishedOrders), the orders
counted by provider, observed state and Ready reason, and the Stalled
orders by reason. Providers that reach one account share its budget, held
to the strictest limits any of them declares: ACCOUNT LIMITS is "stricter"
where another provider's apply, and LIMITS DIFFER says whose and which.
-l selects orders only; --provider selects both. -o json|yaml prints the
same for scripts.`,
		Example: `  kubectl verification status -n lending
  kubectl verification status -A --provider truework
  kubectl verification status -n lending -o yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printer, err := output.printer()
			if err != nil {
				return err
			}
			c, s, err := e.connectSelecting(f, nil)
			if err != nil {
				return err
			}
			provs, err := cluster.Providers(cmd.Context(), c, s)
			if err != nil {
				return err
			}
			orders, _, err := cluster.Orders(cmd.Context(), c, s)
			if err != nil {
				return err
			}
			ov := overview.Build(provs, orders, e.registry)
			return e.show(printer, report.OverviewOf(ov), ov.Render)
		},
	}
	f.bind(cmd, e)
	output.bind(cmd)
	return cmd
}
