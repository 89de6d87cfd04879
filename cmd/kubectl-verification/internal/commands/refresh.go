package commands

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
)

// defaultRefreshTimeout bounds the wait for the controller to look again.
const defaultRefreshTimeout = 60 * time.Second

type refreshFlags struct {
	selectFlags
	wait    bool
	timeout time.Duration
}

func newRefresh(e *env) *cobra.Command {
	f := &refreshFlags{}
	cmd := &cobra.Command{
		Use:   "refresh [NAME...]",
		Short: "Ask the operator to observe orders at their vendor now",
		Long: `refresh annotates each selected VerificationOrder with
` + cluster.RefreshAnnotation + `=<now>, which makes the operator reconcile
it at once: it reads the order at the vendor again (unless it is paused, or
terminal: a finished order never changes) and plans from that. With --wait it
waits until status shows the new observation.`,
		Example: `  kubectl verification refresh -n lending loan-4411-employment --wait
  kubectl verification refresh -A -l team=lending`,
		ValidArgsFunction: e.completeOrders(&f.selectFlags),
		RunE: func(cmd *cobra.Command, names []string) error {
			c, s, err := e.connectSelecting(&f.selectFlags, names)
			if err != nil {
				return err
			}
			orders, err := selectOrders(cmd.Context(), c, s)
			if err != nil {
				return err
			}
			return e.refresh(cmd.Context(), c, s, orders, f)
		},
	}
	f.bind(cmd, e)
	cmd.Flags().BoolVar(&f.wait, "wait", false, "Wait until each order has been observed again")
	cmd.Flags().DurationVar(&f.timeout, "timeout", defaultRefreshTimeout, "How long --wait waits")
	return cmd
}

func (e *env) refresh(ctx context.Context, c client.WithWatch, s cluster.Selection, orders []v1.VerificationOrder, f *refreshFlags) error {
	refreshes, err := cluster.RequestRefresh(ctx, c, orders, e.now())
	if err != nil {
		return err
	}
	for _, r := range refreshes {
		line := r.Key().String() + ": refresh requested"
		if r.Skipped != "" {
			line += "; not observed again (" + r.Skipped + ")"
		}
		fmt.Fprintln(e.out, line)
	}
	if !f.wait {
		return nil
	}
	left, err := await(ctx, c, s, refreshes, f.timeout)
	if err != nil {
		return err
	}
	for _, r := range left {
		fmt.Fprintf(e.errOut, "%s: not observed again within %s\n", r.Key(), f.timeout)
	}
	if len(left) > 0 {
		return exitCode(1)
	}
	return e.reportObserved(ctx, c, s, refreshes)
}

// reportObserved says what the controller saw at each refreshed order.
func (e *env) reportObserved(ctx context.Context, c client.Reader, s cluster.Selection, refreshes []cluster.Refresh) error {
	orders, _, err := cluster.Orders(ctx, c, s)
	if err != nil {
		return err
	}
	for _, r := range refreshes {
		i := slices.IndexFunc(orders, func(o v1.VerificationOrder) bool { return o.Namespace == r.Order.Namespace && o.Name == r.Order.Name })
		if r.Skipped != "" || i < 0 {
			continue
		}
		fmt.Fprintf(e.out, "%s: %s\n", r.Key(), observation(&orders[i]))
	}
	return nil
}

// observation is what status says the controller last saw and made of it,
// e.g. "observed processing (active) at 2026-05-04T12:00:00Z; Ready False Canceling".
func observation(o *v1.VerificationOrder) string {
	s := "not observed"
	if t := o.Status.LastObservedTime; t != nil {
		s = fmt.Sprintf("observed %s (%s) at %s", o.Status.VendorState, o.Status.State, t.UTC().Format(time.RFC3339))
	}
	if c := meta.FindStatusCondition(o.Status.Conditions, v1.ConditionReady); c != nil {
		s += fmt.Sprintf("; Ready %s %s", c.Status, c.Reason)
	}
	return s
}

// await waits up to timeout for the refreshed orders' new observations.
func await(ctx context.Context, c client.WithWatch, s cluster.Selection, refreshes []cluster.Refresh, timeout time.Duration) ([]cluster.Refresh, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return cluster.AwaitRefresh(ctx, c, s, refreshes)
}
