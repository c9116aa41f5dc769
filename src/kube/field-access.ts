import { BroadsideError, describeError } from "../core/errors.js";
import type { JsonObject, JsonValue, LedgerRecord, RecordedValue, TargetRef } from "../core/ledger/record.js";
import { ABSENT, describeTarget, isAbsent, jsonEqual } from "../core/ledger/record.js";
import type { TargetAccess } from "../core/ledger/recovery.js";
import type { Observation } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import { apiStatus } from "./api-errors.js";
import { healer } from "./field-owner.js";
import type {
  JsonPatchOperation,
  KubeObject,
  ObjectPatcher,
  ObjectReader,
  SupportedKind,
} from "./objects.js";

/**
 * Reads and writes one field of one object, for any fault whose change is "this JSON pointer held X, now
 * holds Y". Every write is a JSON Patch whose first operations test that the object is still the same
 * incarnation (uid) and that the field still holds what the writer expects, so the API server applies the
 * change atomically or not at all: a value someone else wrote in between is never overwritten.
 */

// ---------------------------------------------------------------------------------------------------------
// RFC 6901 JSON pointers. They live here, not in core/, only because this is the lowest layer that uses
// them; they are pure and the faults import them from here.

/** A JSON pointer that is not one: a record edited by hand, or a bug in a fault module. */
export class JsonPointerError extends Error {
  override readonly name = "JsonPointerError";
}

/** Escapes one reference token: "~" before "/", so that "~1" in a key does not become "/" on the way back. */
export function escapePointerToken(token: string): string {
  return token.replaceAll("~", "~0").replaceAll("/", "~1");
}

export function unescapePointerToken(token: string): string {
  return token.replaceAll("~1", "/").replaceAll("~0", "~");
}

/** "/data/a~1b" -> ["data", "a/b"]; "" is the whole document. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPointerError(`"${pointer}" is not a JSON pointer`);
  return pointer.slice(1).split("/").map(unescapePointerToken);
}

export function formatPointer(tokens: readonly string[]): string {
  return tokens.map((token) => `/${escapePointerToken(token)}`).join("");
}

const arrayIndex = /^(?:0|[1-9]\d*)$/;

/** The value at `pointer` in `document`, or ABSENT when any step of the way is missing. */
export function getAtPointer(document: JsonValue, pointer: string): RecordedValue {
  let current: JsonValue = document;
  for (const token of parsePointer(pointer)) {
    const next = step(current, token);
    if (next === undefined) return ABSENT;
    current = next;
  }
  return current;
}

function step(value: JsonValue, token: string): JsonValue | undefined {
  if (Array.isArray(value)) {
    const list = value as readonly JsonValue[];
    return arrayIndex.test(token) ? list[Number(token)] : undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const object = value as JsonObject;
  return Object.hasOwn(object, token) ? object[token] : undefined;
}

// ---------------------------------------------------------------------------------------------------------
// The reference a record keeps.

function metadataString(object: KubeObject, field: "uid" | "resourceVersion"): string {
  const value = getAtPointer(object, `/metadata/${field}`);
  if (typeof value !== "string") {
    throw new BroadsideError("BRD_INTERNAL", `the API server returned an object without metadata.${field}`);
  }
  return value;
}

/** The reference a ledger record keeps: kind, name, and the uid of this incarnation of the object. */
export function targetOf(apiVersion: string, kind: SupportedKind, object: KubeObject): TargetRef {
  const namespace = getAtPointer(object, "/metadata/namespace");
  const name = getAtPointer(object, "/metadata/name");
  if (typeof namespace !== "string" || typeof name !== "string") {
    throw new BroadsideError("BRD_INTERNAL", `the API server returned a ${kind} without a namespace or name`);
  }
  return { apiVersion, kind, namespace, name, uid: metadataString(object, "uid") };
}

// ---------------------------------------------------------------------------------------------------------
// Conditional writes.

/** What a write needs from a record or a planned change. */
export type FieldChange = Pick<LedgerRecord, "target" | "path" | "original" | "injected" | "sensitive">;

/** What the object must still hold for a write to go ahead. */
interface Expectation {
  readonly target: TargetRef;
  readonly path: string;
  readonly value: RecordedValue;
  /** Set when `value` is ABSENT: JSON Patch cannot test that a field is missing, so the whole object is pinned. */
  readonly resourceVersion?: string;
}

/**
 * Conditional writes of one field over the narrow object interfaces (ClusterObjects in production).
 * apply and revert reject with ConflictError exactly when the precondition failed: the object is gone,
 * was recreated, or no longer holds the value the write expects (a failed JSON Patch `test`, which the API
 * server answers with 422, or 409). Every other failure keeps its own error: BRD_KUBE_API for a value the
 * API refused, the client's error for a server that did not answer.
 */
export class FieldAccess implements TargetAccess {
  constructor(private readonly objects: ObjectReader & ObjectPatcher) {}

  async read(change: Pick<FieldChange, "target" | "path">): Promise<Observation> {
    const object = await this.objects.read(change.target);
    if (object === undefined) return { exists: false };
    const observation = {
      exists: true,
      uid: metadataString(object, "uid"),
      value: getAtPointer(object, change.path),
    };
    // Who owns the field now: named on a heal found by a read (the agent's resync, recover), where no
    // watch saw it happen; when it was, the watch's stamp replaces this (engine/heal-watch.ts).
    const by = healer(object, change.path);
    return by === undefined ? observation : { ...observation, lastChange: { by } };
  }

  /** Writes `injected` where the object still holds `original`; else ConflictError, and nothing is written. */
  apply(change: FieldChange): Promise<void> {
    return this.write(change, change.original, change.injected);
  }

  /** Writes `original` back where the object still holds `injected`; else ConflictError, nothing written. */
  revert(change: FieldChange): Promise<void> {
    return this.write(change, change.injected, change.original);
  }

  private async write(change: FieldChange, from: RecordedValue, to: RecordedValue): Promise<void> {
    if (isAbsent(from) && isAbsent(to)) {
      throw new BroadsideError("BRD_INTERNAL", `a change of ${change.path} from absent to absent`);
    }
    const { expectation, prelude } = isAbsent(from)
      ? await this.pinAbsent(change)
      : { expectation: { target: change.target, path: change.path, value: from }, prelude: [] };
    const body = [...testsFor(expectation), ...prelude, writeOperation(change.path, from, to)];
    try {
      await this.objects.patch(change.target, body);
    } catch (error: unknown) {
      throw await this.explain(error, expectation, change.sensitive);
    }
  }

  /** For a field that must be missing: a fresh read, checked here, then pinned by its resourceVersion. */
  private async pinAbsent(
    change: FieldChange,
  ): Promise<{ expectation: Expectation; prelude: JsonPatchOperation[] }> {
    const object = await this.objects.read(change.target);
    const problem = mismatch(object, { target: change.target, path: change.path, value: ABSENT });
    if (problem !== undefined || object === undefined) throw new ConflictError(problem);
    const expectation = {
      target: change.target,
      path: change.path,
      value: ABSENT,
      resourceVersion: metadataString(object, "resourceVersion"),
    };
    return { expectation, prelude: missingParents(object, change.path) };
  }

  /**
   * Turns a refused patch into ConflictError when the object moved under us. The API server answers a
   * failed `test` with 422, the same status as a validation error (an immutable ConfigMap, a bad value), so
   * the object is read again: if it still matches the expectation, the refusal had another cause.
   */
  private async explain(error: unknown, expectation: Expectation, sensitive: boolean): Promise<Error> {
    const status = apiStatus(error);
    const where = describeTarget(expectation.target);
    if (status === 404) return new ConflictError(`${where} no longer exists`);
    if (status === 409) return new ConflictError(`${where} changed while it was being written`);
    if (status !== 422)
      return error instanceof Error ? error : new BroadsideError("BRD_KUBE_API", String(error));
    const problem = mismatch(await this.objects.read(expectation.target), expectation);
    if (problem !== undefined) return new ConflictError(problem);
    // The API server's message may quote the value it refused, which for a Secret is the secret.
    const reason = sensitive
      ? "the value was refused (details hidden: the object is a Secret)"
      : describeError(error);
    return new BroadsideError(
      "BRD_KUBE_API",
      `${where}: the API server refused to change ${expectation.path}: ${reason}`,
      {
        cause: sensitive ? undefined : error,
      },
    );
  }
}

/** Why `object` does not match `expectation`, without quoting values (they may be secret); else undefined. */
function mismatch(object: KubeObject | undefined, expectation: Expectation): string | undefined {
  const where = describeTarget(expectation.target);
  if (object === undefined) return `${where} no longer exists`;
  const uid = metadataString(object, "uid");
  if (uid !== expectation.target.uid) return `${where} was deleted and recreated (uid ${uid})`;
  if (!jsonEqual(getAtPointer(object, expectation.path), expectation.value)) {
    return `${where}: ${expectation.path} was changed by someone else`;
  }
  const pinned = expectation.resourceVersion;
  if (pinned !== undefined && metadataString(object, "resourceVersion") !== pinned) {
    return `${where} was changed by someone else`;
  }
  return undefined;
}

function testsFor(expectation: Expectation): JsonPatchOperation[] {
  const tests: JsonPatchOperation[] = [{ op: "test", path: "/metadata/uid", value: expectation.target.uid }];
  if (expectation.resourceVersion !== undefined) {
    tests.push({ op: "test", path: "/metadata/resourceVersion", value: expectation.resourceVersion });
  }
  if (!isAbsent(expectation.value))
    tests.push({ op: "test", path: expectation.path, value: expectation.value });
  return tests;
}

/** `replace` fails on a missing member, so a field that was absent is written with `add`. */
function writeOperation(path: string, from: RecordedValue, to: RecordedValue): JsonPatchOperation {
  if (isAbsent(to)) return { op: "remove", path };
  return { op: isAbsent(from) ? "add" : "replace", path, value: to };
}

/**
 * `add` operations for the missing objects above `path`, outermost first, and the final `add`: the API
 * server omits empty maps, so a ConfigMap whose last key was removed has no `data` to add a key to.
 */
function missingParents(object: KubeObject, path: string): JsonPatchOperation[] {
  const tokens = parsePointer(path);
  const parents: JsonPatchOperation[] = [];
  for (let depth = 1; depth < tokens.length; depth += 1) {
    const parent = formatPointer(tokens.slice(0, depth));
    if (isAbsent(getAtPointer(object, parent))) parents.push({ op: "add", path: parent, value: {} });
  }
  return parents;
}
