package chaos

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/ordersync/verification-operator/providers/simkit"
)

// verify checks a finished run (its managers stopped) from the vendors'
// records and the objects it left, records its figures, and then fails
// the spec on anything found. unsettled are the orders that did not
// settle in time.
//
// Findings of the budget's known limits (calls it never pays for, such as
// Settle's confirming read; reserved calls sent late and bunched) fail
// the run only with -chaos.strict (make test-chaos); without it (the
// short run in `make test`) they are reported and counted. Every other
// finding fails the run either way.
func (r *run) verify(ctx context.Context, began time.Time, unsettled []string, fig runFigures) {
	GinkgoHelper()
	final := r.list(ctx)
	calls := r.ledger()
	found := r.checkOutcomes(final, calls)
	for _, u := range unsettled {
		found.wrong = append(found.wrong, "did not settle: "+u)
	}
	fig.describe(r, began)
	fig.WrongOutcomes, fig.DuplicateCreations = len(found.wrong), found.duplicates
	fig.ForbiddenCalls, fig.FalseStalls = found.forbiddenCalls, found.falseStalls

	hard, known := findings{}, findings{}
	hard.add("wrong outcomes", found.wrong...)
	for _, a := range r.accounts {
		cs := calls[a]
		fig.VendorCalls += len(cs)
		for k, n := range faultsOf(cs) {
			fig.Faults[k] += n
		}
		if n := len(r.wire.heldAnswers(a.name)); n > 0 {
			fig.Faults["slow answer"] += n
		}
		b := checkBudget(a, cs)
		fig.MaxPerSecond[a.name], fig.ClientCeiling[a.name] = b.maxPerSecond, b.clientCeiling
		fig.BudgetViolations += len(b.refused)
		fig.BudgetViolationsWithUnpaid += b.refusedAll
		fig.VendorThrottled += b.throttled
		for k, n := range b.unpaid {
			fig.UnpaidCalls[k] += n
		}
		known.add("calls the budget paid for beyond the declared budget (reserved calls made late, bunched)", prefixed(a.name, b.refused)...)
		if b.refusedAll > len(b.refused) {
			known.add("calls beyond the declared budget once the calls the budget never paid for are counted",
				fmt.Sprintf("%s: %d (unpaid: %s)", a.name, b.refusedAll, sortedCounts(b.unpaid)))
		}
		if b.throttled > 0 {
			hard.add("429s from a simulator's own rate limiter", fmt.Sprintf("%s: %d", a.name, b.throttled))
		}
		ra := checkRetryAfter(a, cs)
		fig.RetryAfterSent += ra.sent
		fig.RetryAfterViolations += len(ra.violations) + len(ra.knownViolations)
		fig.InFlightAfter429 += ra.inFlight
		hard.add("calls sooner than a Retry-After the vendor sent", prefixed(a.name, ra.violations)...)
		known.add("calls sooner than a Retry-After, made by code that ignores it", prefixed(a.name, ra.knownViolations)...)
	}
	hard.add("calls of two manager processes interleaved", interleaved(calls)...)
	fig.OverlappingCalls = len(hard["calls of two manager processes interleaved"])

	pii := r.scanEverything(ctx)
	fig.PIIHits, fig.PIISearched = len(pii.hits), pii.summary()
	hard.add("personal data or credentials the simulators served, found in objects, events or logs", pii.hits...)
	fmt.Fprintf(GinkgoWriter, "chaos %s: %s\n", r.name, fig.PIISearched)

	if *flagStrict {
		maps.Copy(hard, known)
		known = findings{}
	}
	for what, items := range known {
		fig.KnownBugs = append(fig.KnownBugs, fmt.Sprintf("%s: %d", what, len(items)))
	}
	results.add(fig)
	r.writeFindings(hard, known)
	for _, what := range slices.Sorted(maps.Keys(known)) {
		fmt.Fprintf(GinkgoWriter, "chaos %s: a known limit of the budget, not failed without -chaos.strict: %s (%d)\n", r.name, what, len(known[what]))
	}
	Expect(hard).To(BeEmpty())
}

// findings are what a check found, by what it is.
type findings map[string][]string

func (f findings) add(what string, items ...string) {
	if len(items) > 0 {
		f[what] = append(f[what], items...)
	}
}

func prefixed(prefix string, items []string) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, prefix+": "+it)
	}
	return out
}

// writeFindings keeps every finding in the run's directory, for the
// post-mortem (the directory is kept when the run fails).
func (r *run) writeFindings(hard, known findings) {
	var b strings.Builder
	for _, set := range []struct {
		title string
		f     findings
	}{{"failing", hard}, {"known operator bugs (not failed without -chaos.strict)", known}} {
		for _, what := range slices.Sorted(maps.Keys(set.f)) {
			fmt.Fprintf(&b, "[%s] %s (%d):\n  %s\n", set.title, what, len(set.f[what]), strings.Join(set.f[what], "\n  "))
		}
	}
	_ = os.WriteFile(filepath.Join(r.logDir, "findings.txt"), []byte(b.String()), 0o644)
}

// describe fills in what the run was: its orders, kills and takeovers.
func (fig *runFigures) describe(r *run, began time.Time) {
	fig.Run, fig.Seed, fig.Orders = r.name, r.seed, len(r.orders)
	fig.Seconds = time.Since(began).Seconds()
	fig.OrdersByKind, fig.Faults, fig.UnpaidCalls = map[string]int{}, map[string]int{}, map[string]int{}
	fig.MaxPerSecond, fig.ClientCeiling = map[string]int{}, map[string]int{}
	for _, o := range r.orders {
		fig.OrdersByKind[string(o.play.kind)]++
		if o.play.kind == simkit.PlayReverify {
			fig.Reverifications++
		}
	}
	fig.Kills = len(r.kills)
	for _, t := range r.takeovers {
		fig.Takeovers = append(fig.Takeovers, t.after.Round(100*time.Millisecond).Seconds())
	}
}

// interleaved lists calls made by a process after another process that
// started calling later had begun: the vendors must never see two
// processes at work at once. Processes are ordered by their first call.
func interleaved(calls ledger) []string {
	var all []call
	for _, cs := range calls {
		all = append(all, cs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].At.Before(all[j].At) })
	first := map[string]time.Time{}
	for _, c := range all {
		if _, ok := first[c.process]; !ok {
			first[c.process] = c.At
		}
	}
	var out []string
	for _, c := range all {
		for other, began := range first {
			if other != c.process && began.After(first[c.process]) && c.At.After(began) {
				out = append(out, fmt.Sprintf("%s %s by %s at %s, after %s began at %s",
					c.Method, c.Path, c.process, c.At.Format("15:04:05.000"), other, began.Format("15:04:05.000")))
			}
		}
	}
	return out
}
