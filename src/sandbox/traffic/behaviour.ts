import type { V1Pod } from "@kubernetes/client-node";
import { Duration } from "../../core/duration.js";
import { isPodReady } from "../../kube/pod-facts.js";
import { pauseImagePattern } from "../image-change-stage.js";

/** The opt-in label, on pods (via their template) and Services, that asks for real HTTP in the sandbox. */
export const serveLabel = "broadside.dev/serve";
export const serveLabelValue = "http";
export const serveSelector = `${serveLabel}=${serveLabelValue}`;

export const latencyAnnotation = "broadside.dev/latency";
export const errorRateAnnotation = "broadside.dev/error-rate";

/** How a demo pod's listener answers. */
export interface Behaviour {
  /** Added before every answer. */
  readonly latencyMs: number;
  /** Share of requests, in [0, 1], answered 500. */
  readonly errorRate: number;
}

export interface ParsedBehaviour {
  readonly behaviour: Behaviour;
  /** One line per annotation that could not be read; its default applies instead. */
  readonly problems: readonly string[];
}

export const defaultBehaviour: Behaviour = { latencyMs: 0, errorRate: 0 };

/**
 * Reads the behaviour annotations. A bad value falls back to the default and is reported, rather than
 * stopping the listener: a typo in a demo annotation should not take a pod's traffic down.
 */
export function parseBehaviour(annotations: Readonly<Record<string, string>> | undefined): ParsedBehaviour {
  const problems: string[] = [];
  const latency = annotations?.[latencyAnnotation];
  const rate = annotations?.[errorRateAnnotation];
  let latencyMs = defaultBehaviour.latencyMs;
  let errorRate = defaultBehaviour.errorRate;
  if (latency !== undefined) {
    try {
      latencyMs = Duration.parse(latency, latencyAnnotation).milliseconds;
    } catch {
      problems.push(`${latencyAnnotation}: "${latency}" is not a duration such as 50ms or 1s`);
    }
  }
  if (rate !== undefined) {
    const value = /^\s*\d+(?:\.\d+)?\s*$/.test(rate) ? Number(rate) : Number.NaN;
    if (value >= 0 && value <= 1) errorRate = value;
    else problems.push(`${errorRateAnnotation}: "${rate}" is not a number between 0 and 1`);
  }
  return { behaviour: { latencyMs, errorRate }, problems };
}

/**
 * Whether a pod should have a live listener: Running and Ready. A pod being deleted (Terminating) keeps
 * serving, as a well-behaved app drains during its grace period: the EndpointSlice controller marks its
 * endpoint not ready at once, so front doors stop routing to it before its listener closes, which happens
 * when the pod is gone (or stops being Running and Ready).
 */
export function podServes(pod: V1Pod): boolean {
  if (pod.status?.phase !== "Running") return false;
  return isPodReady(pod) && !runsPauseImage(pod);
}

const pauseImage = new RegExp(pauseImagePattern);

/**
 * Whether a container of the pod runs a pause image (pod-failure put it there): such a container does
 * nothing, so the pod's body does not serve even where the pod counts as Ready (a container without a
 * readinessProbe). What runs is the status's image, which the kubelet (kwok's Stage) updates once it
 * has restarted the container, not the spec's, which changes first.
 */
export function runsPauseImage(pod: V1Pod): boolean {
  return (pod.status?.containerStatuses ?? []).some((status) => pauseImage.test(status.image));
}
