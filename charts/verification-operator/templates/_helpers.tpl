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
