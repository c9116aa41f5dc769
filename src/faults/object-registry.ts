import type { z } from "zod";
import type { ObjectReader } from "../kube/objects.js";
import type { ConfigDriftParams } from "./config-drift.js";
import { configDrift, configDriftParams } from "./config-drift.js";
import { parseParams } from "./plan-support.js";
import type { PodFailureParams } from "./pod-failure.js";
import { podFailure, podFailureParams } from "./pod-failure.js";
import type { ResourceSqueezeParams } from "./resource-squeeze.js";
import { resourceSqueeze, resourceSqueezeParams } from "./resource-squeeze.js";
import type { ScaleParams } from "./scale.js";
import { scale, scaleParams } from "./scale.js";
import type { ObjectFault, ObjectFaultKind, ParamNamer, PlannedChange } from "./types.js";
import { objectFaultKinds } from "./types.js";

/**
 * Every object fault, by kind. The mapped type makes the compiler refuse a kind without an entry (indexing
 * ObjectFaultParams by it fails) and an entry whose fault or schema takes another kind's parameters.
 */
export interface ObjectFaultParams {
  readonly "config-drift": ConfigDriftParams;
  readonly "resource-squeeze": ResourceSqueezeParams;
  readonly scale: ScaleParams;
  readonly "pod-failure": PodFailureParams;
}

export interface RegisteredObjectFault<Params> {
  readonly fault: ObjectFault<Params>;
  /** The boundary check for parameters from flags or a file; the fault's plan runs it again. */
  readonly params: z.ZodType<Params>;
  /** Checks `input` against `params` (usage errors name the parameter as `names` spells it), then plans. No writes. */
  planFrom(objects: ObjectReader, input: unknown, names: ParamNamer): Promise<PlannedChange[]>;
  /** Checks `input` against `params` only: no read, no plan. */
  check(input: unknown, names: ParamNamer): void;
}

/** Pairs a fault with its schema; the closure is what lets callers plan any kind without knowing its type. */
function register<Params>(
  fault: ObjectFault<Params>,
  params: z.ZodType<Params>,
): RegisteredObjectFault<Params> {
  return {
    fault,
    params,
    // Async so that a parameter error rejects like every other failure of a plan, never throws.
    planFrom: async (objects, input, names) =>
      await fault.plan(objects, parseParams(params, input, names), names),
    check: (input, names) => {
      parseParams(params, input, names);
    },
  };
}

export type ObjectFaultRegistry = {
  readonly [Kind in ObjectFaultKind]: RegisteredObjectFault<ObjectFaultParams[Kind]>;
};

export const objectFaults: ObjectFaultRegistry = {
  "config-drift": register(configDrift, configDriftParams),
  "resource-squeeze": register(resourceSqueeze, resourceSqueezeParams),
  scale: register(scale, scaleParams),
  "pod-failure": register(podFailure, podFailureParams),
};

export function isObjectFaultKind(kind: string): kind is ObjectFaultKind {
  return (objectFaultKinds as readonly string[]).includes(kind);
}

/**
 * Plans a fault of `kind` from unchecked parameters: a flag parser's or a file's, whose spelling of each
 * parameter `names` gives. No writes.
 */
export function planObjectFault(
  kind: ObjectFaultKind,
  objects: ObjectReader,
  input: unknown,
  names: ParamNamer,
): Promise<PlannedChange[]> {
  return objectFaults[kind].planFrom(objects, input, names);
}

/** Checks parameters of `kind` without planning (no read): a usage error naming the first bad one. */
export function checkObjectFaultParams(kind: ObjectFaultKind, input: unknown, names: ParamNamer): void {
  objectFaults[kind].check(input, names);
}

/** A file's spelling of a step's parameters: `spec.method[1].params.replicas`. */
export function fileParamNames(step: { readonly paramsPath: string }): ParamNamer {
  return (param) => (param === undefined ? step.paramsPath : `${step.paramsPath}.${param}`);
}
