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
{{- if and .Values.webhook.allowFrom (not (and .Values.webhook.enabled .Values.networkPolicy.enabled)) }}
{{- fail "webhook.allowFrom needs webhook.enabled and networkPolicy.enabled: without the NetworkPolicy nothing enforces it" }}
{{- end }}
{{- if and (not .Values.serviceAccount.create) (not .Values.serviceAccount.name) }}
{{- fail "serviceAccount.create=false needs serviceAccount.name: the existing ServiceAccount the manager runs as" }}
{{- end }}
{{- range $value := list "prometheusRule" "dashboard" }}
{{- if and (index $.Values.metrics $value).enabled (not $.Values.metrics.enabled) }}
{{- fail (printf "metrics.%s.enabled needs metrics.enabled: there would be no metrics to read" $value) }}
{{- end }}
{{- end }}
{{- with .Values.metrics.serviceMonitor.authorization }}
{{- if and .createToken .credentials.name }}
{{- fail "metrics.serviceMonitor.authorization: set createToken or credentials.name, not both" }}
{{- end }}
{{- if and $.Values.metrics.serviceMonitor.enabled (not .createToken) (not .credentials.name) (not $.Values.metrics.serviceMonitor.scrapeClass) }}
{{- fail "metrics.serviceMonitor needs credentials: the manager refuses anonymous scrapes. Set authorization.createToken, authorization.credentials.name, or a scrapeClass whose authorization supplies them" }}
{{- end }}
{{- end }}
{{- with .Values.podDisruptionBudget }}
{{- $replicas := int $.Values.replicas }}
{{- if and .enabled (hasKey . "minAvailable") (gt $replicas 0) }}
{{- $keep := .minAvailable }}
{{- if kindIs "string" $keep }}
{{- /* Kubernetes rounds a percentage of minAvailable up. */}}
{{- $keep = div (add (mul (trimSuffix "%" $keep | atoi) $replicas) 99) 100 }}
{{- end }}
{{- if ge (int $keep) $replicas }}
{{- fail (printf "podDisruptionBudget.minAvailable=%v keeps all %d replicas: no manager pod could ever be evicted, and node drains would hang. Lower it, raise replicas, or use maxUnavailable" .minAvailable $replicas) }}
{{- end }}
{{- end }}
{{- end }}
{{- range .Values.extraEnv }}
{{- if has .name (list "POD_NAMESPACE" "POD_NAME") }}
{{- fail (printf "extraEnv: %s is set by the chart (the manager's namespace and pod name)" .name) }}
{{- end }}
{{- if and .value .valueFrom }}
{{- fail (printf "extraEnv: %s has both value and valueFrom" .name) }}
{{- end }}
{{- end }}
{{- range $key, $_ := include "verification-operator.selectorLabels" . | fromYaml }}
{{- if hasKey $.Values.podLabels $key }}
{{- fail (printf "podLabels: %s is a selector label of the chart's (the Deployment's selector cannot change)" $key) }}
{{- end }}
{{- end }}
{{- if hasKey .Values.podAnnotations "kubectl.kubernetes.io/default-container" }}
{{- fail "podAnnotations: kubectl.kubernetes.io/default-container is the chart's (manager)" }}
{{- end }}
{{- if and .Values.sharding.shards .Values.webhook.enabled }}
{{- fail "sharding.shards with webhook.enabled: each shard's receiver knows its own shard's orders only, and the webhook Service would send a delivery to any of them. Use polls with shards (docs/scaling.md)" }}
{{- end }}
{{- if and .Values.sharding.shards (not .Values.leaderElection.enabled) }}
{{- fail "sharding.shards needs leaderElection.enabled: each shard elects its own leader, and its account Leases are the leader's" }}
{{- end }}
{{- end }}
