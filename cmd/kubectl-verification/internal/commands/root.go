// Package commands is `kubectl verification`: plan, status and refresh.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/go-logr/logr"
	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/cluster"
	"github.com/ordersync/verification-operator/providers"
	"github.com/ordersync/verification-operator/providers/registry"
)

// exitCode ends the plugin with a code after its output said why.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

// Run runs the plugin with args (without the program name) and returns its
// exit code: 0, 1 on an error, or what a command chose (plan
// --detailed-exitcode).
func Run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// controller-runtime's client logs through this; the plugin reports
	// what matters itself.
	log.SetLogger(logr.Discard())
	root := newRoot(&env{out: stdout, errOut: stderr, registry: registry.Default(), now: time.Now})
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var code exitCode
	switch {
	case err == nil:
		return 0
	case errors.As(err, &code):
		return int(code)
	}
	fmt.Fprintln(stderr, "error:", err)
	return 1
}

// env is what every command shares: the connection flags, the output, the
// vendors' rules and the clock.
type env struct {
	loading   clientcmd.ClientConfigLoadingRules
	overrides clientcmd.ConfigOverrides
	out       io.Writer
	errOut    io.Writer
	registry  providers.Registry
	now       func() time.Time
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-verification",
		Short: "See what the verification operator will do, and ask it to look again",
		Long: `kubectl verification shows what the verification operator will do about
VerificationOrders (plan), how its providers and orders stand (status), and
asks it to observe orders again now (refresh).`,
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl verification"},
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	// The same connection flags as kubectl: --kubeconfig, --context, -n ...
	e.loading = *clientcmd.NewDefaultClientConfigLoadingRules()
	root.PersistentFlags().StringVar(&e.loading.ExplicitPath, clientcmd.RecommendedConfigPathFlag, "", "Path to the kubeconfig file to use")
	clientcmd.BindOverrideFlags(&e.overrides, root.PersistentFlags(), clientcmd.RecommendedConfigOverrideFlags(""))
	_ = root.RegisterFlagCompletionFunc(clientcmd.FlagNamespace, e.completeNamespaces)
	root.AddCommand(newPlan(e), newStatus(e), newRefresh(e))
	return root
}

// connect is a client for the current context, and the namespace that -n
// or the context names ("default" when neither does).
func (e *env) connect() (client.WithWatch, string, error) {
	config := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(&e.loading, &e.overrides)
	rest, err := config.ClientConfig()
	if err != nil {
		return nil, "", err
	}
	rest.UserAgent = "kubectl-verification"
	namespace, _, err := config.Namespace()
	if err != nil {
		return nil, "", err
	}
	c, err := cluster.NewClient(rest)
	return c, namespace, err
}
