package chaos

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"time"
)

// The flags of a run. Without them `go test ./...` runs the short version
// that `make test` includes; `make test-chaos` passes the full size.
var (
	flagOrders     = flag.Int("chaos.orders", 60, "VerificationOrders in the crash run, spread over the four vendors and every operation")
	flagKills      = flag.Int("chaos.kills", 1, "times the manager is killed with SIGKILL while the crash run converges")
	flagSeed       = flag.Uint64("chaos.seed", 0, "seed of every random choice and of the simulators' fault dice; 0 picks one (printed, to replay the run)")
	flagFailover   = flag.Bool("chaos.failover", false, "also run the leader failover and the API-server partition cases")
	flagSlow       = flag.Bool("chaos.slow", false, "also answer a few calls after the client's 30s timeout (slow answers); each holds a worker 30s")
	flagSlowVendor = flag.Bool("chaos.slowvendor", false, "also run the slow vendor play: one account answers after the client's 30s timeout for a window, and orders at other accounts must keep converging meanwhile")
	flagDoubt      = flag.Bool("chaos.doubt", false, "give reverifications every fault, including those that leave a call in doubt (the operator then waits 2.5 minutes before it calls again)")
	flagStrict     = flag.Bool("chaos.strict", false, "fail on the budget's known limits too (calls it never pays for, reserved calls sent bunched) and run the reproductions of the bugs the chaos runs found (docs/reliability.md)")
	flagKeep       = flag.Bool("chaos.keep", false, "keep every run's manager logs, simulator timelines and findings (a failed run's are always kept)")
	flagOut        = flag.String("chaos.out", "", "write the figures of the run to this JSON file (make test-chaos: chaos-results.json)")
)

// pickSeed is the run's seed: -chaos.seed, or one picked now. Every
// random choice of the run derives from it.
func pickSeed() uint64 {
	if *flagSeed != 0 {
		return *flagSeed
	}
	return uint64(time.Now().UnixNano())%1_000_000_000 + 1
}

// rngFor returns a generator for one purpose of the run, so that adding a
// random choice in one place does not change the choices made elsewhere.
func rngFor(runSeed uint64, purpose string) *rand.Rand {
	var h uint64 = 14695981039346656037 // FNV-1a of purpose
	for _, c := range []byte(purpose) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(runSeed, h))
}

// replayCommand is how to run this exact run again.
func replayCommand(runSeed uint64) string {
	return fmt.Sprintf("go test ./test/chaos -count=1 -timeout 60m -args -chaos.seed=%d -chaos.orders=%d -chaos.kills=%d -chaos.failover=%t -chaos.slow=%t -chaos.slowvendor=%t -chaos.doubt=%t -chaos.strict=%t",
		runSeed, *flagOrders, *flagKills, *flagFailover, *flagSlow, *flagSlowVendor, *flagDoubt, *flagStrict)
}
