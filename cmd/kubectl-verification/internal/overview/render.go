package overview

import (
	"cmp"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/ordersync/verification-operator/controllers/budget"
)

// stallNames is how many orders a stall reason names before "and N more".
const stallNames = 3

// none stands for a value nobody recorded yet.
const none = "-"

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
		row("NAMESPACE", "NAME", "VENDOR", "READY", "REASON", "RATE", "ACCOUNT LIMITS", "POLL BUDGET", "ORDERS", "POLL", "EFFECTIVE POLL",
			"RETENTION", "FINISHED")
		for _, p := range ov.Providers {
			row(p.Namespace, p.Name, p.Vendor, orNone(p.Ready), orNone(p.Reason), rate(p.Limits), accountLimits(p), pollBudget(p.PollBudgetPercent),
				p.Orders, duration(p.Poll), effective(p), retention(p), p.FinishedOrders)
		}
	}
	if differ := ov.limitsDiffer(); len(differ) > 0 {
		fmt.Fprintln(tw, "\nLIMITS DIFFER")
		row("NAMESPACE", "NAME", "MESSAGE")
		for _, p := range differ {
			row(p.Namespace, p.Name, p.LimitsMessage)
		}
	}
	fmt.Fprintln(tw, "\nORDERS")
	if len(ov.Orders) == 0 {
		fmt.Fprintln(tw, "none")
	} else {
		row("NAMESPACE", "PROVIDER", "STATE", "READY", "REASON", "COUNT")
		for _, g := range ov.Orders {
			row(g.Namespace, g.Provider, orNone(g.State), orNone(g.Ready), orNone(g.Reason), g.Count)
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

func orNone(s string) string { return cmp.Or(s, none) }

// rate is the budget, e.g. "10/s burst 10".
func rate(l *budget.Limits) string {
	if l == nil {
		return none
	}
	return fmt.Sprintf("%s/s burst %d", strconv.FormatFloat(l.RequestsPerSecond, 'f', -1, 64), l.Burst)
}

// accountLimits says whether the provider's account is held to its RATE
// ("own") or to stricter limits of another provider ("stricter").
func accountLimits(p ProviderRow) string {
	switch p.LimitsApplied {
	case "True":
		return "own"
	case "False":
		return "stricter"
	}
	return none
}

// limitsDiffer are the providers whose account is held to stricter limits
// than their own: their messages say by whom, and to what.
func (ov Overview) limitsDiffer() []ProviderRow {
	var differ []ProviderRow
	for _, p := range ov.Providers {
		if p.LimitsApplied == "False" {
			differ = append(differ, p)
		}
	}
	return differ
}

func pollBudget(percent int32) string {
	if percent == 0 {
		return none
	}
	return fmt.Sprintf("%d%%", percent)
}

func duration(d time.Duration) string {
	if d == 0 {
		return none
	}
	return d.String()
}

// effective is the effective poll interval, e.g. "12m0s (stretched)".
func effective(p ProviderRow) string {
	if p.Stretched {
		return duration(p.Effective) + " (stretched)"
	}
	return duration(p.Effective)
}

// keep is the retention of a provider that sets no TTL.
const keep = "keep"

// retention is how long the provider's finished orders are kept after they
// finished, e.g. "24h0m0s (GitOps too)", or "keep": forever.
func retention(p ProviderRow) string {
	ttl, ok := p.TTL()
	switch {
	case !ok:
		return keep
	case p.PruneGitOpsManaged:
		return ttl.String() + " (GitOps too)"
	}
	return ttl.String()
}
