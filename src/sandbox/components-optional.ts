import type { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { checkDurationLimit, durationLimits } from "../core/input-limits.js";

/**
 * The sandbox's optional components, `sandbox up --with <list>`: each built on first use (cached by
 * version like the control plane) and run only by a sandbox started, or reused, with it.
 */
export const optionalComponents = ["flux", "prometheus"] as const;
export type OptionalComponent = (typeof optionalComponents)[number];

/**
 * One `--with` value: a comma-separated list, added to what earlier `--with` flags gave. An unknown name
 * is a usage error naming the flag and the components there are.
 */
export function parseWith(text: string, previous: readonly OptionalComponent[] = []): OptionalComponent[] {
  const chosen = [...previous];
  for (const name of text.split(",").map((part) => part.trim())) {
    if (!(optionalComponents as readonly string[]).includes(name)) {
      throw usageError(
        "--with",
        `unknown component ${JSON.stringify(name)}; the optional components are: ${optionalComponents.join(", ")}`,
      );
    }
    if (!chosen.includes(name as OptionalComponent)) chosen.push(name as OptionalComponent);
  }
  return chosen;
}

/** `--flux-interval`: what to put under a Flux Kustomization, and how often Flux reconciles it. */
export interface FluxSyncRequest {
  readonly interval: Duration;
  /** Kubernetes objects (apiVersion, kind, metadata.name), committed to the sandbox's repository. */
  readonly manifests: readonly unknown[];
}

/** What `sandbox up` asks of the optional components. */
export interface OptionalRequest {
  readonly with?: readonly OptionalComponent[];
  readonly fluxSync?: FluxSyncRequest;
}

export function wants(request: OptionalRequest, component: OptionalComponent): boolean {
  return request.with?.includes(component) ?? false;
}

/** Checked before anything starts: an interval needs Flux, and stays within its bounds. */
export function checkOptionalRequest(request: OptionalRequest): void {
  if (request.fluxSync === undefined) return;
  if (!wants(request, "flux")) throw usageError("--flux-interval", "needs --with flux");
  checkDurationLimit(request.fluxSync.interval, durationLimits.fluxInterval, "--flux-interval");
}
