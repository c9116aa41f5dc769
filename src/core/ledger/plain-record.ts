import { optional } from "../objects.js";
import type {
  Actor,
  JsonValue,
  LedgerRecord,
  Outcome,
  OutcomeKind,
  RecordedValue,
  TargetRef,
  VolleyPod,
} from "./record.js";

/*
 * The common case of the ledger's boundary check, without zod: a record exactly as Broadside writes it.
 * A cold `broadside kill` writes one record and reads it back twice, and loading zod for that cost more
 * than the rest of its checks together (ADR 0024, addendum). schema.ts stays the authority: whatever
 * this check does not recognise outright (a record written by another version, edited by hand, or
 * broken) goes to parseLedgerRecord, whose verdict and messages are the ones users see. This one only
 * ever answers "plainly valid, and here it is as parseLedgerRecord would return it" or "ask the schema";
 * schema.test.ts holds the two to that, input by input.
 */

/** A stored record that is not a ledger record. Recovery cannot act on it; a human has to look. */
export class LedgerFormatError extends Error {
  override readonly name = "LedgerFormatError";
}

type Fields = Readonly<Record<string, unknown>>;

function isFields(value: unknown): value is Fields {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function isText(value: unknown): value is string {
  return typeof value === "string";
}

function isName(value: unknown): value is string {
  return typeof value === "string" && value.length > 0;
}

function isEpochMs(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** JSON as zod's z.json() takes it; an own `__proto__` key is left to the schema. */
function isJson(value: unknown): value is JsonValue {
  if (value === null || typeof value === "boolean" || typeof value === "string") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isJson);
  if (!isFields(value) || Object.hasOwn(value, "__proto__")) return false;
  return Object.values(value).every(isJson);
}

function targetOf(value: unknown): TargetRef | undefined {
  if (!isFields(value)) return undefined;
  const { apiVersion, kind, namespace, name, uid } = value;
  if (!isName(apiVersion) || !isName(kind) || !isText(namespace) || !isName(name) || !isName(uid))
    return undefined;
  return { apiVersion, kind, namespace, name, uid };
}

function actorOf(value: unknown): Actor | undefined {
  if (!isFields(value)) return undefined;
  const { user, host, pid } = value;
  if (!isText(user) || !isText(host) || !Number.isSafeInteger(pid)) return undefined;
  return { user, host, pid: pid as number };
}

const outcomeKinds: readonly string[] = [
  "reverted",
  "healed-externally",
  "target-gone",
  "never-applied",
  "failed",
] satisfies readonly OutcomeKind[];

function outcomeOf(value: unknown): Outcome | undefined {
  if (!isFields(value)) return undefined;
  const { kind, at, by, detail } = value;
  if (!isText(kind) || !outcomeKinds.includes(kind) || !isEpochMs(at)) return undefined;
  if ((by !== undefined && !isText(by)) || (detail !== undefined && !isText(detail))) return undefined;
  return { kind: kind as OutcomeKind, at, ...optional("by", by), ...optional("detail", detail) };
}

/** A volley's pod; `false` when it is not plainly one. */
function volleyPodOf(value: unknown): VolleyPod | false {
  if (!isFields(value) || !isName(value.name) || !isName(value.uid)) return false;
  if (value.outcome === undefined) return { name: value.name, uid: value.uid };
  const outcome = outcomeOf(value.outcome);
  return outcome === undefined ? false : { name: value.name, uid: value.uid, outcome };
}

/** The optional parts, each undefined when absent and `false` when present but not plainly valid. */
interface OptionalParts {
  readonly owner: TargetRef | undefined | false;
  readonly volley: readonly VolleyPod[] | undefined | false;
}

function optionalParts(fields: Fields): OptionalParts {
  const owner = fields.owner === undefined ? undefined : (targetOf(fields.owner) ?? false);
  if (fields.volley === undefined) return { owner, volley: undefined };
  if (!Array.isArray(fields.volley) || fields.volley.length === 0) return { owner, volley: false };
  const pods = fields.volley.map(volleyPodOf);
  return { owner, volley: pods.every((pod) => pod !== false) ? pods : false };
}

function plainValues(fields: Fields): boolean {
  const { id, faultKind, path, sensitive, createdAt, deadline, version } = fields;
  if (!isName(id) || !isName(faultKind) || !isName(path) || typeof sensitive !== "boolean") return false;
  return isEpochMs(createdAt) && isEpochMs(deadline) && isText(version);
}

/**
 * The record `input` holds, as parseLedgerRecord would return it (unknown fields dropped, absent optional
 * ones left out, the same order of keys), when `input` is plainly a valid record; undefined otherwise,
 * which means only "ask parseLedgerRecord", never "invalid".
 */
export function plainLedgerRecord(input: unknown): LedgerRecord | undefined {
  if (!isFields(input) || !plainValues(input) || !isJson(input.original) || !isJson(input.injected))
    return undefined;
  const target = targetOf(input.target);
  const actor = actorOf(input.actor);
  const { owner, volley } = optionalParts(input);
  if (target === undefined || actor === undefined || owner === false || volley === false) return undefined;
  const record = {
    id: input.id as string,
    faultKind: input.faultKind as string,
    target,
    path: input.path as string,
    original: input.original as RecordedValue,
    injected: input.injected as RecordedValue,
    sensitive: input.sensitive as boolean,
    createdAt: input.createdAt as number,
    deadline: input.deadline as number,
    actor,
    version: input.version as string,
  };
  return withState(record, input.state, input.outcome, { owner, volley });
}

function withState(
  fields: Omit<LedgerRecord, "state" | "outcome" | "owner" | "volley">,
  state: unknown,
  outcomeField: unknown,
  parts: { owner: TargetRef | undefined; volley: readonly VolleyPod[] | undefined },
): LedgerRecord | undefined {
  const rest = { ...optional("owner", parts.owner), ...optional("volley", parts.volley) };
  if (state === "pending" || state === "active") return { ...fields, state, ...rest };
  if (state !== "closed") return undefined;
  const outcome = outcomeOf(outcomeField);
  return outcome === undefined ? undefined : { ...fields, state, outcome, ...rest };
}
