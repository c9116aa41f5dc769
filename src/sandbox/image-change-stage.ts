import type { PodLifecycle } from "./stages.js";

/**
 * The kubelet's answer to a running pod whose container image was changed in place (what pod-failure
 * does): it stops the container and starts it again from the new image, so the container's restartCount
 * goes up by one and its status shows the new image. kwok's upstream Stages know nothing of this (they
 * carry a pod from Pending to Running once), so the sandbox adds this Stage of its own.
 *
 * - It matches a Running pod, not being deleted, with a container whose status image differs from its
 *   spec image, and fires after the pod-ready delay: the restart, then the readiness probe passing.
 * - Each changed container restarts: new image, restartCount + 1, lastState terminated (exit 0, as an app
 *   that handles SIGTERM), running since now. An unchanged container keeps its status.
 * - A container running a pause image (an image whose name is "pause", as registry.k8s.io/pause) does
 *   nothing; if it declares a readinessProbe, the probe fails and the container is not ready, so the pod's
 *   Ready and ContainersReady go False and its endpoints drop. Without a probe the kubelet reports it
 *   ready, and so does the sandbox. The traffic process closes the listener of a pod that runs a pause
 *   image either way (traffic/behaviour.ts): the body does not serve.
 * - Init containers are left alone: the kubelet does not run a completed init container again when its
 *   image changes.
 */

/** An image whose last path component is "pause", tagged or pinned by digest or neither. */
export const pauseImagePattern = "(^|/)pause([:@]|$)";

/** The spec's "name=image" pairs that the status does not show: the containers still to restart. */
const imageChanged =
  '[.spec.containers[] | .name + "=" + .image] - [.status.containerStatuses[]? | .name + "=" + .image] | length > 0';

const statusTemplate = `{{ $now := Now }}
{{ $root := . }}
{{ $ready := true }}
{{ range .spec.containers }}{{ if and (regexMatch "${pauseImagePattern}" .image) .readinessProbe }}{{ $ready = false }}{{ end }}{{ end }}
conditions:
- lastProbeTime: null
  lastTransitionTime: {{ $now | Quote }}
  status: {{ if $ready }}"True"{{ else }}"False"{{ end }}
  type: Ready
- lastProbeTime: null
  lastTransitionTime: {{ $now | Quote }}
  status: {{ if $ready }}"True"{{ else }}"False"{{ end }}
  type: ContainersReady
containerStatuses:
{{ range $item := .spec.containers }}
{{ $old := dict }}
{{ range $root.status.containerStatuses }}{{ if eq .name $item.name }}{{ $old = . }}{{ end }}{{ end }}
{{ $paused := and (regexMatch "${pauseImagePattern}" $item.image) $item.readinessProbe }}
{{ if eq (get $old "image") $item.image }}
- {{ YAML $old 1 }}
{{ else }}
- image: {{ $item.image | Quote }}
  name: {{ $item.name | Quote }}
  ready: {{ if $paused }}false{{ else }}true{{ end }}
  restartCount: {{ add (default 0 (get $old "restartCount")) 1 }}
  started: true
  lastState:
    terminated:
      exitCode: 0
      reason: Completed
      startedAt: {{ (default $now (dig "state" "running" "startedAt" "" $old)) | Quote }}
      finishedAt: {{ $now | Quote }}
  state:
    running:
      startedAt: {{ $now | Quote }}
{{ end }}
{{ end }}
`;

/** The Stage document, with the sandbox's pod-ready delay. */
export function imageChangeStage(lifecycle: PodLifecycle): object {
  return {
    apiVersion: "kwok.x-k8s.io/v1alpha1",
    kind: "Stage",
    metadata: { name: "broadside-container-image-change" },
    spec: {
      resourceRef: { apiGroup: "v1", kind: "Pod" },
      selector: {
        matchExpressions: [
          { key: ".metadata.deletionTimestamp", operator: "DoesNotExist" },
          { key: ".status.phase", operator: "In", values: ["Running"] },
          { key: imageChanged, operator: "In", values: ["true"] },
        ],
      },
      weight: 1,
      delay: {
        durationMilliseconds: lifecycle.readyDelay.milliseconds,
        jitterDurationMilliseconds: lifecycle.readyDelay.milliseconds + lifecycle.readyJitter.milliseconds,
      },
      next: { delete: false, statusTemplate },
    },
  };
}
