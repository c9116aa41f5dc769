import { BroadsideError } from "../core/errors.js";
import type { JsonObject, JsonValue, OpenRecord, RecordedValue } from "../core/ledger/record.js";
import { ABSENT, describeTarget, isAbsent, jsonEqual } from "../core/ledger/record.js";
import type { Observation } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import { optional } from "../core/objects.js";
import { apiStatus } from "./api-errors.js";
import { getAtPointer } from "./field-access.js";
import type { KubeObject, ObjectLifecycle, ObjectReader } from "./objects.js";
import { fieldManager } from "./objects.js";

/**
 * A deleted object's ledger record (a duel's `delete` attack, issue 13): path `/` (the whole object),
 * original the object as it was before the delete, as it can be created again (restorable), injected
 * ABSENT. Recovery's state machine sees the record through this reader:
 *
 * - the object is missing (or being deleted): it holds the injected state, so recovery reverts, which
 *   creates the original again, as field manager `broadside`;
 * - the same incarnation (uid) is still there and not deleting: the delete never happened (the original);
 * - another incarnation, created by someone else: a heal (a GitOps reconciler recreated it), by the field
 *   manager that created it, at its creation time;
 * - another incarnation created by Broadside: an earlier revert that crashed before closing the record;
 *   revert confirms it instead of creating a second one.
 *
 * The uid the state machine checks is the record's own in every case: a deleted object's record is about
 * the name, since a heal is, by nature, another incarnation.
 */

export const objectDeleteKind = "object-delete";
/** The record's path: the whole object. */
export const wholeObjectPath = "/";

/** Metadata the API server sets, which a create must not carry (or cannot: a uid, a resourceVersion). */
const serverMetadata = [
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "managedFields",
  "selfLink",
] as const;

/** The object as a create can take it back: without the metadata the API server sets, and without status. */
export function restorable(object: KubeObject): JsonObject {
  const rest = Object.fromEntries(
    Object.entries(object).filter(([key]) => key !== "status" && key !== "metadata"),
  );
  const metadata = object.metadata;
  const kept: Record<string, JsonValue> = {};
  if (isObject(metadata)) {
    for (const [key, value] of Object.entries(metadata)) {
      if (!(serverMetadata as readonly string[]).includes(key)) kept[key] = value;
    }
  }
  return { ...rest, metadata: kept };
}

/**
 * Who created this incarnation: the first managedFields entry of the main resource (a create writes one
 * entry per manager; later writers append theirs). Undefined when the API server kept none.
 */
export function creatorOf(object: KubeObject): string | undefined {
  const entries = getAtPointer(object, "/metadata/managedFields");
  if (!Array.isArray(entries)) return undefined;
  for (const entry of entries as readonly JsonValue[]) {
    if (!isObject(entry) || typeof entry.manager !== "string") continue;
    if (typeof entry.subresource === "string" && entry.subresource !== "") continue;
    return entry.manager;
  }
  return undefined;
}

function isObject(value: RecordedValue | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !isAbsent(value);
}

function text(object: KubeObject, pointer: string): string | undefined {
  const value = getAtPointer(object, pointer);
  return typeof value === "string" ? value : undefined;
}

function isDeleting(object: KubeObject): boolean {
  return text(object, "/metadata/deletionTimestamp") !== undefined;
}

export class DeletedObjectAccess {
  constructor(private readonly objects: ObjectReader & ObjectLifecycle) {}

  async read(record: OpenRecord): Promise<Observation> {
    const uid = record.target.uid;
    const object = await this.objects.read(record.target);
    if (object === undefined) return { exists: true, uid, value: ABSENT };
    if (text(object, "/metadata/uid") === uid) {
      return { exists: true, uid, value: isDeleting(object) ? ABSENT : record.original };
    }
    const by = creatorOf(object);
    // Broadside's own create: an earlier revert; revert confirms it (see revert).
    if (by === fieldManager) return { exists: true, uid, value: ABSENT };
    const created = Date.parse(text(object, "/metadata/creationTimestamp") ?? "");
    const same = jsonEqual(restorable(object), record.original);
    // The state machine words the outcome: the original back, or another object under the name.
    const observation = { exists: true, uid, value: same ? record.original : restorable(object) } as const;
    if (Number.isNaN(created)) return observation;
    return { ...observation, lastChange: { at: created, ...optional("by", by) } };
  }

  /**
   * Deletes the object while it is still the incarnation the record names and still what the record
   * keeps (so that a revert recreates what was deleted, not an older copy); else ConflictError.
   */
  async apply(record: OpenRecord): Promise<void> {
    const where = describeTarget(record.target);
    const object = await this.objects.read(record.target);
    if (object === undefined) throw new ConflictError(`${where} no longer exists`);
    const uid = text(object, "/metadata/uid");
    if (uid !== record.target.uid) throw new ConflictError(`${where} was deleted and recreated (uid ${uid})`);
    if (!jsonEqual(restorable(object), record.original)) {
      throw new ConflictError(`${where} was changed by someone else since it was read`);
    }
    const resourceVersion = text(object, "/metadata/resourceVersion") ?? "";
    try {
      await this.objects.deleteObject(record.target, { uid, resourceVersion });
    } catch (error: unknown) {
      const status = apiStatus(error);
      if (status === 404) throw new ConflictError(`${where} no longer exists`);
      if (status === 409) throw new ConflictError(`${where} changed while it was being deleted`);
      throw error;
    }
  }

  /**
   * Creates the original again. When the name is taken (409), a Broadside create of the same object is
   * an earlier revert of this record, and counts; anything else is ConflictError, and recovery reads again.
   */
  async revert(record: OpenRecord): Promise<void> {
    const original = record.original;
    if (!isObject(original)) {
      throw new BroadsideError("BRD_INTERNAL", `ledger record ${record.id} keeps no object to recreate`);
    }
    try {
      await this.objects.createObject(original);
    } catch (error: unknown) {
      if (apiStatus(error) !== 409) throw error;
      const now = await this.objects.read(record.target);
      const ours =
        now !== undefined && creatorOf(now) === fieldManager && jsonEqual(restorable(now), original);
      if (!ours) throw new ConflictError(`${describeTarget(record.target)} was created by someone else`);
    }
  }
}
