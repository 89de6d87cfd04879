# verification-operator

# VERSION is stamped into the binary (`manager --version`, the
# verification_operator_build_info metric) and, when set, is the image tag:
# `make build-installer VERSION=v0.3.0` writes an installer pinned to
# ghcr.io/ordersync/verification-operator:v0.3.0.
VERSION ?= dev
ifeq ($(VERSION),dev)
IMG ?= ghcr.io/ordersync/verification-operator:latest
else
IMG ?= ghcr.io/ordersync/verification-operator:$(VERSION)
endif
LDFLAGS ?= -X github.com/ordersync/verification-operator/internal/version.Version=$(VERSION)
CONTAINER_TOOL ?= docker

# Tools are built from the Go module proxy into bin/, once.
LOCALBIN ?= $(shell pwd)/bin
CONTROLLER_GEN ?= $(LOCALBIN)/controller-gen
KUSTOMIZE ?= $(LOCALBIN)/kustomize
GOLANGCI_LINT ?= $(LOCALBIN)/golangci-lint
CONTROLLER_TOOLS_VERSION ?= v0.23.0
KUSTOMIZE_VERSION ?= v5.8.2
GOLANGCI_LINT_VERSION ?= v2.15.0

# The local control plane (kube-apiserver, etcd) built from source by
# hack/build-control-plane.sh. A KUBEBUILDER_ASSETS set by the caller wins.
CONTROL_PLANE_DIR ?= $(LOCALBIN)/k8s
KUBEBUILDER_ASSETS ?= $(CONTROL_PLANE_DIR)
export KUBEBUILDER_ASSETS

# Go test flags; `make test GOTEST_FLAGS=-v` for detail.
GOTEST_FLAGS ?=

SHELL = /usr/bin/env bash -o pipefail
.SHELLFLAGS = -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

.PHONY: manifests
manifests: controller-gen ## Generate CRDs and RBAC from the kubebuilder markers.
	$(CONTROLLER_GEN) rbac:roleName=manager-role crd paths="./api/...;./controllers/..." output:crd:artifacts:config=config/crd/bases output:rbac:artifacts:config=config/rbac

.PHONY: generate
generate: controller-gen ## Generate DeepCopy methods.
	$(CONTROLLER_GEN) object:headerFile="hack/boilerplate.go.txt" paths="./api/..."

.PHONY: fmt
fmt: ## Run go fmt.
	go fmt ./...

.PHONY: vet
vet: ## Run go vet.
	go vet ./...

.PHONY: lint
lint: golangci-lint ## Run golangci-lint (.golangci.yml).
	$(GOLANGCI_LINT) run

.PHONY: lint-fix
lint-fix: golangci-lint ## Run golangci-lint and apply its fixes.
	$(GOLANGCI_LINT) run --fix

.PHONY: sandbox
sandbox: envtest ## Run the local sandbox: control plane, vendor simulators, samples and the operator (docs/sandbox.md).
	go run ./cmd/sandbox

.PHONY: test
test: check-tree check-deps manifests generate fmt vet lint envtest kustomize helm-lint test-monitoring test-flux ## Run every test: unit, conformance, envtest suites, the chart, the alerts, the GitOps recipes.
	go test $(GOTEST_FLAGS) ./... -coverprofile cover.out
# A snapshot release, checked (hack/release.mk): about 3 minutes on a cold cache.
test: test-release

.PHONY: check-tree
check-tree: ## Fail when git tracks a build output or a file over 1 MiB.
	hack/check-tree.sh

.PHONY: check-deps
check-deps: ## Fail when go.mod is not tidy or the k8s.io modules are at several versions.
	hack/check-deps.sh

.PHONY: bench
bench: envtest ## Measure the manager against the local control plane and simulators (docs/performance.md); writes bench-results.json.
	go run ./test/bench $(BENCH_FLAGS)

.PHONY: envtest
envtest: $(CONTROL_PLANE_DIR)/kube-apiserver ## Build kube-apiserver and etcd from source into bin/k8s (once).

$(CONTROL_PLANE_DIR)/kube-apiserver:
	@if [ "$(KUBEBUILDER_ASSETS)" != "$(CONTROL_PLANE_DIR)" ]; then echo "Using KUBEBUILDER_ASSETS=$(KUBEBUILDER_ASSETS)"; else hack/build-control-plane.sh "$(CONTROL_PLANE_DIR)"; fi

##@ Build

.PHONY: build
build: manifests generate fmt vet ## Build the manager binary.
	go build -ldflags "$(LDFLAGS)" -o bin/manager ./cmd/manager

.PHONY: run
run: manifests generate fmt vet ## Run the manager against the cluster in the current kubeconfig.
	go run ./cmd/manager

.PHONY: docker-build
docker-build: ## Build the manager image.
	$(CONTAINER_TOOL) build --build-arg VERSION=$(VERSION) -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image.
	$(CONTAINER_TOOL) push $(IMG)

include hack/deploy.mk
include hack/helm.mk
include hack/monitoring.mk
include hack/gitops.mk
include hack/plugin.mk
include hack/chaos.mk
include hack/release.mk

##@ Tools

.PHONY: controller-gen
controller-gen: $(CONTROLLER_GEN) ## Build controller-gen into bin/.
$(CONTROLLER_GEN):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/controller-tools/cmd/controller-gen@$(CONTROLLER_TOOLS_VERSION)

.PHONY: kustomize
kustomize: $(KUSTOMIZE) ## Build kustomize into bin/.
$(KUSTOMIZE):
	GOBIN=$(LOCALBIN) go install sigs.k8s.io/kustomize/kustomize/v5@$(KUSTOMIZE_VERSION)

.PHONY: golangci-lint
golangci-lint: $(GOLANGCI_LINT) ## Build golangci-lint into bin/.
$(GOLANGCI_LINT):
	GOBIN=$(LOCALBIN) go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)
