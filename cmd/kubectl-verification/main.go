// Command kubectl-verification is a kubectl plugin for the verification
// operator: `kubectl verification plan` shows what the operator will do
// about VerificationOrders (or about applying manifests), `status`
// summarizes providers and orders, `refresh` asks for an observation now.
//
// Install it with
//
//	go install github.com/ordersync/verification-operator/cmd/kubectl-verification@latest
//
// or `make plugin` (bin/kubectl-verification); kubectl finds any
// kubectl-verification on PATH. See docs/kubectl-plugin.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ordersync/verification-operator/cmd/kubectl-verification/internal/commands"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := commands.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
