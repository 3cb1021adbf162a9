{{/*
What it is: the chart's shared snippets (names, labels, the environment every container gets).
Needs: values.yaml's config, secrets and image sections.
How to use: `include "tindaklanjut.env" .` inside a container spec.
*/}}

{{- define "tindaklanjut.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 52 | trimSuffix "-" -}}
{{- end -}}

{{- define "tindaklanjut.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "tindaklanjut.selector" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tindaklanjut.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "tindaklanjut.secretEnv" -}}
- name: {{ .variable }}
  valueFrom:
    secretKeyRef:
      name: {{ required "secrets.name must name an existing Secret" .root.Values.secrets.name }}
      key: {{ .key }}
{{- end -}}

{{- define "tindaklanjut.env" -}}
- name: TINDAKLANJUT_ENVIRONMENT
  value: production
- name: TINDAKLANJUT_VAR_DIR
  value: /var/lib/tindaklanjut
- name: TINDAKLANJUT_API_HOST
  value: 0.0.0.0
- name: TINDAKLANJUT_API_PORT
  value: "8000"
- name: TINDAKLANJUT_HEALTH_PORT
  value: "8001"
- name: TINDAKLANJUT_KAFKA_BOOTSTRAP
  value: {{ .Values.config.kafkaBootstrap | quote }}
- name: TINDAKLANJUT_KAFKA_SECURITY_PROTOCOL
  value: {{ .Values.config.kafkaSecurityProtocol | quote }}
- name: TINDAKLANJUT_KAFKA_SASL_MECHANISM
  value: {{ .Values.config.kafkaSaslMechanism | quote }}
- name: TINDAKLANJUT_KAFKA_SESSION_TIMEOUT_MS
  value: "45000"
- name: TINDAKLANJUT_KAFKA_HEARTBEAT_INTERVAL_MS
  value: "3000"
- name: TINDAKLANJUT_KAFKA_REBALANCE_TIMEOUT_MS
  value: "60000"
- name: TINDAKLANJUT_KAFKA_COMPRESSION
  value: gzip
- name: TINDAKLANJUT_TOPIC_PARTITIONS
  value: {{ .Values.config.topicPartitions | quote }}
- name: TINDAKLANJUT_TOPIC_REPLICATION
  value: {{ .Values.config.topicReplication | quote }}
- name: TINDAKLANJUT_PUBLIC_URL
  value: {{ .Values.config.publicUrl | quote }}
- name: TINDAKLANJUT_SMTP_HOST
  value: {{ .Values.config.smtpHost | quote }}
- name: TINDAKLANJUT_SMTP_PORT
  value: {{ .Values.config.smtpPort | quote }}
- name: TINDAKLANJUT_SMTP_STARTTLS
  value: "true"
- name: TINDAKLANJUT_EVIDENCE_STORE
  value: s3
- name: TINDAKLANJUT_EVIDENCE_S3_ENDPOINT
  value: {{ .Values.config.evidenceS3Endpoint | quote }}
- name: TINDAKLANJUT_EVIDENCE_S3_BUCKET
  value: {{ .Values.config.evidenceS3Bucket | quote }}
- name: TINDAKLANJUT_LOG_FORMAT
  value: {{ .Values.config.logFormat | quote }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_DATABASE_URL" "key" .Values.secrets.keys.databaseUrl) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_WEBHOOK_SECRET" "key" .Values.secrets.keys.webhookSecret) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_SMTP_USERNAME" "key" .Values.secrets.keys.smtpUsername) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_SMTP_PASSWORD" "key" .Values.secrets.keys.smtpPassword) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_KAFKA_SASL_USERNAME" "key" .Values.secrets.keys.kafkaSaslUsername) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "TINDAKLANJUT_KAFKA_SASL_PASSWORD" "key" .Values.secrets.keys.kafkaSaslPassword) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "AWS_ACCESS_KEY_ID" "key" .Values.secrets.keys.awsAccessKeyId) }}
{{ include "tindaklanjut.secretEnv" (dict "root" . "variable" "AWS_SECRET_ACCESS_KEY" "key" .Values.secrets.keys.awsSecretAccessKey) }}
{{- end -}}

{{- define "tindaklanjut.volumes" -}}
- name: var
  emptyDir: {}
- name: tmp
  emptyDir: {}
{{- end -}}

{{- define "tindaklanjut.volumeMounts" -}}
- name: var
  mountPath: /var/lib/tindaklanjut
- name: tmp
  mountPath: /tmp
{{- end -}}
