import { z } from "zod";
import { Duration } from "../../../core/duration.js";
import { durationLimits, type DurationLimit } from "../../../core/input-limits.js";
import { isRecord, optional } from "../../../core/objects.js";
import { namespaceNameSchema, objectNameSchema } from "../../../core/schemas.js";
import type { LoadContext } from "../context.js";
import { parseAt } from "../context.js";
import type { ManifestInfo } from "../model.js";
import type { ChaosApiVersion } from "../model.js";
import { chaosApiVersions } from "../model.js";
import type { FieldPath } from "../problems.js";
import { valueAt } from "../problems.js";
import { chaosMeshPodSelectorSchema } from "./selector.js";

/**
 * What the Chaos Mesh kinds Broadside reads share. The envelope is a Kubernetes object: metadata may carry
 * anything kubectl or a controller wrote there, and a `status` (as `kubectl get -o yaml` prints it) is
 * ignored; the spec is strict, so that a misspelt field is an error rather than a fault aimed wider. Each
 * kind's spec (pod-chaos.ts, network-chaos.ts, stress-chaos.ts, schedule.ts) follows chaos-mesh/chaos-mesh
 * api/v1alpha1 field by field; the selector, mode and value are selector.ts's.
 */

export const envelopeSchema = z.strictObject({
  apiVersion: z.enum(chaosApiVersions),
  kind: z.string(),
  metadata: z.looseObject({ name: objectNameSchema, namespace: namespaceNameSchema.optional() }),
  spec: z.looseObject({}),
  status: z.unknown().optional(),
});

type Envelope = z.output<typeof envelopeSchema>;

export function infoOf(context: LoadContext, envelope: Envelope): ManifestInfo {
  const { name, namespace } = envelope.metadata;
  return {
    fileName: context.fileName,
    name,
    ...optional("namespace", namespace),
    warnings: context.warnings,
  };
}

/**
 * A Chaos Mesh fault's duration, bounded where the file is read: no BROADSIDE_MAX_FAULT_DURATION can
 * allow more (the plan applies the configured, lower cap). Zero is allowed, as Chaos Mesh reads it.
 */
export const faultDurationBound: DurationLimit = {
  ...durationLimits.faultDuration,
  min: Duration.ofMilliseconds(0),
};

/**
 * A manifest of one Chaos Mesh kind: the envelope and the kind's spec, each checked (their problems all
 * collected), put together as the model of that kind.
 */
export function loadManifest<Kind extends string, Spec extends object>(
  context: LoadContext,
  kind: Kind,
  loadSpec: (context: LoadContext, path: FieldPath) => Spec | undefined,
): (ManifestInfo & { apiVersion: ChaosApiVersion; kind: Kind } & Spec) | undefined {
  const envelope = parseAt(context, envelopeSchema, []);
  const spec = loadSpec(context, specPath);
  if (envelope === undefined || spec === undefined) return undefined;
  return { ...infoOf(context, envelope), apiVersion: envelope.apiVersion, kind, ...spec };
}

/** Where a kind's spec sits in its manifest. */
export const specPath = ["spec"] as const;

export const selectorFields = chaosMeshPodSelectorSchema.shape;
export const containerNames = z
  .array(z.string())
  .optional()
  .describe(
    "The containers the action applies to: required by container-kill, which kills each in every selected pod; ignored by pod-kill and pod-failure.",
  );
/** Chaos Mesh's multi-cluster field; Broadside acts on the cluster of its kubeconfig only. */
export const remoteCluster = z
  .string()
  .optional()
  .describe("Refused: Broadside acts on the cluster it runs in only.");

/** The spec as written, so that checks relating fields run even when some other field is malformed. */
export type RawSpec = Readonly<Record<string, unknown>>;

export function rawSpec(context: LoadContext, path: FieldPath): RawSpec {
  const value = valueAt(context.root, path);
  return isRecord(value) ? value : {};
}

export function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== "";
}

/** A remoteCluster would aim the fault at another cluster than the kubeconfig's: refused, never ignored. */
export function refuseRemoteCluster(context: LoadContext, path: FieldPath): void {
  if (!isSet(rawSpec(context, path).remoteCluster)) return;
  context.problems.add(
    [...path, "remoteCluster"],
    "is not supported: Broadside acts on the cluster of its kubeconfig only",
  );
}

/** The action as written, when it is one of `actions`, for checks that run even when the schema fails. */
export function rawAction<Action extends string>(
  context: LoadContext,
  path: FieldPath,
  actions: readonly Action[],
): Action | undefined {
  const action = rawSpec(context, path).action;
  return actions.find((each) => each === action);
}
