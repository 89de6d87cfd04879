package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// controlPlaneBinaries are what envtest runs.
var controlPlaneBinaries = []string{"kube-apiserver", "etcd"}

// controlPlaneAssets returns the directory holding kube-apiserver and etcd,
// building them from source into bin/k8s on first use (as `make envtest`
// does) unless the caller chose a KUBEBUILDER_ASSETS of their own.
func controlPlaneAssets(ctx context.Context, repoRoot string) (string, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		if missing := missingBinaries(dir); missing != "" {
			return "", fmt.Errorf("KUBEBUILDER_ASSETS=%s has no %s; unset it to build the control plane into bin/k8s, or run `make envtest`", dir, missing)
		}
		return filepath.Abs(dir)
	}
	dir := filepath.Join(repoRoot, "bin", "k8s")
	if missingBinaries(dir) == "" {
		return dir, nil
	}
	script := filepath.Join(repoRoot, "hack", "build-control-plane.sh")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("no control plane in %s and no %s to build one; run from the repo root or pass --repo-root", dir, script)
	}
	ctrl.Log.Info("building kube-apiserver and etcd from source, once", "into", dir)
	cmd := exec.CommandContext(ctx, script, dir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build the control plane (`make envtest` does the same): %w", err)
	}
	return dir, nil
}

func missingBinaries(dir string) string {
	for _, name := range controlPlaneBinaries {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return name
		}
	}
	return ""
}

// controlPlane is a running etcd and kube-apiserver with the CRDs installed.
type controlPlane struct {
	env *envtest.Environment
	// Config is a cluster-admin client config.
	Config *rest.Config
	// Kubeconfig is the same user as a kubeconfig file, for kubectl.
	Kubeconfig []byte
}

// startControlPlane starts etcd and kube-apiserver (envtest gives both fresh
// temporary data directories and free ports, so runs never collide) and
// installs the CRDs from config/crd/bases.
func startControlPlane(repoRoot, assets string) (*controlPlane, error) {
	// Explicit paths: envtest would otherwise prefer a KUBEBUILDER_ASSETS
	// even when it is set but empty.
	env := &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: &envtest.APIServer{Path: filepath.Join(assets, "kube-apiserver")},
			Etcd:      &envtest.Etcd{Path: filepath.Join(assets, "etcd")},
		},
		CRDDirectoryPaths:     []string{crdDir(repoRoot)},
		ErrorIfCRDPathMissing: true,
	}
	if _, err := env.Start(); err != nil {
		// Start can fail after etcd and kube-apiserver are up (installing
		// the CRDs); stop them, or they would outlive the sandbox.
		_ = env.Stop()
		return nil, fmt.Errorf("start etcd and kube-apiserver from %s: %w", assets, err)
	}
	cp := &controlPlane{env: env}
	// A user of its own rather than envtest's internal one, so the kubeconfig
	// handed to people is plainly cluster-admin (system:masters).
	user, err := env.AddUser(envtest.User{Name: "sandbox-admin", Groups: []string{"system:masters"}}, nil)
	if err == nil {
		cp.Config = user.Config()
		// client-go's default of 5 requests/s throttles the operator's
		// status writes when the samples land all at once; the API server
		// is local and ours alone.
		cp.Config.QPS, cp.Config.Burst = 50, 100
		cp.Kubeconfig, err = user.KubeConfig()
	}
	if err != nil {
		_ = cp.Stop()
		return nil, fmt.Errorf("create the sandbox-admin user: %w", err)
	}
	return cp, nil
}

// URL is the API server's address.
func (cp *controlPlane) URL() string { return cp.Config.Host }

// Stop stops kube-apiserver and etcd and removes their data directories.
func (cp *controlPlane) Stop() error { return cp.env.Stop() }
