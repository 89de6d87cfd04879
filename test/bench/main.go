// Command bench measures the operator as shipped: the real manager binary,
// as a process, against a local control plane and in-process vendor
// simulators. It prints a table, writes bench-results.json, and fails only
// when a scenario does not converge. docs/performance.md has the method and
// the last run's figures.
//
//	go run ./test/bench                       # every scenario
//	go run ./test/bench -scenarios=headofline # one
//	go run ./test/bench -manager=/tmp/manager # a manager built elsewhere (another commit)
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// result is one row of the table.
type result struct {
	Scenario string  `json:"scenario"`
	Measure  string  `json:"measure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Target   string  `json:"target,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
}

type bench struct {
	cfg        *rest.Config
	kubeconfig string
	k8s        client.Client
	manager    string // the built binary
	results    []result
	// controlPlane are the pids of kube-apiserver and etcd, by name.
	controlPlane map[string]int
	watch        *orderWatch
}

func main() {
	only := flag.String("scenarios", "", "comma-separated scenarios to run (default all): "+strings.Join(names(), ","))
	out := flag.String("out", "bench-results.json", "where to write the results")
	flag.Parse()
	ctrllog.SetLogger(logr.Discard()) // the bench's own watch logs nothing
	if err := run(*only, *out); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(only, out string) error {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		assets = filepath.Join("bin", "k8s")
	}
	env := &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(assets, "etcd")},
		},
		CRDDirectoryPaths:     []string{filepath.Join("config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	if _, err := env.Start(); err != nil {
		_ = env.Stop()
		return fmt.Errorf("control plane (run `make envtest` first): %w", err)
	}
	defer func() { _ = env.Stop() }()
	b, err := newBench(env)
	if err != nil {
		return err
	}
	fmt.Printf("machine: %d CPUs, %s/%s, %s\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
	for _, s := range scenarios {
		if only != "" && !strings.Contains(","+only+",", ","+s.name+",") {
			continue
		}
		fmt.Printf("== %s: %s\n", s.name, s.about)
		start := time.Now()
		if err := s.run(b); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		fmt.Printf("   (%s)\n", time.Since(start).Round(time.Second))
	}
	b.print()
	data, err := json.MarshalIndent(map[string]any{"cpus": runtime.NumCPU(), "go": runtime.Version(), "results": b.results}, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(out, append(data, '\n'), 0o644)
}

func newBench(env *envtest.Environment) (*bench, error) {
	user, err := env.AddUser(envtest.User{Name: "bench", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	cfg := user.Config()
	cfg.QPS, cfg.Burst = 1000, 2000 // the bench's own client must not be what binds
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "bench")
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	bin, err := buildManager(dir)
	if err != nil {
		return nil, err
	}
	k8s, err := client.New(cfg, client.Options{Scheme: scheme()})
	if err != nil {
		return nil, err
	}
	watch, err := watchOrders(cfg)
	if err != nil {
		return nil, err
	}
	return &bench{cfg: cfg, kubeconfig: kubeconfig, k8s: k8s, manager: bin,
		controlPlane: childProcesses(procAPIServer, procEtcd), watch: watch}, nil
}

// buildManager builds ./cmd/manager into dir as the Dockerfile does, or
// returns the binary -manager names.
func buildManager(dir string) (string, error) {
	if *managerBin != "" {
		return filepath.Abs(*managerBin)
	}
	bin := filepath.Join(dir, "manager")
	build := exec.Command("go", "build", "-o", bin, "./cmd/manager")
	build.Env = append(os.Environ(), "CGO_ENABLED=0") // as the Dockerfile builds it
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build the manager: %w", err)
	}
	return bin, nil
}

func (b *bench) add(r result) {
	b.results = append(b.results, r)
	fmt.Printf("   %-34s %10.2f %-10s %s\n", r.Measure, r.Value, r.Unit, r.Target)
}

func (b *bench) print() {
	fmt.Printf("\n%-14s %-36s %12s %-10s %-34s %s\n", "scenario", "measure", "value", "unit", "target / ideal", "ratio")
	for _, r := range b.results {
		ratio := ""
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Printf("%-14s %-36s %12.2f %-10s %-34s %s\n", r.Scenario, r.Measure, r.Value, r.Unit, r.Target, ratio)
	}
}

func ctx() context.Context { return context.Background() }

// desired is a shorthand for the spec.state words.
var (
	active   = v1.DesiredActive
	canceled = v1.DesiredCanceled
)
