import { z } from "zod";
import { usageError } from "../core/errors.js";
import { documentLimits } from "../core/input-limits.js";
import { ABSENT, type JsonObject } from "../core/ledger/record.js";
import { namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import { objectDeleteKind, restorable, wholeObjectPath } from "../kube/deleted-object-access.js";
import { targetOf } from "../kube/field-access.js";
import type { ObjectReader } from "../kube/objects.js";
import { describeRef, parseParams, readTarget } from "./plan-support.js";
import type { ParamNamer, PlannedChange } from "./types.js";

/**
 * object-delete: deletes a whole ConfigMap, the attack a GitOps reconciler heals by creating it again
 * (a duel's `delete`, issue 13). The ledger record keeps the object as it was (without the metadata the
 * API server sets), so that Broadside's revert, or any Broadside process's recovery, can create it again
 * when nobody else did. Secrets are left out on purpose: their whole data would sit in the record.
 */

export const objectDeleteParams = z.strictObject({
  namespace: namespaceNameSchema.describe("The namespace of the object deleted."),
  kind: z.enum(["configmap"]).describe("configmap (the only kind deleted so far)."),
  name: objectNameSchema.describe("The name of the ConfigMap."),
});

export type ObjectDeleteParams = z.input<typeof objectDeleteParams>;

/** Checks the parameters (a usage error naming the first bad one, as `names` spells it). No read. */
export function checkObjectDeleteParams(input: unknown, names: ParamNamer): ObjectDeleteParams {
  return parseParams(objectDeleteParams, input, names);
}

/** Reads the ConfigMap and plans its deletion, the whole object kept as the original. No writes. */
export async function planObjectDelete(
  objects: ObjectReader,
  input: unknown,
  names: ParamNamer,
): Promise<PlannedChange[]> {
  const params = checkObjectDeleteParams(input, names);
  const object = await readTarget(objects, "v1", "ConfigMap", params, names);
  const original: JsonObject = { ...restorable(object), apiVersion: "v1", kind: "ConfigMap" };
  const bytes = Buffer.byteLength(JSON.stringify(original));
  if (bytes > documentLimits.deletedObjectBytes) {
    throw usageError(
      names("name"),
      `is ${bytes} bytes as JSON; a deleted object is kept whole in its ledger record, at most ${documentLimits.deletedObjectBytes}`,
    );
  }
  const target = targetOf("v1", "ConfigMap", object);
  const data = original.data;
  const keys = typeof data === "object" && data !== null ? Object.keys(data).length : 0;
  return [
    {
      faultKind: objectDeleteKind,
      target,
      path: wholeObjectPath,
      original,
      injected: ABSENT,
      sensitive: false,
      description: `${describeRef(target)}: deleted (${keys} data key(s), kept in the ledger to recreate)`,
    },
  ];
}
