# Deployment targets, included from the Makefile (`include hack/deploy.mk`).
# They use IMG, KUSTOMIZE and the manifests and kustomize targets defined
# there, and act on the cluster of the current kubeconfig.

KUBECTL ?= kubectl

# `make uninstall ignore-not-found=true` (or undeploy) ignores objects that
# are already gone.
ignore-not-found ?= false

# Server-side apply: the CRDs, with their CEL rules and descriptions, are too
# large for client-side apply's last-applied-configuration annotation.
KUBECTL_APPLY ?= $(KUBECTL) apply --server-side --field-manager=verification-operator -f -

##@ Deployment

.PHONY: install
install: manifests kustomize ## Install the CRDs into the cluster of the current kubeconfig.
	$(KUSTOMIZE) build config/crd | $(KUBECTL_APPLY)

# Deleting the CRDs deletes every VerificationOrder and VerificationProvider.
# Orders with deletionPolicy: Cancel are canceled at the vendor if the manager
# is running, and their deletion waits for it if it is not.
.PHONY: uninstall
uninstall: manifests kustomize ## Delete the CRDs and so every order (Cancel-policy orders are canceled at the vendor).
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -

.PHONY: deploy
deploy: manifests kustomize ## Deploy CRDs, RBAC and the manager (image IMG) to verification-operator-system.
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default | $(KUBECTL_APPLY)

# Removing the operator leaves the CRDs, and so every order and its vendor
# order, alone (config/undeploy is config/default without the CRDs). With
# DELETE_CRDS=true the CRDs go first, while the manager still runs: every
# order is deleted, and deletionPolicy: Cancel orders are canceled at their
# vendor, as declared.
DELETE_CRDS ?= false

.PHONY: undeploy
undeploy: kustomize ## Remove the manager, RBAC and namespace; CRDs and orders stay. DELETE_CRDS=true also deletes every order (Cancel-policy ones are canceled at the vendor).
ifeq ($(DELETE_CRDS),true)
	$(KUSTOMIZE) build config/crd | $(KUBECTL) delete --ignore-not-found=$(ignore-not-found) -f -
endif
	$(KUSTOMIZE) build config/undeploy | $(KUBECTL) delete --ignore-not-found=true -f -

.PHONY: build-installer
build-installer: manifests kustomize ## Write dist/install.yaml: CRDs, RBAC and manager with image IMG (VERSION=v1.2.3 pins the tag).
	mkdir -p dist
	cd config/manager && $(KUSTOMIZE) edit set image controller=$(IMG)
	$(KUSTOMIZE) build config/default > dist/install.yaml
