import { optional } from "../objects.js";
/**
 * A ledger record: what one fault changed on one object, written into the cluster before the change and
 * closed with an outcome after recovery. Any Broadside process can finish a revert from the record alone,
 * so it carries everything a revert needs (target uid, path, original value) and nothing that depends on
 * the process that wrote it.
 */

/** A JSON value, as the Kubernetes API returns it. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/**
 * Marks a field that did not exist: a fault that adds a key must remove it again on revert, which is not
 * the same as setting it to null or to "".
 */
export interface Absent {
  readonly absent: true;
}
export const ABSENT: Absent = Object.freeze({ absent: true });

/**
 * A value as recorded: the JSON found at the record's path, or ABSENT. A real value equal to
 * `{absent: true}` cannot be told apart from ABSENT; no field Broadside mutates holds such an object.
 */
export type RecordedValue = JsonValue | Absent;

export interface TargetRef {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** The uid pins the record to one incarnation: an object recreated under the same name is not ours. */
  readonly uid: string;
}

/**
 * The in-cluster chaos resource whose reconcile made a change (a ConfigDrift, a Scale...): deleting it
 * reverts the change at once, and closing the record is told to it. Absent for changes made by commands.
 */
export interface RecordOwner {
  readonly apiVersion: string;
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export interface Actor {
  readonly user: string;
  readonly host: string;
  readonly pid: number;
}

export type RecordState = "pending" | "active" | "closed";
export type OutcomeKind = "reverted" | "healed-externally" | "target-gone" | "never-applied" | "failed";

export interface Outcome {
  readonly kind: OutcomeKind;
  /** Epoch ms. For an external heal this is when it happened if the observer knew, else when it was seen. */
  readonly at: number;
  /** Who else changed the target (a field manager such as "kustomize-controller"), when known. */
  readonly by?: string;
  readonly detail?: string;
}

/**
 * One pod of a volley record (ADR 0016): a pod fault that shoots many pods writes one record per volley of
 * up to 50 pods of one namespace, listing every pod before any of them is shot.
 */
export interface VolleyPod {
  readonly name: string;
  /** Pins the pod to one incarnation, as a record's target uid does. */
  readonly uid: string;
  /** Set when the record closes: what became of this pod's shot. */
  readonly outcome?: Outcome;
}

interface RecordFields {
  readonly id: string;
  /** The fault module that wrote the record: "config-drift", "resource-squeeze", "scale", "pod-kill"... */
  readonly faultKind: string;
  readonly target: TargetRef;
  /** What was changed, in the fault module's notation: "data.LOG_LEVEL", "spec.replicas"... */
  readonly path: string;
  readonly original: RecordedValue;
  readonly injected: RecordedValue;
  /** True when original or injected may hold a secret: such values never reach a log or a terminal. */
  readonly sensitive: boolean;
  /** Epoch ms. */
  readonly createdAt: number;
  /** Epoch ms after which any Broadside process may revert the change. */
  readonly deadline: number;
  readonly actor: Actor;
  readonly owner?: RecordOwner;
  /**
   * The pods of a volley, `target` (the first of them) included; absent on a record of one target. A pod
   * fault's record only: every pod is in `target.namespace`, its path and values are `target`'s.
   */
  readonly volley?: readonly VolleyPod[];
  /** Opaque, set by the store; an update succeeds only if it still matches the stored version. */
  readonly version: string;
}

/** Written, but the mutation is not confirmed: the process may have died before or after applying it. */
export interface PendingRecord extends RecordFields {
  readonly state: "pending";
  readonly outcome?: undefined;
}

/** The mutation is applied and not yet recovered. */
export interface ActiveRecord extends RecordFields {
  readonly state: "active";
  readonly outcome?: undefined;
}

export interface ClosedRecord extends RecordFields {
  readonly state: "closed";
  readonly outcome: Outcome;
}

export type OpenRecord = PendingRecord | ActiveRecord;
export type LedgerRecord = OpenRecord | ClosedRecord;

/** A record before its first write: always pending, because the record is written before the mutation. */
export type LedgerDraft = Omit<PendingRecord, "version">;

export const REDACTED = "<redacted>";

/**
 * The form of a record fit for logs and terminals. It has no version, so a printable record can never be
 * written back to the store by mistake (that would write "<redacted>" into a Secret on revert).
 */
export interface PrintableRecord extends Omit<RecordFields, "version" | "original" | "injected"> {
  readonly original: RecordedValue;
  readonly injected: RecordedValue;
  readonly state: RecordState;
  readonly outcome?: Outcome | undefined;
}

/** Anything with a record's fields, version or not: stored records and drafts are both printed. */
export type RedactableRecord = PrintableRecord & { readonly version?: string };

/**
 * The record as it may be printed or logged: values of sensitive records are replaced by "<redacted>".
 * Fields are copied by name, so a field added to records later is not printed until it is listed here.
 */
export function redact(record: RedactableRecord): PrintableRecord {
  const hide = record.sensitive;
  return {
    id: record.id,
    faultKind: record.faultKind,
    target: record.target,
    path: record.path,
    original: hide ? REDACTED : record.original,
    injected: hide ? REDACTED : record.injected,
    sensitive: record.sensitive,
    createdAt: record.createdAt,
    deadline: record.deadline,
    actor: record.actor,
    ...optional("owner", record.owner),
    ...optional("volley", record.volley),
    state: record.state,
    ...optional("outcome", record.outcome),
  };
}

/** "ConfigMap default/web", as kubectl users read object references. */
export function describeTarget(target: TargetRef): string {
  return `${target.kind} ${target.namespace}/${target.name}`;
}

/** "Pod shop/web-1", or "Pod shop/web-1 and 49 more pods" for a volley. */
export function describeTargets(record: {
  readonly target: TargetRef;
  readonly volley?: readonly VolleyPod[];
}): string {
  const more = (record.volley?.length ?? 1) - 1;
  return more > 0
    ? `${describeTarget(record.target)} and ${more} more pod(s)`
    : describeTarget(record.target);
}

export function isAbsent(value: RecordedValue): value is Absent {
  return isJsonObject(value) && Object.keys(value).length === 1 && value.absent === true;
}

/**
 * Deep equality of JSON values: key order does not matter, array order does. The API server may return
 * an object's keys in another order than Broadside wrote them, and that is still the same value.
 */
export function jsonEqual(a: RecordedValue, b: RecordedValue): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) return arraysEqual(a, b);
  if (isJsonObject(a) && isJsonObject(b)) return objectsEqual(a, b);
  return false;
}

function arraysEqual(a: RecordedValue, b: RecordedValue): boolean {
  if (!isJsonArray(a) || !isJsonArray(b) || a.length !== b.length) return false;
  return a.every((item, index) => {
    const other = b[index];
    return other !== undefined && jsonEqual(item, other);
  });
}

function objectsEqual(a: JsonObject, b: JsonObject): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => {
    const left = a[key];
    const right = b[key];
    return left !== undefined && right !== undefined && Object.hasOwn(b, key) && jsonEqual(left, right);
  });
}

function isJsonArray(value: RecordedValue): value is readonly JsonValue[] {
  return Array.isArray(value);
}

function isJsonObject(value: RecordedValue): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
