import type { V1ConfigMap } from "@kubernetes/client-node";
import { z } from "zod";
import type { RecordOwner } from "../core/ledger/record.js";
import { recordKey } from "../kube/ledger-store.js";

/**
 * Which chaos resource a ledger record belongs to, read from the record's ConfigMap as the ledger's
 * informer delivers it: when a record changes (closed at its deadline, by `broadside recover` or `halt`,
 * or because its target is gone), the agent requeues the resource that owns it, which then reports
 * Recovered and lets its finalizer go.
 */

const ownerOnly = z.object({
  owner: z
    .object({
      apiVersion: z.string(),
      kind: z.string(),
      namespace: z.string(),
      name: z.string(),
      uid: z.string(),
    })
    .optional(),
});

/** The owner named in a ledger record's ConfigMap, or undefined (a command's record, or not a record). */
export function ownerOfRecordConfigMap(configMap: V1ConfigMap): RecordOwner | undefined {
  const text = configMap.data?.[recordKey];
  if (text === undefined) return undefined;
  try {
    const parsed = ownerOnly.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data.owner : undefined;
  } catch {
    // Not JSON: the ledger reconciler reports the record as malformed; no one owns it here.
    return undefined;
  }
}
