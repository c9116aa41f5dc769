import type { z } from "zod";
import { usageError } from "../core/errors.js";
import type { RecordedValue, TargetRef } from "../core/ledger/record.js";
import { isAbsent, REDACTED } from "../core/ledger/record.js";
import type { KubeObject, ObjectReader, SupportedKind } from "../kube/objects.js";
import type { ParamNamer } from "./types.js";

/** What the object faults share: parameter checks that name the flag, reads that name the object, wording. */

/**
 * Checks `input` against a fault's schema. The first problem becomes a usage error naming the parameter
 * as the caller spells it (`names`).
 */
export function parseParams<Output>(schema: z.ZodType<Output>, input: unknown, names: ParamNamer): Output {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue?.path[0];
  throw usageError(names(typeof field === "string" ? field : undefined), issue?.message ?? "invalid");
}

/** `maxUnavailable` -> "--max-unavailable", as commander spells the option for that property. */
export function flagOf(field: string): string {
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * The CLI's spelling of a parameter: the object verbs take KIND/NAME as their TARGET argument and the
 * namespace as -n/--namespace; every other parameter is the flag of its name.
 */
export const cliParamNames: ParamNamer = (param) => {
  if (param === undefined) return "parameters";
  if (param === "kind" || param === "name") return "TARGET";
  return flagOf(param);
};

/** "deployment demo/web", as kubectl users name objects. */
export function describeObject(kind: string, namespace: string, name: string): string {
  return `${kind.toLowerCase()} ${namespace}/${name}`;
}

export function describeRef(target: TargetRef): string {
  return describeObject(target.kind, target.namespace, target.name);
}

/** Reads the object a fault will change; a missing one is the user's mistake, named by its flag. */
export async function readTarget(
  objects: ObjectReader,
  apiVersion: string,
  kind: SupportedKind,
  params: { readonly namespace: string; readonly name: string },
  names: ParamNamer,
): Promise<KubeObject> {
  const object = await objects.read({ apiVersion, kind, namespace: params.namespace, name: params.name });
  if (object === undefined) {
    throw usageError(names("name"), `${describeObject(kind, params.namespace, params.name)} not found`);
  }
  return object;
}

/** A value as descriptions show it: JSON, "(absent)", or "<redacted>" for secrets. */
export function showValue(value: RecordedValue, sensitive: boolean): string {
  if (isAbsent(value)) return "(absent)";
  return sensitive ? REDACTED : JSON.stringify(value);
}

/** `data.LOG_LEVEL`, or `data["app.properties"]` when the key would read as a path of its own. */
export function describeKey(parent: string, key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}
