package chaos

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
	"github.com/ordersync/verification-operator/providers/simkit"
	"github.com/ordersync/verification-operator/providers/simulators"
)

// run is one chaos run: a namespace with its vendor accounts and orders,
// the manager processes that worked on them, and what happened to them.
type run struct {
	name     string
	seed     uint64
	ns       string
	wire     *wire
	accounts []*account
	orders   []*order
	managers []*manager
	// logDir keeps the managers' logs; kept when the run fails.
	logDir    string
	kills     []kill
	takeovers []takeover
	watch     *objectScan
}

// kill is one SIGKILL (or partition) of a manager during convergence.
type kill struct {
	process string
	at      time.Time
	// unsettled is how many orders had not converged when it struck.
	unsettled int
}

// newRun makes the run's namespace and starts recording every version of
// its objects for the personal-data scan.
func newRun(ctx context.Context, name string, runSeed uint64) *run {
	GinkgoHelper()
	r := &run{name: name, seed: runSeed, wire: newWire()}
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "chaos-" + name + "-"}}
	Expect(k8s.Create(ctx, ns)).To(Succeed())
	r.ns = ns.Name
	ensureNamespace(ctx, leaseNamespace)
	dir, err := os.MkdirTemp("", "chaos-"+name+"-")
	Expect(err).NotTo(HaveOccurred())
	r.logDir = dir
	DeferCleanup(func() {
		if CurrentSpecReport().Failed() || *flagKeep {
			r.dumpTimelines()
			fmt.Fprintf(GinkgoWriter, "chaos %s: manager logs, simulator timelines and findings kept in %s\n", name, dir)
			return
		}
		_ = os.RemoveAll(dir)
	})
	r.watch = startObjectScan(ctx, r.ns)
	fmt.Fprintf(GinkgoWriter, "chaos %s: seed %d, namespace %s\n  replay: %s\n", name, runSeed, r.ns, replayCommand(runSeed))
	AddReportEntry("chaos "+name+" seed", fmt.Sprintf("%d (replay: %s)", runSeed, replayCommand(runSeed)))
	return r
}

func ensureNamespace(ctx context.Context, name string) {
	GinkgoHelper()
	ns := &corev1.Namespace{}
	if err := k8s.Get(ctx, client.ObjectKey{Name: name}, ns); err == nil {
		return
	}
	Expect(client.IgnoreAlreadyExists(k8s.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}))).To(Succeed())
}

// addAccount starts a vendor account whose fault dice start from a seed
// of their own, derived from the run's.
func (r *run) addAccount(ctx context.Context, name, vendor string, faults simkit.Faults, tune ...func(*v1.VerificationProviderSpec)) *account {
	GinkgoHelper()
	faults.Seed = rngFor(r.seed, "faults/"+name).Uint64() | 1 // 0 would mean "keep the dice"
	a := newAccount(ctx, r.wire, r.ns, name, vendor, faults, tune...)
	r.accounts = append(r.accounts, a)
	return a
}

// addVendorAccounts adds an account of each vendor, every one with the
// chaos faults, and says which account an order of a vendor and kind
// goes to: its vendor's, but for reverifications without doubt (the run
// passes -chaos.doubt), which go to an account of their vendor of their
// own (truework-reverify) with the faults that leave no call in doubt
// (see settledFaults).
func (r *run) addVendorAccounts(ctx context.Context, slow, doubt bool) func(vendor string, k simkit.PlayKind) *account {
	GinkgoHelper()
	vendors := simulators.All()
	for _, v := range vendors {
		r.addAccount(ctx, v.Name, v.Name, chaosFaults(slow))
	}
	reverifications := map[string]*account{}
	for _, v := range vendors {
		if !slices.ContainsFunc(v.Chaos.Plays, func(p simkit.Play) bool { return p.Kind == simkit.PlayReverify }) {
			continue
		}
		reverifications[v.Name] = r.account(v.Name)
		if !doubt {
			reverifications[v.Name] = r.addAccount(ctx, v.Name+"-reverify", v.Name, settledFaults())
		}
	}
	return func(vendor string, k simkit.PlayKind) *account {
		if k == simkit.PlayReverify {
			return reverifications[vendor]
		}
		return r.account(vendor)
	}
}

// account returns the account named name.
func (r *run) account(name string) *account {
	for _, a := range r.accounts {
		if a.name == name {
			return a
		}
	}
	return nil
}

// startManager starts the next manager process of the run.
func (r *run) startManager(name, kubeconfigPath string) *manager {
	GinkgoHelper()
	m := startManager(name, kubeconfigPath, r.logDir)
	r.managers = append(r.managers, m)
	return m
}

// dumpTimelines writes every account's timeline, one call a line, for
// the post-mortem of a failed run.
func (r *run) dumpTimelines() {
	for a, calls := range r.ledger() {
		var b strings.Builder
		for _, c := range calls {
			order := ""
			if c.order != nil {
				order = c.order.name
			}
			fmt.Fprintf(&b, "%s %-6s %-3d applied=%-5t injected=%-5t retryAfter=%-4s %-14s %-40s %s\n", c.At.Format("15:04:05.000000"),
				c.Method, c.Status, c.Applied, c.Injected, c.RetryAfter, c.process, order, withQuery(c.Path, c.Query))
		}
		_ = os.WriteFile(filepath.Join(r.logDir, a.name+".timeline"), []byte(b.String()), 0o644)
	}
}

func withQuery(path, query string) string {
	if query == "" {
		return path
	}
	return path + "?" + query
}

// logs are the complete logs of every manager process of the run.
func (r *run) logs() map[string]string {
	out := map[string]string{}
	for _, m := range r.managers {
		out[m.name] = m.log.String()
	}
	return out
}
