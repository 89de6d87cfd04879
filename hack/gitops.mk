# GitOps targets, included from the Makefile (`include hack/gitops.mk`):
# the Flux recipe in docs/gitops.md. Its test is test/flux, a Go module of
# its own: it runs Flux's CEL status evaluator (fluxcd/pkg/runtime), whose
# dependencies stay out of the operator's go.mod, and so out of
# `go test ./...`; `make test` runs it here. The Argo CD scripts' test,
# test/argocd, is in the operator's module and runs with `go test ./...`.

FLUX_TESTS ?= test/flux

##@ GitOps

.PHONY: test-flux
test-flux: lint-flux ## Test docs/gitops.md's Flux healthCheckExprs with Flux's own CEL evaluator on the operator's status samples.
	cd $(FLUX_TESTS) && go test $(GOTEST_FLAGS) ./...

.PHONY: lint-flux
lint-flux: golangci-lint ## Vet and lint test/flux (its own module, outside `make lint`), formatting included.
	cd $(FLUX_TESTS) && go vet ./... && $(GOLANGCI_LINT) run ./...
