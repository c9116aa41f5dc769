import { parseAllDocuments, stringify } from "yaml";
import type { Duration } from "../core/duration.js";
import { imageChangeStage } from "./image-change-stage.js";

/**
 * How long simulated pods take to start and stop. kwok plays the kubelet; its "general" Stage set gives
 * pods a realistic lifecycle (ContainerCreating, then Running and Ready, then a graceful exit), and these
 * settings replace that set's fixed delays. Every delay can still be overridden per pod with kwok's own
 * annotations, e.g. `pod-ready.stage.kwok.x-k8s.io/delay: "10s"`.
 */
export interface PodLifecycle {
  /** Scheduling -> ContainerCreating (sandbox and image pull), at least this long. */
  readonly createDelay: Duration;
  /** ContainerCreating -> Running and Ready, at least this long... */
  readonly readyDelay: Duration;
  /** ...plus a random extra of up to this much. */
  readonly readyJitter: Duration;
  /**
   * Deletion requested -> pod gone: at least this long (capped by the grace period), then at a random
   * moment before the grace period ends, as kwok's general pod-delete stage does.
   */
  readonly shutdownDelay: Duration;
}

interface StageDocument {
  metadata: { name: string };
  spec: { delay?: { durationMilliseconds?: number; jitterDurationMilliseconds?: number } };
}

/**
 * kwok's own settings. Its server (on 127.0.0.1, for the health check) would otherwise serve, without
 * authentication, /debug/pprof and the "debugging handlers" (exec, attach, port-forward, logs): kwok
 * v0.8.0 has no flags for them, only these KwokConfiguration options, both true by default. Turned off,
 * those paths answer 405 "disabled"; /healthz, /readyz, /livez and kwok's own /metrics stay.
 *
 * kwok applies its defaults only when no KwokConfiguration is given (pkg/config/vars.go), so this one
 * restates v0.8.0's other defaults (zz_generated.defaults.go): without them, a parallelism of 0 stops
 * kwok at start. The command line (--cidr, --manage-all-nodes, ...) still overrides these.
 */
export const kwokConfiguration = {
  apiVersion: "config.kwok.x-k8s.io/v1alpha1",
  kind: "KwokConfiguration",
  options: {
    enableDebuggingHandlers: false,
    enableProfilingHandler: false,
    enableContentionProfiling: false,
    podPlayStageParallelism: 4,
    nodePlayStageParallelism: 4,
    nodeLeaseParallelism: 4,
    podsOnNodeSyncParallelism: 1,
    enablePodsOnNodeSyncListPager: true,
    enablePodsOnNodeSyncStreamWatch: false,
  },
} as const;

/**
 * Builds kwok's --config file: its KwokConfiguration, then the upstream Stage documents with our pod
 * lifecycle delays, then the sandbox's own Stage for a container image changed in place.
 */
export function kwokConfigFile(upstreamStageTexts: readonly string[], lifecycle: PodLifecycle): string {
  const stages = upstreamStageTexts.flatMap((text) =>
    parseAllDocuments(text).map((doc) => doc.toJS() as StageDocument),
  );
  for (const stage of stages) applyLifecycle(stage, lifecycle);
  return [kwokConfiguration, ...stages, imageChangeStage(lifecycle)]
    .map((document) => stringify(document))
    .join("---\n");
}

function applyLifecycle(stage: StageDocument, lifecycle: PodLifecycle): void {
  const delay = stage.spec.delay;
  if (delay === undefined) return;
  const setDelay = (minimum: Duration, jitter: number): void => {
    delay.durationMilliseconds = minimum.milliseconds;
    delay.jitterDurationMilliseconds = minimum.milliseconds + jitter;
  };
  switch (stage.metadata.name) {
    case "pod-create":
    case "pod-init-container-running":
    case "pod-init-container-completed":
      setDelay(lifecycle.createDelay, lifecycle.createDelay.milliseconds * 4);
      return;
    case "pod-ready":
      setDelay(lifecycle.readyDelay, lifecycle.readyJitter.milliseconds);
      return;
    case "pod-delete":
      // The jitter stays bound to the pod's deletionTimestamp, so the grace period is never exceeded.
      delay.durationMilliseconds = lifecycle.shutdownDelay.milliseconds;
      return;
    default:
      return;
  }
}
