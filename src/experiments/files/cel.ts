import { z } from "zod";

/**
 * CEL rules for the in-cluster form of a schema: what JSON Schema cannot say (a value required by another
 * field, a duration's upper bound) but the API server can check before an object is stored, as Kubernetes'
 * x-kubernetes-validations. They sit beside the zod schema whose refinement they mirror, so the two are read
 * together; src/agent/crds/ puts them into the CRDs. Files are still checked by zod alone.
 */

export interface CelRule {
  /** A CEL expression over `self`, true when the value is valid. */
  readonly rule: string;
  /** What is wrong, as the API server reports it after the field's path. */
  readonly message: string;
  /** The field the message is about, relative to `self` (".value"), so the error names it. */
  readonly fieldPath?: string;
}

export interface CelMeta {
  readonly rules: readonly CelRule[];
}

/** Rules by schema; read by the CRD generator through z.toJSONSchema's override. */
export const celRules = z.registry<CelMeta>();

/** Attaches `rules` to `schema` (after any it already has) and returns the same schema. */
export function withCel<Schema extends z.ZodType>(schema: Schema, ...rules: readonly CelRule[]): Schema {
  const earlier = celRules.get(schema)?.rules ?? [];
  celRules.add(schema, { rules: [...earlier, ...rules] });
  return schema;
}

/** A CEL string literal of `text` (single quotes, backslashes and quotes escaped). */
export function celString(text: string): string {
  return `'${text.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}
