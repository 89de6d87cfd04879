{{/*
Checks across values that values.schema.json cannot state with a clear
message. Included by deployment.yaml, so every render runs them.
*/}}
{{- define "verification-operator.validate" -}}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) }}
{{- fail "replicas > 1 needs leaderElection.enabled: without it every replica would act on the same vendor orders" }}
{{- end }}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) }}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled: there is no metrics endpoint to scrape" }}
{{- end }}
{{- if and .Values.metrics.certSecretName (not .Values.metrics.enabled) }}
{{- fail "metrics.certSecretName needs metrics.enabled" }}
{{- end }}
{{- if and .Values.clusterProviders .Values.watchNamespaces }}
{{- fail "watchNamespaces needs clusterProviders=false: ClusterVerificationProviders need cluster-wide read, which a manager confined to namespaces does not have" }}
{{- end }}
{{- if and .Values.webhook.certSecretName (not .Values.webhook.enabled) }}
{{- fail "webhook.certSecretName needs webhook.enabled" }}
{{- end }}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "serviceAccount.create=false needs serviceAccount.name: the existing ServiceAccount the manager runs as" }}
{{- end }}
{{- end }}
