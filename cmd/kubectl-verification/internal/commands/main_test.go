package commands

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersync/verification-operator/api/v1alpha1"
)

// These tests run the plugin's commands against a real API server with
// the operator's CRDs and no controller: each test writes the statuses the
// controller would have recorded, with the status subresource.
var (
	// kubeconfig is a kubeconfig file for the test API server, which every
	// command is given with --kubeconfig, as a user would.
	kubeconfig string
	k8s        client.Client
	nsCounter  atomic.Int64
)

func TestMain(m *testing.M) { os.Exit(runWithAPIServer(m)) }

func runWithAPIServer(m *testing.M) int {
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "start the API server (run `make envtest` or set KUBEBUILDER_ASSETS):", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	user, err := env.AddUser(envtest.User{Name: "plugin-user", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir, err := os.MkdirTemp("", "kubectl-verification-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(dir) }()
	kubeconfig = filepath.Join(dir, "kubeconfig")
	data, err := user.KubeConfig()
	if err == nil {
		err = os.WriteFile(kubeconfig, data, 0o600)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	scheme := runtime.NewScheme()
	if err := corev1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := v1.AddToScheme(scheme); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if k8s, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// result is what one run of the plugin printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// plugin runs `kubectl verification args...` against the test API server.
func plugin(args ...string) result { return pluginWithInput("", args...) }

// pluginWithInput runs the plugin with stdin.
func pluginWithInput(stdin string, args ...string) result {
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append([]string{"--kubeconfig", kubeconfig}, args...), strings.NewReader(stdin), &out, &errOut)
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// start runs the plugin in the background; its result arrives on the
// channel.
func start(args ...string) <-chan result {
	done := make(chan result, 1)
	go func() { done <- plugin(args...) }()
	return done
}

// finished is the result of a background run, failing the test if it
// takes longer than any command here should.
func finished(t *testing.T, done <-chan result) result {
	t.Helper()
	select {
	case r := <-done:
		return r
	case <-time.After(time.Minute):
		t.Fatal("the command did not finish within a minute")
		return result{}
	}
}

// newNamespace creates a namespace no other test (or -count run) uses.
func newNamespace(t *testing.T, prefix string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", prefix, nsCounter.Add(1))}}
	if err := k8s.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return ns.Name
}
