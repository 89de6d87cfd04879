package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// shutdownContext is canceled on SIGINT or SIGTERM, or when the parent
// process goes away. The last one matters for `make sandbox`: make and
// `go run` do not pass a SIGTERM on to the sandbox, so without it a killed
// `make` would leave the sandbox (and its etcd and kube-apiserver) running.
// Later signals are swallowed: shutdown is already under way and takes a few
// seconds, and exiting early would orphan the control plane processes.
func shutdownContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithCancel(ctx)
	go cancelWhenOrphaned(ctx, cancel)
	return ctx, func() { cancel(); stop() }
}

func cancelWhenOrphaned(ctx context.Context, cancel context.CancelFunc) {
	parent := os.Getppid()
	if parent == 1 {
		return // started by init (a container's entrypoint): nothing to watch
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if os.Getppid() != parent {
				cancel()
				return
			}
		}
	}
}

// newLogger logs at info level to stderr, one short line per event: the
// sandbox is for people watching a terminal.
func newLogger() logr.Logger {
	return zap.New(
		zap.WriteTo(os.Stderr),
		zap.ConsoleEncoder(func(c *zapcore.EncoderConfig) { c.EncodeTime = zapcore.TimeEncoderOfLayout("15:04:05.000") }),
		zap.Level(zapcore.InfoLevel),
		zap.StacktraceLevel(zapcore.PanicLevel),
	)
}
