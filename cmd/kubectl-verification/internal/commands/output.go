package commands

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/printers"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/report"
)

// outputFormats are the values of -o besides the default, the table.
var outputFormats = []string{"json", "yaml"}

// outputFlag is -o: without it a command prints its table for people;
// with it, its report (package report) through cli-runtime's printers, with
// apiVersion and kind set from report.Scheme as kubectl sets them.
//
// It is not genericclioptions.PrintFlags: that package also holds
// kubectl's connection and resource-builder flags, and linking it would
// bring kustomize, every k8s.io/api group and a disk cache into the plugin
// (40 MB to 73 MB) for this one flag.
type outputFlag struct {
	format string
}

func (f *outputFlag) bind(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.format, "output", "o", "", "Output format: "+strings.Join(outputFormats, " or ")+" (default: a table for people)")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(outputFormats, cobra.ShellCompDirectiveNoFileComp))
}

// printer is the printer -o asks for, nil for the table. Commands make it
// before they ask anything of the API server, so that a misspelled -o
// fails before plan --refresh has annotated any order.
func (f *outputFlag) printer() (printers.ResourcePrinter, error) {
	var p printers.ResourcePrinter
	switch strings.ToLower(f.format) {
	case "":
		return nil, nil
	case "json":
		p = &printers.JSONPrinter{}
	case "yaml":
		p = &printers.YAMLPrinter{}
	default:
		return nil, fmt.Errorf("unknown output format %q: -o takes %s", f.format, strings.Join(outputFormats, ", "))
	}
	return printers.NewTypeSetter(report.Scheme).ToPrinter(p), nil
}

// show writes a command's result: its report with printer p, or, when p
// is nil, its table.
func (e *env) show(p printers.ResourcePrinter, obj runtime.Object, table func(io.Writer) error) error {
	if p == nil {
		return table(e.out)
	}
	return p.PrintObj(obj, e.out)
}
