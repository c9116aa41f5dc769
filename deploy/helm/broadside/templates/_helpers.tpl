{{/* The agent's namespace: fixed, since its ledger, kill switch and Lease live there. */}}
{{- define "broadside.namespace" -}}broadside-system{{- end }}

{{- define "broadside.name" -}}broadside-agent{{- end }}

{{- define "broadside.labels" -}}
app.kubernetes.io/name: broadside
app.kubernetes.io/component: agent
app.kubernetes.io/part-of: broadside
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "broadside.selectorLabels" -}}
app.kubernetes.io/name: broadside
app.kubernetes.io/component: agent
{{- end }}

{{- define "broadside.daemonLabels" -}}
app.kubernetes.io/name: broadside
app.kubernetes.io/component: daemon
app.kubernetes.io/part-of: broadside
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "broadside.daemonSelectorLabels" -}}
app.kubernetes.io/name: broadside
app.kubernetes.io/component: daemon
{{- end }}

{{/*
The namespaces the agent acts in (namespaced mode), checked here so that a bad value fails the install
rather than the pod: a list of names, none of them protected.
*/}}
{{- define "broadside.watchNamespaces" -}}
{{- if not .Values.watchNamespaces }}
{{- fail "watchNamespaces: give at least one namespace, or set clusterMode=true" }}
{{- end }}
{{- range .Values.watchNamespaces }}
{{- if has . (list "kube-system" "kube-public" "kube-node-lease" "broadside-system") }}
{{- fail (printf "watchNamespaces: namespace %s is protected and is never a target" .) }}
{{- end }}
{{- end }}
{{- join "," .Values.watchNamespaces }}
{{- end }}

{{/*
What the agent may do where it acts (a Role per watched namespace, or the ClusterRole of cluster mode):
the pods it kills, the objects its faults change, its own resources, their status and Events.
*/}}
{{- define "broadside.targetRules" -}}
# Pod faults: plan from the pods and their ReplicaSets, kill or evict, watch the recovery; patch swaps a
# pod's images for pod-failure's pause image and puts them back.
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch, delete, patch]
- apiGroups: [""]
  resources: [pods/eviction]
  verbs: [create]
- apiGroups: [apps]
  resources: [replicasets]
  verbs: [get, list, watch]
- apiGroups: [policy]
  resources: [poddisruptionbudgets]
  verbs: [list]
# Object faults (ConfigDrift, ResourceSqueeze, Scale): read, watch for heals, patch and revert.
- apiGroups: [apps]
  resources: [deployments, statefulsets, daemonsets]
  verbs: [get, list, watch, patch]
- apiGroups: [apps]
  resources: [deployments/scale, statefulsets/scale]
  verbs: [get, patch, update]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, list, watch, patch]
{{- if .Values.rbac.secretFaults }}
- apiGroups: [""]
  resources: [secrets]
  verbs: [get, list, watch, patch]
{{- end }}
# Broadside's own resources: watched, their status written, finalizers held while a revert is pending.
- apiGroups: [broadside.dev]
  resources: [podchaos, schedules, configdrifts, resourcesqueezes, scales, experiments, networkchaos]
  verbs: [get, list, watch, update, patch]
# A Schedule's runs: a child PodChaos created at each instant, the oldest finished ones deleted.
- apiGroups: [broadside.dev]
  resources: [podchaos]
  verbs: [create, delete]
- apiGroups: [broadside.dev]
  resources: [podchaos/status, schedules/status, configdrifts/status, resourcesqueezes/status, scales/status, experiments/status, networkchaos/status]
  verbs: [get, update, patch]
- apiGroups: [broadside.dev]
  resources: [podchaos/finalizers, schedules/finalizers, configdrifts/finalizers, resourcesqueezes/finalizers, scales/finalizers, experiments/finalizers, networkchaos/finalizers]
  verbs: [update]
# Events on those resources, for `kubectl describe`.
- apiGroups: [""]
  resources: [events]
  verbs: [create, patch]
{{- end }}
