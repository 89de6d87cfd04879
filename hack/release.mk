# Releases (docs/release.md), included from the Makefile
# (`include hack/release.mk`). It uses VERSION, IMG, LDFLAGS, LOCALBIN,
# HELM and CHART_DIR defined there and in hack/helm.mk.
#
# `make release VERSION=v0.1.0` writes into dist/ what goreleaser would:
# an archive per binary and platform (binary, LICENSE, README.md), a
# CycloneDX SBOM per archive, the chart packaged with version and
# appVersion stamped, install.yaml pinned to the image tag, the krew
# manifest, and checksums.txt over all of them. goreleaser itself is not
# taken: no approved release of it is served here.

CYCLONEDX_GOMOD ?= $(LOCALBIN)/cyclonedx-gomod
CYCLONEDX_GOMOD_VERSION ?= v1.10.0

RELEASE_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
# The krew manifest (cmd/kubectl-verification/krew.yaml) also offers the
# plugin to Windows users.
RELEASE_PLUGIN_PLATFORMS ?= $(RELEASE_PLATFORMS) windows/amd64
RELEASE_REPO ?= github.com/ordersync/verification-operator
# Where the krew manifest says the archives are: the GitHub release's assets.
RELEASE_URL ?= https://$(RELEASE_REPO)/releases/download/$(VERSION)
# A snapshot builds for this machine only (release-snapshot, test/release).
SNAPSHOT_VERSION ?= v0.0.0-snapshot

##@ Release

# What hack/release/*.sh read.
release: export VERSION := $(VERSION)
release: export LDFLAGS := $(LDFLAGS)
release: export CYCLONEDX_GOMOD := $(CYCLONEDX_GOMOD)
release: export RELEASE_REPO := $(RELEASE_REPO)
release: export RELEASE_URL := $(RELEASE_URL)
release: export KREW_PARTIAL := $(KREW_PARTIAL)

.PHONY: release
release: manifests kustomize helm cyclonedx-gomod ## Build every release artifact of VERSION=vX.Y.Z into dist/ (docs/release.md).
	@[[ "$(VERSION)" =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$$ ]] || { echo "make release needs VERSION=vX.Y.Z[-pre], not '$(VERSION)'" >&2; exit 1; }
	rm -rf dist && mkdir dist
	for p in $(RELEASE_PLATFORMS); do hack/release/archive.sh manager $$p; done
	for p in $(RELEASE_PLUGIN_PLATFORMS); do hack/release/archive.sh kubectl-verification $$p; done
	hack/release/krew.sh cmd/kubectl-verification/krew.yaml > dist/kubectl-verification.krew.yaml
	$(HELM) package $(CHART_DIR) --version $(VERSION:v%=%) --app-version $(VERSION) --destination dist
# build-installer pins the image by rewriting config/manager/kustomization.yaml;
# a release leaves the tree as it found it.
	cp config/manager/kustomization.yaml dist/.kustomization.yaml && \
		trap 'mv dist/.kustomization.yaml config/manager/kustomization.yaml' EXIT && \
		$(MAKE) --no-print-directory build-installer
# The glob expands before the redirection creates checksums.txt.
	cd dist && sha256sum -- * > checksums.txt
	@echo "dist/ holds release $(VERSION); docs/release.md says what to upload, build and sign"

# RELEASE_PLATFORMS and RELEASE_PLUGIN_PLATFORMS of the machine's own
# GOOS/GOARCH: what test/release checks, in a fraction of the time. The krew
# manifest then lists this platform only.
.PHONY: release-snapshot
release-snapshot: ## Build a release (SNAPSHOT_VERSION) for this machine's platform only into dist/.
	host=$$(go env GOOS)/$$(go env GOARCH) && $(MAKE) --no-print-directory release \
		VERSION=$(SNAPSHOT_VERSION) RELEASE_PLATFORMS=$$host RELEASE_PLUGIN_PLATFORMS=$$host KREW_PARTIAL=true

# make test runs this before `go test ./...`. test/release is a Go module of
# its own so that it runs alone, not beside the other packages: it compiles
# both binaries with the release's flags, about 3 minutes of a cold 2-core
# machine. -count=1: its inputs are files that make reads, which go test's
# result cache does not see.
RELEASE_TESTS ?= test/release

.PHONY: test-release
test-release: controller-gen kustomize helm cyclonedx-gomod golangci-lint ## Run a snapshot release in a copy of the tree and check every artifact and checksum (test/release).
	cd $(RELEASE_TESTS) && go vet ./... && $(GOLANGCI_LINT) run ./...
	cd $(RELEASE_TESTS) && LOCALBIN=$(LOCALBIN) go test $(GOTEST_FLAGS) -count=1 -timeout 30m ./...

.PHONY: cyclonedx-gomod
cyclonedx-gomod: $(CYCLONEDX_GOMOD) ## Build cyclonedx-gomod into bin/ (once).
$(CYCLONEDX_GOMOD):
	GOBIN=$(LOCALBIN) go install github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod@$(CYCLONEDX_GOMOD_VERSION)
