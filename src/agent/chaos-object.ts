import type { ResourceStatus } from "./crds/status.js";

/** A chaos resource as the agent reads it from its informer: the fields every kind's reconciler uses. */
export interface ChaosObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly generation?: number;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly deletionTimestamp?: unknown;
    readonly annotations?: Record<string, string>;
    readonly finalizers?: string[];
  };
  readonly spec?: unknown;
  readonly status?: ResourceStatus;
}

/** `kubectl annotate KIND NAME broadside.dev/paused=true`: the resource injects nothing until removed. */
export const pausedAnnotation = "broadside.dev/paused";
