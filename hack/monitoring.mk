# Monitoring targets, included from the Makefile (`include hack/monitoring.mk`):
# config/prometheus (a ServiceMonitor and a PrometheusRule for the Prometheus
# Operator) and config/grafana (a dashboard), docs/monitoring.md. Their tests
# are test/monitoring, a Go module of its own: they run Prometheus's rules
# engine and PromQL parser, whose dependencies stay out of the operator's
# go.mod, and so out of `go test ./...`; `make test` runs them here.

MONITORING_TESTS ?= test/monitoring

##@ Monitoring

.PHONY: test-monitoring
test-monitoring: kustomize lint-monitoring ## Test the alerts (promtool rule unit tests on Prometheus's rules engine), the dashboard's PromQL and the ServiceMonitor.
	cd $(MONITORING_TESTS) && KUSTOMIZE=$(KUSTOMIZE) go test $(GOTEST_FLAGS) ./...

.PHONY: lint-monitoring
lint-monitoring: golangci-lint ## Vet and lint test/monitoring (its own module, outside `make lint`), formatting included.
	cd $(MONITORING_TESTS) && go vet ./... && $(GOLANGCI_LINT) run ./...

.PHONY: deploy-monitoring
deploy-monitoring: kustomize ## Apply config/prometheus: ServiceMonitor and alerts (needs the Prometheus Operator's CRDs; docs/monitoring.md).
	$(KUSTOMIZE) build config/prometheus | $(KUBECTL_APPLY)

