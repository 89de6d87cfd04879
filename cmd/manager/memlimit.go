package main

import (
	"log/slog"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// setMemoryLimit has the Go runtime collect harder as the heap nears 90%
// of the container's memory limit (its cgroup), unless GOMEMLIMIT is set
// or AUTOMEMLIMIT=off. Without a limit the heap grows to twice what is
// live between collections, and most of a manager's heap is live: the
// orders it holds. A pod would then be OOM-killed holding half the orders
// its limit fits (docs/performance.md, "Memory").
func setMemoryLimit(log logr.Logger) {
	logger := slog.New(logr.ToSlogHandler(log.WithName("memlimit")))
	// An error is logged by memlimit itself: the runtime keeps its default.
	_, _ = memlimit.Set(memlimit.WithLogger(logger))
}
