{{/*
The manager's Deployment: the default instance (shard "") and, for each
entry of sharding.shards, a shard's (docs/scaling.md). With shards, the
default instance serves the providers without the label
verification.ordersync.dev/shard, and each shard those labeled with its
name: --watch-label-selector, as Flux shards its controllers. Each
Deployment elects its own leader.
*/}}
{{- define "verification-operator.deployment" -}}
{{- $root := .root }}
{{- $shard := .shard }}
# The pod is config/manager/manager.yaml's (test/deploy checks they match):
# it meets the restricted Pod Security Standard, so its security contexts
# are not values.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "verification-operator.resourceName" (list $root "controller-manager") }}{{ with $shard }}-{{ . }}{{ end }}
  namespace: {{ $root.Release.Namespace }}
  labels:
    {{- include "verification-operator.labels" $root | nindent 4 }}
    control-plane: controller-manager
    {{- with $shard }}
    verification.ordersync.dev/shard: {{ . }}
    {{- end }}
spec:
  # One active replica acts on vendors at a time (leader election); a second
  # replica only shortens failover.
  replicas: {{ $root.Values.replicas }}
  selector:
    matchLabels:
      {{- include "verification-operator.selectorLabels" $root | nindent 6 }}
      {{- with $shard }}
      verification.ordersync.dev/shard: {{ . }}
      {{- end }}
  template:
    metadata:
      annotations:
        {{- include "verification-operator.podAnnotations" $root | nindent 8 }}
      labels:
        {{- include "verification-operator.selectorLabels" $root | nindent 8 }}
        {{- with $shard }}
        verification.ordersync.dev/shard: {{ . }}
        {{- end }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      # Restricted Pod Security Standard.
      # More info: https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
      securityContext:
        runAsNonRoot: true
        seccompProfile:
          type: RuntimeDefault
      containers:
      - name: manager
        image: "{{ $root.Values.image.repository }}:{{ $root.Values.image.tag | default $root.Chart.AppVersion }}"
        imagePullPolicy: {{ $root.Values.image.pullPolicy }}
        command:
        - /manager
        args:
        {{- include "verification-operator.args" $root | nindent 8 }}
        {{- if $shard }}
        - --watch-label-selector=verification.ordersync.dev/shard={{ $shard }}
        {{- else if $root.Values.sharding.shards }}
        - --watch-label-selector=!verification.ordersync.dev/shard
        {{- end }}
        env:
        # The Lease and ClusterVerificationProviders' default Secrets live
        # in the manager's own namespace.
        - name: POD_NAMESPACE
          valueFrom:
            fieldRef:
              fieldPath: metadata.namespace
        # Sent to vendors in User-Agent, so a call can be traced to a replica.
        - name: POD_NAME
          valueFrom:
            fieldRef:
              fieldPath: metadata.name
        {{- with $root.Values.extraEnv }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
        ports:
        {{- if $root.Values.metrics.enabled }}
        - name: https
          containerPort: 8443
          protocol: TCP
        {{- end }}
        {{- if $root.Values.webhook.enabled }}
        - name: webhook
          containerPort: 9443
          protocol: TCP
        {{- end }}
        - name: health
          containerPort: 8081
          protocol: TCP
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          runAsNonRoot: true
          capabilities:
            drop:
            - ALL
        livenessProbe:
          httpGet:
            path: /healthz
            port: 8081
          initialDelaySeconds: 15
          periodSeconds: 20
        readinessProbe:
          httpGet:
            path: /readyz
            port: 8081
          initialDelaySeconds: 5
          periodSeconds: 10
        resources:
          {{- toYaml $root.Values.resources | nindent 10 }}
        {{- if or $root.Values.metrics.certSecretName $root.Values.webhook.certSecretName }}
        volumeMounts:
        {{- if $root.Values.metrics.certSecretName }}
        - name: metrics-certs
          mountPath: {{ include "verification-operator.metricsCertPath" $root }}
          readOnly: true
        {{- end }}
        {{- if $root.Values.webhook.certSecretName }}
        - name: webhook-certs
          mountPath: {{ include "verification-operator.webhookCertPath" $root }}
          readOnly: true
        {{- end }}
        {{- end }}
      {{- if or $root.Values.metrics.certSecretName $root.Values.webhook.certSecretName }}
      volumes:
      {{- if $root.Values.metrics.certSecretName }}
      - name: metrics-certs
        secret:
          secretName: {{ $root.Values.metrics.certSecretName }}
          items:
          - key: tls.crt
            path: tls.crt
          - key: tls.key
            path: tls.key
      {{- end }}
      {{- if $root.Values.webhook.certSecretName }}
      - name: webhook-certs
        secret:
          secretName: {{ $root.Values.webhook.certSecretName }}
          items:
          - key: tls.crt
            path: tls.crt
          - key: tls.key
            path: tls.key
      {{- end }}
      {{- end }}
      serviceAccountName: {{ include "verification-operator.serviceAccountName" $root }}
      # Longer than a vendor call (30s) plus the write of its result, so a
      # cancel in flight at shutdown is recorded, not lost.
      terminationGracePeriodSeconds: 60
      {{- with $root.Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      {{- with $root.Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $root.Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $root.Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- include "verification-operator.topologySpreadConstraints" $root | nindent 8 }}
      {{- end }}
{{- end }}
