// Command sandbox runs the whole operator on one machine with no cluster and
// no vendor account: a local etcd and kube-apiserver, the CRDs, every vendor
// simulator, seeded vendor orders, config/samples/ applied, and the operator
// itself, until Ctrl-C or SIGTERM. `make sandbox` runs it from the repo root;
// docs/sandbox.md is the user guide.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	ctrl "sigs.k8s.io/controller-runtime"
)

func main() {
	var opts options
	flag.StringVar(&opts.Dir, "dir", ".sandbox", "Directory for kubeconfig and env.json.")
	flag.DurationVar(&opts.PollInterval, "poll-interval", 2*time.Second, "pollInterval of every sandbox VerificationProvider: how soon a change made at a simulator shows in status.")
	flag.StringVar(&opts.RepoRoot, "repo-root", ".", "Repository root: where config/crd/bases, config/samples and bin/k8s are.")
	flag.Parse()

	ctrl.SetLogger(newLogger())
	ctx, stop := shutdownContext()
	defer stop()
	if err := run(ctx, opts); err != nil {
		fmt.Fprintln(os.Stderr, "sandbox:", err)
		os.Exit(1)
	}
}
