package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/discovery"
)

var (
	profileDir = flag.String("profile", "", "directory to write profiles into: CPU profiles of the manager, the API server and the bench over the multi scenario's run, "+
		"and the manager's heap at each memory level; empty: none. Read them with `go tool pprof -top FILE`")
	profileFor = flag.Duration("profile-for", 20*time.Second, "how long the manager's and the API server's CPU profiles run, from the start of the multi scenario's run")
)

// cpuProfiles are CPU profiles of the manager, the API server and this
// process being taken over one scenario's run.
type cpuProfiles struct {
	wg    sync.WaitGroup
	bench *os.File
	mu    sync.Mutex
	errs  []error
}

// startCPUProfiles starts CPU profiles named scenario-*.pprof in -profile's
// directory; nil when -profile is not set. The manager's and the API
// server's run for -profile-for, the bench's until stop.
func (b *bench) startCPUProfiles(scenario string, m *manager) (*cpuProfiles, error) {
	if *profileDir == "" {
		return nil, nil
	}
	if err := os.MkdirAll(*profileDir, 0o755); err != nil {
		return nil, err
	}
	p := &cpuProfiles{}
	f, err := os.Create(filepath.Join(*profileDir, scenario+"-bench.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		_ = f.Close()
		return nil, err
	}
	p.bench = f
	seconds := strconv.Itoa(int(profileFor.Seconds()))
	p.fetch(scenario+"-manager.pprof", func() (io.ReadCloser, error) {
		return httpGet("http://" + m.pprof + "/debug/pprof/profile?seconds=" + seconds)
	})
	p.fetch(scenario+"-apiserver.pprof", func() (io.ReadCloser, error) {
		dc, err := discovery.NewDiscoveryClientForConfig(b.cfg)
		if err != nil {
			return nil, err
		}
		return dc.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", seconds).Stream(context.Background())
	})
	return p, nil
}

// fetch writes what get returns to name in -profile's directory, in the background.
func (p *cpuProfiles) fetch(name string, get func() (io.ReadCloser, error)) {
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		if err := saveTo(filepath.Join(*profileDir, name), get); err != nil {
			p.mu.Lock()
			p.errs = append(p.errs, fmt.Errorf("%s: %w", name, err))
			p.mu.Unlock()
		}
	}()
}

// stop ends the bench's profile and waits for the others.
func (p *cpuProfiles) stop() error {
	if p == nil {
		return nil
	}
	pprof.StopCPUProfile()
	_ = p.bench.Close()
	p.wg.Wait()
	if len(p.errs) > 0 {
		return p.errs[0]
	}
	fmt.Printf("   profiles in %s\n", *profileDir)
	return nil
}

// heapProfile writes the manager's heap profile (after a GC) as name in
// -profile's directory, if -profile is set.
func (m *manager) heapProfile(name string) error {
	if *profileDir == "" {
		return nil
	}
	if err := os.MkdirAll(*profileDir, 0o755); err != nil {
		return err
	}
	return saveTo(filepath.Join(*profileDir, name), func() (io.ReadCloser, error) {
		return httpGet("http://" + m.pprof + "/debug/pprof/heap?gc=1")
	})
}

func saveTo(path string, get func() (io.ReadCloser, error)) error {
	body, err := get()
	if err != nil {
		return err
	}
	defer body.Close()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}

func httpGet(url string) (io.ReadCloser, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return resp.Body, nil
}
