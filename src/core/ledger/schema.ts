import { z } from "zod";
import { optional } from "../objects.js";
import { LedgerFormatError } from "./plain-record.js";
import type { LedgerRecord, Outcome } from "./record.js";

/**
 * The boundary check for records read back from the cluster. A record may have been written by another
 * Broadside version, or edited by hand, and recovery acts on its contents: check it before trusting it.
 * A record exactly as Broadside writes it is recognised without zod first (plain-record.ts); this schema
 * decides everything else.
 */

// Defined beside the plain check, which ledger-store.ts loads without this module (and zod).
export { LedgerFormatError } from "./plain-record.js";

const recordedValue = z.json();

const targetSchema = z.object({
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  namespace: z.string(),
  name: z.string().min(1),
  uid: z.string().min(1),
});

const epochMs = z.number().int().nonnegative();

const outcomeSchema = z.object({
  kind: z.enum(["reverted", "healed-externally", "target-gone", "never-applied", "failed"]),
  at: epochMs,
  by: z.string().optional(),
  detail: z.string().optional(),
});

const volleyPodSchema = z.object({
  name: z.string().min(1),
  uid: z.string().min(1),
  outcome: outcomeSchema.optional(),
});

const fields = {
  id: z.string().min(1),
  faultKind: z.string().min(1),
  target: targetSchema,
  path: z.string().min(1),
  original: recordedValue,
  injected: recordedValue,
  sensitive: z.boolean(),
  createdAt: epochMs,
  deadline: epochMs,
  actor: z.object({ user: z.string(), host: z.string(), pid: z.number().int() }),
  owner: targetSchema.optional(),
  // Records written before volleys (ADR 0016) have none: one record per pod.
  volley: z.array(volleyPodSchema).min(1).optional(),
  version: z.string(),
};

const recordSchema = z.discriminatedUnion("state", [
  z.object({ ...fields, state: z.literal("pending") }),
  z.object({ ...fields, state: z.literal("active") }),
  z.object({ ...fields, state: z.literal("closed"), outcome: outcomeSchema }),
]);

/**
 * Checks `input` and returns it as a record; `source` names where it was read from, for the message.
 * Unknown fields are dropped, so a newer Broadside's additions do not stop an older one from recovering.
 */
export function parseLedgerRecord(input: unknown, source: string): LedgerRecord {
  const result = recordSchema.safeParse(input);
  if (result.success) return withoutUndefined(result.data);
  throw new LedgerFormatError(`${source} is not a valid ledger record: ${z.prettifyError(result.error)}`, {
    cause: result.error,
  });
}

/** Zod returns optional fields it did not find as missing, but the types allow undefined: make it so. */
function withoutUndefined(parsed: z.infer<typeof recordSchema>): LedgerRecord {
  const { owner, volley, ...fields } = parsed;
  const pods = volley?.map(({ outcome, ...pod }) => ({ ...pod, ...optional("outcome", outcome, outcomeOf) }));
  const record = { ...fields, ...optional("owner", owner), ...optional("volley", pods) };
  if (record.state !== "closed") return record;
  return { ...record, outcome: outcomeOf(record.outcome) };
}

function outcomeOf(parsed: z.infer<typeof outcomeSchema>): Outcome {
  const { by, detail, ...outcome } = parsed;
  return { ...outcome, ...optional("by", by), ...optional("detail", detail) };
}
