# The kubectl plugin (cmd/kubectl-verification), included from the Makefile
# (`include hack/plugin.mk`). docs/kubectl-plugin.md describes it.

##@ kubectl plugin

.PHONY: plugin
plugin: fmt vet ## Build the kubectl plugin into bin/kubectl-verification (with bin/ on PATH: kubectl verification ...).
	go build -o $(LOCALBIN)/kubectl-verification ./cmd/kubectl-verification

# Its release archives and krew manifest are built with the operator's, by
# `make release` (hack/release.mk, docs/release.md).
