{{/*
Names are fixed, as in manifests/: the bindings are cluster-wide and the
Lease is one per cluster, so one release per cluster.
*/}}
{{- define "placer.name" -}}placer-scheduler{{- end }}

{{/* The labels manifests/ puts on every object, plus Helm's own. */}}
{{- define "placer.labels" -}}
app.kubernetes.io/name: placer-scheduler
app.kubernetes.io/part-of: placer
{{ include "placer.helmLabels" . }}
{{- end }}

{{- define "placer.helmLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{/*
The configuration file's text: values.config as given (a file's text, from
--set-file, comments kept) or as YAML (an object), or the shipped file verbatim.
*/}}
{{- define "placer.configText" -}}
{{- if kindIs "string" .Values.config }}{{ .Values.config }}
{{- else if .Values.config }}{{ toYaml .Values.config }}
{{- else }}{{ .Files.Get "files/scheduler-config.yaml" }}{{ end }}
{{- end }}

{{/*
The Lease the configuration elects its leader on, checked against what the
chart grants: a Role in the release's namespace for that one Lease name. A
mismatch would only show as a scheduler that never leads.
*/}}
{{- define "placer.leaseName" -}}
{{- $cfg := include "placer.configText" . | fromYaml }}
{{- if hasKey $cfg "Error" }}{{ fail (printf "config is not YAML: %s" $cfg.Error) }}{{ end }}
{{- $le := $cfg.leaderElection | default dict }}
{{- if not $le.leaderElect }}
{{- if gt (int .Values.replicas) 1 }}{{ fail "replicas > 1 needs config.leaderElection.leaderElect: true" }}{{ end }}
{{- end }}
{{- if and $le.resourceNamespace (ne $le.resourceNamespace .Release.Namespace) }}
{{- fail (printf "config.leaderElection.resourceNamespace is %s, but the release's namespace is %s: the Lease's Role is created there (install with --namespace %s or change the configuration)" $le.resourceNamespace .Release.Namespace $le.resourceNamespace) }}
{{- end }}
{{- if not $le.resourceNamespace }}{{ fail (printf "config.leaderElection.resourceNamespace must be set, to the release's namespace %s" .Release.Namespace) }}{{ end }}
{{- $le.resourceName | default "kube-scheduler" }}
{{- end }}
