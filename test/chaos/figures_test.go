package chaos

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

// runFigures are one run's numbers, as docs/reliability.md reports them.
type runFigures struct {
	Run          string         `json:"run"`
	Seed         uint64         `json:"seed"`
	Orders       int            `json:"orders"`
	OrdersByKind map[string]int `json:"ordersByKind"`
	Seconds      float64        `json:"seconds"`
	VendorCalls  int            `json:"vendorCalls"`
	// Faults are the injected faults by kind: HTTP statuses, "reset"
	// (cut before the vendor applied the call), "lost response" (cut
	// after), "slow answer" (held past the client's patience).
	Faults    map[string]int `json:"faults"`
	Kills     int            `json:"kills"`
	Takeovers []float64      `json:"takeoverSeconds"`
	// InFlightAtCut is how many vendor calls the partitioned leader had
	// waiting for an answer when it was cut off.
	InFlightAtCut int `json:"inFlightAtCut,omitempty"`
	WrongOutcomes int `json:"wrongOutcomes"`
	// KnownBugs are the findings of the budget's known limits (calls it
	// never pays for), reported without failing the run unless
	// -chaos.strict.
	KnownBugs          []string `json:"knownBugs,omitempty"`
	DuplicateCreations int      `json:"duplicateCreations"`
	Reverifications    int      `json:"reverifications"`
	ForbiddenCalls     int      `json:"forbiddenCalls"`
	FalseStalls        int      `json:"falseStalls"`
	OverlappingCalls   int      `json:"overlappingCalls"`
	// BudgetViolations are calls paid for by the budget that a vendor
	// enforcing the declared budget exactly would have refused;
	// BudgetViolationsWithUnpaid the same once the calls the budget never
	// paid for (UnpaidCalls, by reason) are counted too.
	BudgetViolations           int            `json:"budgetViolations"`
	BudgetViolationsWithUnpaid int            `json:"budgetViolationsWithUnpaid"`
	UnpaidCalls                map[string]int `json:"unpaidCalls"`
	VendorThrottled            int            `json:"vendorThrottled"`
	RetryAfterSent             int            `json:"retryAfterSent"`
	RetryAfterViolations       int            `json:"retryAfterViolations"`
	InFlightAfter429           int            `json:"inFlightAfter429"`
	// MaxPerSecond is the most calls in any 1s window, and ClientCeiling
	// what the client's bucket releases in one, by account.
	MaxPerSecond  map[string]int `json:"maxPerSecond"`
	ClientCeiling map[string]int `json:"clientCeiling"`
	PIIHits       int            `json:"piiHits"`
	PIISearched   string         `json:"piiSearched"`
	// The slow vendor play: the account that turned slow, for how long,
	// its calls in flight when the probes were made, its calls and the
	// other accounts' while it was slow; how long after their creation the probes' cancels
	// reached their vendors and the probes were Ready, and how many
	// were late.
	SlowAccount        string    `json:"slowAccount,omitempty"`
	SlowSeconds        float64   `json:"slowSeconds,omitempty"`
	SlowInFlight       int       `json:"slowInFlight,omitempty"`
	SlowCalls          int       `json:"slowCalls,omitempty"`
	OtherCalls         int       `json:"otherCalls,omitempty"`
	ProbeActionSeconds []float64 `json:"probeActionSeconds,omitempty"`
	ProbeReadySeconds  []float64 `json:"probeReadySeconds,omitempty"`
	ProbesLate         int       `json:"probesLate,omitempty"`
}

// figures are every run's numbers in this suite.
type figures struct {
	mu   sync.Mutex
	runs []runFigures
}

func (f *figures) add(r runFigures) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs = append(f.runs, r)
}

// faultsOf counts the faults a simulator injected, from its timeline.
func faultsOf(calls []call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		switch {
		case c.Status == 0 && !c.Applied && !c.Injected:
			out["reset"]++
		case c.Status == 0:
			out["lost response"]++
		case c.Injected:
			out[fmt.Sprint(c.Status)]++
		}
	}
	return out
}

func (f *figures) print(w io.Writer) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.runs {
		fmt.Fprintf(w, "\nchaos %s (seed %d, %.0fs): %d orders, %d vendor calls\n", r.Run, r.Seed, r.Seconds, r.Orders, r.VendorCalls)
		row := func(name string, v any) { fmt.Fprintf(w, "  %-40s %v\n", name, v) }
		row("orders by kind", sortedCounts(r.OrdersByKind))
		row("faults injected", sortedCounts(r.Faults))
		row("kills (SIGKILL or partition)", r.Kills)
		row("takeovers (seconds after the kill)", r.Takeovers)
		if r.InFlightAtCut > 0 {
			row("calls in flight at the partition", r.InFlightAtCut)
		}
		row("wrong outcomes", r.WrongOutcomes)
		if len(r.KnownBugs) > 0 {
			row("known limits met (not failed)", strings.Join(r.KnownBugs, "; "))
		}
		row("reverifications / duplicate creations", fmt.Sprintf("%d / %d", r.Reverifications, r.DuplicateCreations))
		row("forbidden calls", r.ForbiddenCalls)
		row("untrue Stalled reasons", r.FalseStalls)
		row("calls of two processes interleaved", r.OverlappingCalls)
		row("calls over the declared budget: paid / all", fmt.Sprintf("%d / %d", r.BudgetViolations, r.BudgetViolationsWithUnpaid))
		row("calls the budget never paid for", sortedCounts(r.UnpaidCalls))
		row("most calls in 1s / client ceiling", perAccount(r.MaxPerSecond, r.ClientCeiling))
		row("429s from a vendor's own limiter", r.VendorThrottled)
		row("Retry-After sent / violated", fmt.Sprintf("%d / %d", r.RetryAfterSent, r.RetryAfterViolations))
		row("calls in flight after a 429", r.InFlightAfter429)
		if r.SlowAccount != "" {
			row("slow account / for / in flight at the probes", fmt.Sprintf("%s / %.0fs / %d", r.SlowAccount, r.SlowSeconds, r.SlowInFlight))
			row("calls meanwhile: slow account / the others", fmt.Sprintf("%d / %d", r.SlowCalls, r.OtherCalls))
			row("probes: cancel at the vendor (s)", r.ProbeActionSeconds)
			row("probes: Ready (s) / late", fmt.Sprintf("%v / %d", r.ProbeReadySeconds, r.ProbesLate))
		}
		row("PII and credential hits", r.PIIHits)
		row("searched", r.PIISearched)
	}
}

func sortedCounts(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func perAccount(got, bound map[string]int) string {
	parts := make([]string, 0, len(got))
	for _, k := range slices.Sorted(maps.Keys(got)) {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, got[k], bound[k]))
	}
	return strings.Join(parts, ", ")
}

func (f *figures) write(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := json.MarshalIndent(map[string]any{"written": time.Now().UTC().Format(time.RFC3339), "runs": f.runs}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}
