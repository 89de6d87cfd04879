{{/*
The chart name, or nameOverride.
*/}}
{{- define "verification-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The prefix of every resource name: with the release name
verification-operator, every object gets the name config/default (kustomize)
gives it, so the README's names hold for both installers.
*/}}
{{- define "verification-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A resource name: the fullname and a suffix, cut to 63 characters (a
Service name is a DNS label). Call it with (list . "suffix").
*/}}
{{- define "verification-operator.resourceName" -}}
{{- $ := index . 0 }}
{{- printf "%s-%s" (include "verification-operator.fullname" $) (index . 1) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "verification-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels of every object.
*/}}
{{- define "verification-operator.labels" -}}
helm.sh/chart: {{ include "verification-operator.chart" . }}
app.kubernetes.io/name: {{ include "verification-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
The manager pod's labels, selected by its Deployment and metrics Service;
control-plane is the label kubebuilder (and config/) select by. Immutable
in a Deployment's selector: never change these.
*/}}
{{- define "verification-operator.selectorLabels" -}}
control-plane: controller-manager
app.kubernetes.io/name: {{ include "verification-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "verification-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.name }}
{{- .Values.serviceAccount.name }}
{{- else }}
{{- include "verification-operator.resourceName" (list . "controller-manager") }}
{{- end }}
{{- end }}

{{/*
The manager's ServiceAccount as an RBAC subject.
*/}}
{{- define "verification-operator.managerSubject" -}}
- kind: ServiceAccount
  name: {{ include "verification-operator.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
The rules of a Role or ClusterRole that config/rbac defines, read from the
chart's copy of it (files/rbac/<file>, written by `make helm-manifests`), so
that a rule controller-gen adds from a +kubebuilder:rbac marker reaches the
chart too. Call it with (list . "role.yaml").
*/}}
{{- define "verification-operator.rulesOf" -}}
{{- $ := index . 0 }}
{{- $role := $.Files.Get (printf "files/rbac/%s" (index . 1)) | fromYaml }}
{{- if not $role.rules }}
{{- fail (printf "files/rbac/%s has no rules: run `make helm-manifests`" (index . 1)) }}
{{- end }}
{{- toYaml $role.rules }}
{{- end }}

{{/*
The manager's arguments. Probes and metrics use the ports config/manager
uses; --leader-elect defaults to true in the binary, so turning it off needs
=false.
*/}}
{{- define "verification-operator.args" -}}
- {{ ternary "--leader-elect" "--leader-elect=false" .Values.leaderElection.enabled }}
- --health-probe-bind-address=:8081
{{- if .Values.metrics.enabled }}
- --metrics-bind-address=:8443
{{- if .Values.metrics.certSecretName }}
- --metrics-cert-path={{ include "verification-operator.metricsCertPath" . }}
{{- end }}
{{- else }}
- --metrics-bind-address=0
{{- end }}
{{- if .Values.webhook.enabled }}
- --webhook-bind-address=:9443
{{- if .Values.webhook.certSecretName }}
- --webhook-cert-path={{ include "verification-operator.webhookCertPath" . }}
{{- end }}
{{- end }}
{{- if not .Values.clusterProviders }}
- --cluster-providers=false
{{- end }}
- --workers={{ .Values.workers }}
- --zap-log-level={{ .Values.logLevel }}
{{- with .Values.watchNamespaces }}
- --watch-namespaces={{ join "," . }}
{{- end }}
{{- range .Values.extraArgs }}
- {{ . | quote }}
{{- end }}
{{- end }}

{{/*
Where the metrics certificate Secret is mounted: kubebuilder's path.
*/}}
{{- define "verification-operator.metricsCertPath" -}}
/tmp/k8s-metrics-server/metrics-certs
{{- end }}

{{- define "verification-operator.webhookCertPath" -}}
/tmp/k8s-webhook-server/serving-certs
{{- end }}

{{- define "verification-operator.metricsServiceName" -}}
{{- include "verification-operator.resourceName" (list . "controller-manager-metrics-service") }}
{{- end }}

{{/*
The ClusterRole that lets a scraper get /metrics (rbac/metrics.yaml).
*/}}
{{- define "verification-operator.metricsReaderName" -}}
{{- include "verification-operator.resourceName" (list . "metrics-reader") }}
{{- end }}

{{/*
Deleting a CRD deletes every VerificationOrder, and the manager then
cancels each deletionPolicy: Cancel order at its vendor: Helm keeps the
CRDs on uninstall, Argo CD neither prunes nor deletes them, Flux does not
prune them. config/crd/kustomization.yaml sets the same annotations.
*/}}
{{- define "verification-operator.crdKeepAnnotations" -}}
helm.sh/resource-policy: keep
argocd.argoproj.io/sync-options: Prune=false,Delete=false
kustomize.toolkit.fluxcd.io/prune: disabled
{{- end }}

{{/*
The CRDs the chart installs (files/crds), for the commands NOTES.txt
prints: their names, space-separated, with (list . "names"); their plural
resources, comma-separated, with (list . "plurals").
*/}}
{{- define "verification-operator.crdList" -}}
{{- $ := index . 0 }}
{{- $plurals := eq (index . 1) "plurals" }}
{{- $out := list }}
{{- range $path, $_ := $.Files.Glob "files/crds/*.yaml" }}
{{- $crd := $.Files.Get $path | fromYaml }}
{{- $out = append $out (ternary $crd.spec.names.plural $crd.metadata.name $plurals) }}
{{- end }}
{{- join (ternary "," " " $plurals) $out }}
{{- end }}

{{/*
The ServiceAccount whose token the ServiceMonitor sends, when the chart
creates it (metrics.serviceMonitor.authorization.createToken).
*/}}
{{- define "verification-operator.metricsScraperName" -}}
{{- include "verification-operator.resourceName" (list . "metrics-scraper") }}
{{- end }}

{{/*
The Secret holding the token the ServiceMonitor sends: the one the chart
creates, the user's, or none (the scrape class supplies the credentials).
*/}}
{{- define "verification-operator.metricsTokenSecretName" -}}
{{- $authorization := .Values.metrics.serviceMonitor.authorization }}
{{- if $authorization.createToken }}
{{- include "verification-operator.resourceName" (list . "metrics-scraper-token") }}
{{- else }}
{{- $authorization.credentials.name }}
{{- end }}
{{- end }}

{{/*
The manager pod's annotations: kubectl's default container, then
podAnnotations (_validate.tpl refuses one that would replace it).
*/}}
{{- define "verification-operator.podAnnotations" -}}
kubectl.kubernetes.io/default-container: manager
{{- with .Values.podAnnotations }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
topologySpreadConstraints, each without a labelSelector given this release's
manager pods' selector labels, so that it spreads these pods only.
*/}}
{{- define "verification-operator.topologySpreadConstraints" -}}
{{- $constraints := list }}
{{- range .Values.topologySpreadConstraints }}
{{- $constraint := deepCopy . }}
{{- if not (hasKey $constraint "labelSelector") }}
{{- $_ := set $constraint "labelSelector" (dict "matchLabels" (include "verification-operator.selectorLabels" $ | fromYaml)) }}
{{- end }}
{{- $constraints = append $constraints $constraint }}
{{- end }}
{{- toYaml $constraints }}
{{- end }}

{{/*
The alerts of config/prometheus/rules.yaml (the chart's copy in
files/prometheus, written by `make helm-manifests`) for this release. The
rule file names objects as config/default does (prefix
verification-operator-, namespace verification-operator-system): each such
name is replaced by this release's, so that VerificationOperatorDown watches
the job of this release's metrics Service (the Prometheus Operator names the
job after the Service) and its text names this release's objects. With the
release verification-operator in verification-operator-system nothing
changes. Renders the PrometheusRule's spec.
*/}}
{{- define "verification-operator.prometheusRuleSpec" -}}
{{- $path := "files/prometheus/rules.yaml" }}
{{- $rules := .Files.Get $path }}
{{- $job := printf "up{job=%q}" "verification-operator-controller-manager-metrics-service" }}
{{- if not (contains $job $rules) }}
{{- fail (printf "%s has no %s: run `make helm-manifests`, and if config/prometheus/rules.yaml now selects the manager otherwise, teach templates/_helpers.tpl's prometheusRuleSpec" $path $job) }}
{{- end }}
{{- /* Longest first, and in one pass (through placeholders), so that no name is replaced inside another or inside a replacement. */}}
{{- $names := list
  (list "verification-operator-controller-manager-metrics-service" (include "verification-operator.metricsServiceName" .))
  (list "verification-operator-metrics-reader" (include "verification-operator.metricsReaderName" .))
  (list "verification-operator-system" .Release.Namespace) }}
{{- range $i, $name := $names }}
{{- $rules = replace (index $name 0) (printf "\x00%d\x00" $i) $rules }}
{{- end }}
{{- range $i, $name := $names }}
{{- $rules = replace (printf "\x00%d\x00" $i) (index $name 1) $rules }}
{{- end }}
{{- $rule := $rules | fromYaml }}
{{- if not $rule.spec }}
{{- fail (printf "%s is not a PrometheusRule: run `make helm-manifests`" $path) }}
{{- end }}
{{- toYaml $rule.spec }}
{{- end }}
