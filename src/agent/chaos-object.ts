import { stringify } from "yaml";
import { parseExperimentFile } from "../experiments/files/load.js";
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

/**
 * A chaos object's spec read as `broadside run` reads a file of its kind, with the object's namespace as
 * the default of selectors that name none. `source` names the object in messages. Throws as the file
 * loader does; callers turn that into their kind's Failed condition.
 */
export function loadAsFile(
  apiVersion: string,
  kind: string,
  ref: { readonly namespace: string; readonly name: string },
  spec: unknown,
): { readonly loaded: ReturnType<typeof parseExperimentFile>; readonly source: string } {
  const document = { apiVersion, kind, metadata: { name: ref.name, namespace: ref.namespace }, spec };
  const source = `${kind.toLowerCase()} ${ref.namespace}/${ref.name}`;
  const loaded = parseExperimentFile(stringify(document), source, { defaultNamespace: ref.namespace });
  return { loaded, source };
}
