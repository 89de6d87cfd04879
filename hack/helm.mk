# The Helm chart (charts/verification-operator), included from the Makefile
# (`include hack/helm.mk`). It uses LOCALBIN and the manifests target
# defined there.

HELM ?= $(LOCALBIN)/helm
# Helm 4 renders and lints apiVersion v2 charts exactly as Helm 3 installs
# them; the chart itself works with both.
HELM_VERSION ?= v4.3.1
CHART_DIR ?= charts/verification-operator

##@ Helm

# The chart reads the CRDs and the RBAC rules from copies of what
# controller-gen writes to config/, and the alerts and the dashboard from
# copies of config/prometheus/rules.yaml and config/grafana (its templates
# render them with .Files), so that the two installers cannot drift apart.
# The copies are committed, for installs straight from Git; test/deploy
# fails when they are stale.
HELM_COPIES ?= crds rbac prometheus grafana
.PHONY: helm-manifests
helm-manifests: manifests ## Copy the generated CRDs and RBAC roles, the alerts and the dashboard of config/ into the chart.
	cd $(CHART_DIR)/files && rm -rf $(HELM_COPIES) && mkdir -p $(HELM_COPIES)
	cp config/crd/bases/*.yaml $(CHART_DIR)/files/crds/
	cp config/rbac/*role.yaml $(CHART_DIR)/files/rbac/
	cp config/prometheus/rules.yaml $(CHART_DIR)/files/prometheus/
	cp config/grafana/*.json $(CHART_DIR)/files/grafana/

# Lints (and so renders) the chart with its default values and with each
# values file in ci/, the convention chart-testing (ct) follows.
.PHONY: helm-lint
helm-lint: helm ## Lint the chart with its default values and each ci/*-values.yaml.
	$(HELM) lint --strict $(CHART_DIR)
	for values in $(CHART_DIR)/ci/*-values.yaml; do $(HELM) lint --strict $(CHART_DIR) --values "$$values"; done

.PHONY: helm
helm: $(HELM) ## Build helm into bin/ (once).
$(HELM):
	GOBIN=$(LOCALBIN) go install helm.sh/helm/v4/cmd/helm@$(HELM_VERSION)
