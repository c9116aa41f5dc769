import { z } from "zod";
import { usageError } from "../core/errors.js";
import { countLimits } from "../core/input-limits.js";
import { namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import { getAtPointer, targetOf } from "../kube/field-access.js";
import type { ObjectReader } from "../kube/objects.js";
import { describeObject, describeRef, parseParams, readTarget } from "./plan-support.js";
import type { ObjectFault, ParamNamer, PlannedChange } from "./types.js";

/**
 * scale: sets a Deployment's or StatefulSet's replica count, to prove that fewer replicas still carry the
 * load (or that more do not help). Scaling to zero takes the workload down entirely, so it needs --unsafe.
 */

const { min: minReplicas, max: maxReplicas } = countLimits.replicas;

export const scaleParams = z.strictObject({
  namespace: namespaceNameSchema.describe("The workload's namespace."),
  kind: z.enum(["deployment", "statefulset"]).describe("The workload's kind."),
  name: objectNameSchema.describe("The workload's name."),
  replicas: z
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .min(minReplicas, "must not be negative")
    .max(maxReplicas, `must be at most ${maxReplicas}`)
    .describe("The replica count held for the fault's duration."),
  unsafe: z.boolean().default(false).describe("Must be true to scale to 0 (the workload down entirely)."),
});

export type ScaleParams = z.input<typeof scaleParams>;

const kinds = { deployment: "Deployment", statefulset: "StatefulSet" } as const;

const path = "/spec/replicas";

export const scale: ObjectFault<ScaleParams> = {
  kind: "scale",

  async plan(objects: ObjectReader, input: ScaleParams, names: ParamNamer): Promise<PlannedChange[]> {
    const params = parseParams(scaleParams, input, names);
    if (params.replicas === 0 && !params.unsafe) {
      throw usageError(
        names("replicas"),
        "scaling to 0 takes the workload down entirely; add --unsafe to do it",
      );
    }
    const kind = kinds[params.kind];
    const object = await readTarget(objects, "apps/v1", kind, params, names);
    // The API server defaults spec.replicas to 1, so a missing field holds what a present 1 would.
    const current = getAtPointer(object, path);
    const original = typeof current === "number" ? current : 1;
    if (original === params.replicas) {
      const what = describeObject(params.kind, params.namespace, params.name);
      throw usageError(names("replicas"), `${what} already has ${original} replicas; nothing would change`);
    }
    const target = targetOf("apps/v1", kind, object);
    return [
      {
        faultKind: "scale",
        target,
        path,
        original: current,
        injected: params.replicas,
        sensitive: false,
        description: `${describeRef(target)} spec.replicas: ${original} -> ${params.replicas}`,
      },
    ];
  },
};
