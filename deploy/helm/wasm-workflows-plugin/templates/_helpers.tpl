{{/* Names and labels shared by the chart's objects. */}}
{{/* Whether the sidecar gets a service account token: discovery and distributed mode use it. */}}
{{- define "wwp.needsToken" -}}
{{- if and .Values.serviceAccount.create (or .Values.artifactRepository.discover .Values.distributed.enabled) -}}true{{- end -}}
{{- end -}}

{{- define "wwp.pluginName" -}}{{ .Values.name }}-executor-plugin{{- end -}}

{{- define "wwp.labels" -}}
app.kubernetes.io/name: wasm-workflows-plugin
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* The namespaces whose workflows run the plugin: the values' list, or the release namespace. */}}
{{- define "wwp.workflowNamespaces" -}}
{{- $namespaces := .Values.workflowNamespaces | default (list .Release.Namespace) -}}
{{- toJson $namespaces -}}
{{- end -}}

{{- define "wwp.registrySecret" -}}
{{- if .Values.registry.existingSecret -}}{{ .Values.registry.existingSecret }}
{{- else if .Values.registry.username -}}{{ include "wwp.pluginName" . }}-registry
{{- end -}}
{{- end -}}

{{/* Volumes the sidecar mounts; the agent pod gets them from the workflows' podSpecPatch. */}}
{{- define "wwp.volumes" -}}
{{- $c := .Values.cache -}}
{{- if ne $c.type "container" }}
- name: wasm-plugin-cache
  {{- if eq $c.type "emptyDir" }}
  emptyDir: {sizeLimit: {{ $c.sizeLimit }}}
  {{- else if eq $c.type "hostPath" }}
  hostPath: {path: {{ $c.hostPath }}, type: DirectoryOrCreate}
  {{- else if eq $c.type "persistentVolumeClaim" }}
  persistentVolumeClaim: {claimName: {{ required "cache.persistentVolumeClaim names the claim" $c.persistentVolumeClaim }}}
  {{- else }}
  {{- fail (printf "cache.type %q: use container, emptyDir, hostPath or persistentVolumeClaim" $c.type) }}
  {{- end }}
- name: wasm-plugin-tmp
  emptyDir: {}
{{- end }}
{{- if .Values.modules.configMap }}
- name: wasm-plugin-modules
  configMap: {name: {{ .Values.modules.configMap }}}
{{- else if .Values.modules.persistentVolumeClaim }}
- name: wasm-plugin-modules
  persistentVolumeClaim: {claimName: {{ .Values.modules.persistentVolumeClaim }}, readOnly: true}
{{- end }}
{{- end -}}

{{/* The sidecar container, as `argo executor-plugin build` puts it into the ConfigMap. */}}
{{- define "wwp.container" -}}
{{- $volumes := include "wwp.volumes" . | fromYamlArray -}}
name: {{ include "wwp.pluginName" . }}
image: {{ printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
args:
  - serve
  # The agent calls http://localhost:<first containerPort> with the token the controller mounts.
  - --bind=127.0.0.1
  - --port={{ .Values.port }}
  - --token-file=/var/run/argo/token
  - --module-dir=/modules
  - --fs-cache-dir=/var/cache/wasm-workflows-plugin
  - --log-level={{ .Values.logLevel }}
  {{- if .Values.healthPort }}
  - --health-port={{ .Values.healthPort }}
  {{- end }}
  {{- if .Values.artifactRepository.discover }}
  - --discover-artifact-repository
  {{- end }}
  {{- if .Values.distributed.enabled }}
  - --mode=distributed
  - --pod-image={{ .Values.distributed.podImage | default (printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion)) }}
  - --pod-image-pull-policy={{ .Values.image.pullPolicy }}
  {{- end }}
  {{- with .Values.registry.insecureRegistries }}
  - --insecure-oci-registries={{ join "," . }}
  {{- end }}
  {{- range $key, $value := .Values.flags }}
  - --{{ $key }}={{ $value }}
  {{- end }}
ports:
  - containerPort: {{ .Values.port }}
  {{- if .Values.healthPort }}
  - containerPort: {{ .Values.healthPort }}
    name: health
  {{- end }}
{{- $registrySecret := include "wwp.registrySecret" . }}
{{- if or .Values.artifactRepository.discover .Values.artifactRepository.credentialsSecret $registrySecret .Values.extraEnv }}
env:
  {{- if .Values.artifactRepository.discover }}
  - {name: ARGO_NAMESPACE, value: {{ .Values.artifactRepository.controllerNamespace | quote }}}
  {{- end }}
  {{- with .Values.artifactRepository.credentialsSecret }}
  - name: AWS_ACCESS_KEY_ID
    valueFrom: {secretKeyRef: {name: {{ . }}, key: accessKey}}
  - name: AWS_SECRET_ACCESS_KEY
    valueFrom: {secretKeyRef: {name: {{ . }}, key: secretKey}}
  {{- end }}
  {{- with $registrySecret }}
  - name: OCI_USERNAME
    valueFrom: {secretKeyRef: {name: {{ . }}, key: username}}
  - name: OCI_PASSWORD
    valueFrom: {secretKeyRef: {name: {{ . }}, key: password}}
  {{- end }}
  {{- with .Values.extraEnv }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}
{{- if .Values.healthPort }}
livenessProbe:
  httpGet: {path: /healthz, port: {{ .Values.healthPort }}}
  periodSeconds: 10
readinessProbe:
  httpGet: {path: /readyz, port: {{ .Values.healthPort }}}
  periodSeconds: 2
{{- end }}
resources:
  {{- toYaml .Values.resources | nindent 2 }}
securityContext:
  {{- toYaml .Values.securityContext | nindent 2 }}
  readOnlyRootFilesystem: {{ ne .Values.cache.type "container" }}
{{- if $volumes }}
volumeMounts:
  {{- range $volumes }}
  {{- if eq .name "wasm-plugin-cache" }}
  - {name: wasm-plugin-cache, mountPath: /var/cache/wasm-workflows-plugin}
  {{- else if eq .name "wasm-plugin-tmp" }}
  - {name: wasm-plugin-tmp, mountPath: /tmp}
  {{- else if eq .name "wasm-plugin-modules" }}
  - {name: wasm-plugin-modules, mountPath: /modules, readOnly: true}
  {{- end }}
  {{- end }}
{{- end }}
{{- end -}}

{{/* What workflows need so that the agent pod has the sidecar's volumes. */}}
{{- define "wwp.podSpecPatch" -}}
{{- $volumes := include "wwp.volumes" . | fromYamlArray -}}
{{- if $volumes -}}
{{ toYaml (dict "volumes" $volumes) }}
{{- end -}}
{{- end -}}
