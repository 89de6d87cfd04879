// Package testutil is what the suites that run the project's own binaries
// (test/e2e, test/deploy) and collect logs (controllers) share.
package testutil

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2" //nolint:revive // Ginkgo's DSL reads best unqualified
	. "github.com/onsi/gomega"    //nolint:revive
)

// Buffer is a bytes.Buffer that is safe for concurrent writers, such as a
// process's stdout and stderr or a logger.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RepoRoot is the module root: the nearest directory above the test's
// working directory that holds go.mod.
func RepoRoot() string {
	GinkgoHelper()
	dir, err := os.Getwd()
	Expect(err).NotTo(HaveOccurred())
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		Expect(parent).NotTo(Equal(dir), "no go.mod above the test's directory")
		dir = parent
	}
}

// Build compiles the main package pkg (e.g. "./cmd/manager") into a
// temporary directory and returns the binary's path.
func Build(pkg string) string {
	GinkgoHelper()
	bin := filepath.Join(GinkgoT().TempDir(), filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = RepoRoot()
	out, err := cmd.CombinedOutput()
	Expect(err).NotTo(HaveOccurred(), "go build %s:\n%s", pkg, out)
	return bin
}

// Process is a started binary. Its output is kept in Output and shown on
// GinkgoWriter (with -v, or when a spec fails).
type Process struct {
	Cmd    *exec.Cmd
	Output *Buffer
	done   chan struct{}
	err    error
}

// Start starts cmd.
func Start(cmd *exec.Cmd) *Process {
	GinkgoHelper()
	p := &Process{Cmd: cmd, Output: &Buffer{}, done: make(chan struct{})}
	out := io.MultiWriter(p.Output, GinkgoWriter)
	cmd.Stdout, cmd.Stderr = out, out
	Expect(cmd.Start()).To(Succeed())
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Err is the process's exit error, once it has exited.
func (p *Process) Err() error {
	<-p.done
	return p.err
}

// Terminate sends SIGTERM and waits up to grace for the process to exit; it
// kills the process after that. It reports whether the process exited on
// its own, in time.
func (p *Process) Terminate(grace time.Duration) bool {
	if p.Exited() {
		return true
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return true
	case <-time.After(grace):
		_ = p.Cmd.Process.Kill()
		<-p.done
		return false
	}
}
