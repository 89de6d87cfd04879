package overview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// stallNames is how many orders a stall reason names before "and N more".
const stallNames = 3

// Render writes the overview as three tables.
func (ov Overview) Render(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(cells ...any) {
		for i, c := range cells {
			if i > 0 {
				fmt.Fprint(tw, "\t")
			}
			fmt.Fprint(tw, c)
		}
		fmt.Fprint(tw, "\n")
	}
	fmt.Fprintln(tw, "PROVIDERS")
	if len(ov.Providers) == 0 {
		fmt.Fprintln(tw, "none")
	} else {
		row("NAMESPACE", "NAME", "VENDOR", "READY", "REASON", "RATE", "POLL BUDGET", "ORDERS", "POLL", "EFFECTIVE POLL")
		for _, p := range ov.Providers {
			effective := p.Effective
			if p.Stretched {
				effective += " (stretched)"
			}
			row(p.Namespace, p.Name, p.Vendor, p.Ready, p.Reason, p.Rate, p.PollBudget, p.Orders, p.Poll, effective)
		}
	}
	fmt.Fprintln(tw, "\nORDERS")
	if len(ov.Orders) == 0 {
		fmt.Fprintln(tw, "none")
	} else {
		row("NAMESPACE", "PROVIDER", "STATE", "READY", "REASON", "COUNT")
		for _, g := range ov.Orders {
			row(g.Namespace, g.Provider, g.State, g.Ready, g.Reason, g.Count)
		}
	}
	fmt.Fprintln(tw, "\nSTALLED")
	if len(ov.Stalls) == 0 {
		fmt.Fprintln(tw, "none")
	} else {
		row("REASON", "COUNT", "ORDERS")
		for _, s := range ov.Stalls {
			row(s.Reason, len(s.Orders), names(s.Orders))
		}
	}
	return tw.Flush()
}

func names(orders []string) string {
	if len(orders) <= stallNames {
		return strings.Join(orders, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(orders[:stallNames], ", "), len(orders)-stallNames)
}
