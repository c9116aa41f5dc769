import { z } from "zod";
import { usageError } from "../core/errors.js";
import { getAtPointer, targetOf } from "../kube/field-access.js";
import type { ObjectReader } from "../kube/objects.js";
import { describeObject, describeRef, parseParams, readTarget } from "./plan-support.js";
import type { ObjectFault, PlannedChange } from "./types.js";

/**
 * scale: sets a Deployment's or StatefulSet's replica count, to prove that fewer replicas still carry the
 * load (or that more do not help). Scaling to zero takes the workload down entirely, so it needs --unsafe.
 */

export const scaleParams = z.strictObject({
  namespace: z.string().min(1, "must not be empty"),
  kind: z.enum(["deployment", "statefulset"]),
  name: z.string().min(1, "must not be empty"),
  replicas: z
    .number({ error: "must be a whole number" })
    .int("must be a whole number")
    .nonnegative("must not be negative"),
  unsafe: z.boolean().default(false),
});

export type ScaleParams = z.input<typeof scaleParams>;

const kinds = { deployment: "Deployment", statefulset: "StatefulSet" } as const;

const path = "/spec/replicas";

export const scale: ObjectFault<ScaleParams> = {
  kind: "scale",

  async plan(objects: ObjectReader, input: ScaleParams): Promise<PlannedChange[]> {
    const params = parseParams(scaleParams, input);
    if (params.replicas === 0 && !params.unsafe) {
      throw usageError("--replicas", "scaling to 0 takes the workload down entirely; add --unsafe to do it");
    }
    const kind = kinds[params.kind];
    const object = await readTarget(objects, "apps/v1", kind, params);
    // The API server defaults spec.replicas to 1, so a missing field holds what a present 1 would.
    const current = getAtPointer(object, path);
    const original = typeof current === "number" ? current : 1;
    if (original === params.replicas) {
      const what = describeObject(params.kind, params.namespace, params.name);
      throw usageError("--replicas", `${what} already has ${original} replicas; nothing would change`);
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
