{{/* The chart name, or nameOverride. */}}
{{- define "dcw.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
A name that fits its Kubernetes limit: base + suffix when short enough, else base cut down, a dash and the first 6
characters of sha256(base), then the suffix. The hash keeps two long names that share a prefix apart and is the same on
every render; certs/generate.sh --release computes the same names. Call with (list base suffix limit).
*/}}
{{- define "dcw.fit" -}}
{{- $base := index . 0 }}{{- $suffix := index . 1 }}{{- $limit := index . 2 }}
{{- if le (len (printf "%s%s" $base $suffix)) $limit }}
{{- printf "%s%s" $base $suffix }}
{{- else }}
{{- $keep := sub (sub $limit (len $suffix)) 7 | int }}
{{- printf "%s-%s%s" ($base | trunc $keep | trimSuffix "-" | trimSuffix ".") (sha256sum $base | trunc 6) $suffix }}
{{- end }}
{{- end }}

{{/* The name every object derives from: fullnameOverride, the release name, or release-chart; at most 63 characters
(the Service name is a DNS label). */}}
{{- define "dcw.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- include "dcw.fit" (list .Values.fullnameOverride "" 63) }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- include "dcw.fit" (list .Release.Name "" 63) }}
{{- else }}
{{- include "dcw.fit" (list (printf "%s-%s" .Release.Name $name) "" 63) }}
{{- end }}
{{- end }}
{{- end }}

{{/* The audit CronJob: 52 characters at most, as the Jobs it creates add 11. */}}
{{- define "dcw.auditName" -}}{{ include "dcw.fit" (list (include "dcw.fullname" .) "-audit" 52) }}{{- end }}

{{/* The webhook's name in the configuration, in API errors ("failed calling webhook ..."): names the release. */}}
{{- define "dcw.webhookName" -}}{{ include "dcw.fullname" . }}.pullsecrets.dockerconfig-webhook.dev{{- end }}

{{/* Namespaces the webhook never sees, and the audit skips: one list for both. */}}
{{- define "dcw.excludedNamespaces" -}}
{{- concat (list "kube-system" .Release.Namespace) .Values.webhook.excludedNamespaces | uniq | join "," }}
{{- end }}

{{/* webhook.strict, or the top-level strict of chart 0.1.0 (deprecated, still honoured for one release). */}}
{{- define "dcw.strict" -}}
{{- if or .Values.webhook.strict .Values.strict }}true{{- else }}false{{- end }}
{{- end }}

{{/* Labels of the Secrets the pods make: selectable by release, and opted out of every webhook. The release is in a
label of the project's own, never app.kubernetes.io/instance: GitOps tools that track objects by that label (Argo CD
before 3.0) would claim these Secrets, find them missing from Git and prune them. */}}
{{- define "dcw.certificateLabels" -}}
{{- printf "app.kubernetes.io/name=%s,app.kubernetes.io/part-of=dockerconfig-webhook,app.kubernetes.io/component=certificates,%s=true,dockerconfig-webhook/release=%s" (include "dcw.name" .) .Values.webhook.optOutLabel .Release.Name }}
{{- end }}

{{/* Labels of every object; component is added per object. */}}
{{- define "dcw.labels" -}}
app.kubernetes.io/name: {{ include "dcw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: dockerconfig-webhook
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* What the Deployment, Service, PDB, NetworkPolicy and spread select the webhook's pods by. */}}
{{- define "dcw.selectorLabels" -}}
app.kubernetes.io/name: {{ include "dcw.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "dcw.image" -}}
{{- $repository := required "image.repository is required: set it to the repository you pushed the image to, e.g. --set image.repository=registry.example/team/dockerconfig-webhook (docs/install.md, \"Build and push the image\")" .Values.image.repository }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" $repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" $repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* image.pullPolicy, or IfNotPresent for a release tag or a digest and Always for a -SNAPSHOT tag (values.yaml). */}}
{{- define "dcw.pullPolicy" -}}
{{- if .Values.image.pullPolicy }}{{ .Values.image.pullPolicy }}
{{- else if and (not .Values.image.digest) (hasSuffix "-SNAPSHOT" (default .Chart.AppVersion .Values.image.tag)) }}Always
{{- else }}IfNotPresent
{{- end }}
{{- end }}

{{- define "dcw.tlsSecret" -}}{{ include "dcw.fullname" . }}-tls{{- end }}
{{- define "dcw.caSecret" -}}{{ include "dcw.fullname" . }}-ca{{- end }}
