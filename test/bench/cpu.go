package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of the CPU times in /proc: USER_HZ, 100 on every
// Linux the bench runs on.
const clockTick = 10 * time.Millisecond

// The processes whose CPU a scenario reports, besides the rest of the machine.
const (
	procManager   = "manager"
	procAPIServer = "kube-apiserver"
	procEtcd      = "etcd"
	// procBench is this process: the bench's own client and watch, and
	// every vendor simulator (they run in-process).
	procBench = "bench+simulators"
	// procOthers is everything else on the machine: other users' builds
	// and tests on a shared machine.
	procOthers = "others"
)

// cpuProcs are the ones reported, in the table's order.
var cpuProcs = []string{procManager, procAPIServer, procEtcd, procBench, procOthers}

// cpuSample is the CPU time used so far by each of our processes, and by
// the whole machine, at one moment.
type cpuSample struct {
	at      time.Time
	byProc  map[string]time.Duration
	machine time.Duration
}

// sampleCPU reads the CPU time of the manager (pid), the control plane
// and this process, and the machine's busy time.
func (b *bench) sampleCPU(manager int) cpuSample {
	s := cpuSample{at: time.Now(), byProc: map[string]time.Duration{}, machine: machineBusy()}
	s.byProc[procManager] = processCPU(manager)
	s.byProc[procBench] = processCPU(os.Getpid())
	for name, pid := range b.controlPlane {
		s.byProc[name] = processCPU(pid)
	}
	return s
}

// cpuSplit is how much CPU each process used between two samples, and how
// much the machine had.
type cpuSplit struct {
	byProc   map[string]time.Duration
	cpus     int
	capacity time.Duration // CPUs × wall time
}

func splitCPU(before, after cpuSample, cpus int) cpuSplit {
	s := cpuSplit{byProc: map[string]time.Duration{}, cpus: cpus, capacity: time.Duration(cpus) * after.at.Sub(before.at)}
	ours := time.Duration(0)
	for name, t := range after.byProc {
		s.byProc[name] = t - before.byProc[name]
		ours += s.byProc[name]
	}
	s.byProc[procOthers] = max(0, after.machine-before.machine-ours)
	return s
}

// wall is how long the split was measured over.
func (s cpuSplit) wall() time.Duration {
	return s.capacity / time.Duration(max(s.cpus, 1))
}

func (s cpuSplit) total() time.Duration {
	t := time.Duration(0)
	for _, d := range s.byProc {
		t += d
	}
	return t
}

// report adds a row per process: CPU milliseconds per order, with its
// share of what the machine did, and a row for how busy the machine was.
func (s cpuSplit) report(b *bench, scenario string, orders int) {
	total := s.total()
	for _, name := range cpuProcs {
		d := s.byProc[name]
		b.add(result{Scenario: scenario, Measure: "CPU per order, " + name, Value: float64(d.Milliseconds()) / float64(orders), Unit: "ms",
			Target: fmt.Sprintf("%.0f%% of the CPU used", 100*float64(d)/float64(max(total, 1)))})
	}
	b.add(result{Scenario: scenario, Measure: "machine CPU busy", Value: 100 * float64(total) / float64(max(s.capacity, 1)), Unit: "%",
		Target: fmt.Sprintf("of %s CPU-seconds", (s.capacity).Round(time.Second))})
}

func cpuCount() int { return runtime.NumCPU() }

// processCPU is the user and system CPU time pid has used; zero if it is gone.
func processCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces: state is
	// field 3, utime and stime fields 14 and 15.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * clockTick
}

// machineBusy is the CPU time every CPU of the machine has spent busy
// (neither idle nor waiting for I/O), from /proc/stat.
func machineBusy() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	busy := int64(0)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, iowait, nor guest (counted in user)
			busy += n
		}
	}
	return time.Duration(busy) * clockTick
}

// childProcesses finds this process's children named in names (the control
// plane envtest started): name → pid.
func childProcesses(names ...string) map[string]int {
	out := map[string]int{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		s := string(data)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+1:]) // state ppid ...
		if len(f) < 2 || f[1] != strconv.Itoa(os.Getpid()) {
			continue
		}
		comm := s[open+1 : closing]
		for _, name := range names {
			if comm == name {
				out[name], _ = strconv.Atoi(strings.Fields(s)[0])
			}
		}
	}
	return out
}
