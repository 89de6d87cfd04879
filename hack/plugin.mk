# The kubectl plugin (cmd/kubectl-verification), included from the Makefile
# (`include hack/plugin.mk`). docs/kubectl-plugin.md describes it.

# What plugin-release builds and fills into the krew manifest template.
PLUGIN_PLATFORMS ?= linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64
PLUGIN_VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# Where the archives will be downloaded from, e.g. the release's download
# URL; no default: the manifest must not point anywhere they are not.
PLUGIN_URL_BASE ?=
PLUGIN_HOMEPAGE ?= https://$(shell go list -m)
PLUGIN_DIST ?= dist/plugin

##@ kubectl plugin

.PHONY: plugin
plugin: fmt vet ## Build the kubectl plugin into bin/kubectl-verification (with bin/ on PATH: kubectl verification ...).
	go build -o $(LOCALBIN)/kubectl-verification ./cmd/kubectl-verification

# One archive per platform, kubectl-verification_<version>_<os>_<arch>.tar.gz
# holding the binary, then the krew manifest with each archive's URL and
# sha256 filled in: upload the archives to PLUGIN_URL_BASE, then submit or
# host dist/plugin/verification.yaml.
.PHONY: plugin-release
plugin-release: ## Build the plugin's archives for PLUGIN_PLATFORMS and its krew manifest into dist/plugin/ (needs PLUGIN_URL_BASE).
	@if [ -z "$(PLUGIN_URL_BASE)" ]; then echo "set PLUGIN_URL_BASE to where the archives will be downloaded from" >&2; exit 1; fi
	rm -rf $(PLUGIN_DIST) && mkdir -p $(PLUGIN_DIST)
	sed -e 's|{{VERSION}}|$(PLUGIN_VERSION)|g' -e 's|{{URL_BASE}}|$(PLUGIN_URL_BASE)|g' -e 's|{{HOMEPAGE}}|$(PLUGIN_HOMEPAGE)|g' \
		-e '1,/^apiVersion/{/^#/d;}' cmd/kubectl-verification/krew.yaml > $(PLUGIN_DIST)/verification.yaml
	for platform in $(PLUGIN_PLATFORMS); do \
		os=$${platform%/*}; arch=$${platform#*/}; exe=kubectl-verification; \
		if [ "$$os" = windows ]; then exe=$$exe.exe; fi; \
		dir=$(PLUGIN_DIST)/$${os}_$$arch; mkdir -p $$dir; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch go build -trimpath -ldflags=-s -o $$dir/$$exe ./cmd/kubectl-verification; \
		archive=kubectl-verification_$(PLUGIN_VERSION)_$${os}_$$arch.tar.gz; \
		tar -C $$dir -czf $(PLUGIN_DIST)/$$archive $$exe; \
		sum=$$(sha256sum $(PLUGIN_DIST)/$$archive | cut -d' ' -f1); \
		sed -i "s|{{SHA256_$${os}_$$arch}}|$$sum|" $(PLUGIN_DIST)/verification.yaml; \
	done
	@if grep -n '{{' $(PLUGIN_DIST)/verification.yaml; then echo "the krew manifest has platforms PLUGIN_PLATFORMS did not build" >&2; exit 1; fi
	@echo "wrote $(PLUGIN_DIST)/verification.yaml and the archives it names"
