import type { z } from "zod";
import { isRecord, optional } from "../../core/objects.js";
import { formatPath } from "../../core/field-path.js";
import type { ChaosMeshTargeting } from "./chaos-mesh/selector.js";
import { fromChaosMesh } from "./chaos-mesh/selector.js";
import type { FieldPath, Problems } from "./problems.js";
import { manifestRoot, valueAt } from "./problems.js";

/** What every kind's loader shares while it reads one file. */
export interface LoadContext {
  readonly fileName: string;
  /** The whole document as read from YAML, for values at paths and for union resolution. */
  readonly root: unknown;
  readonly problems: Problems;
  readonly warnings: string[];
  /** The namespace selectors default to: the manifest's own, else the caller's (the kube context's). */
  readonly namespace?: string;
}

/** Checks `value` (found at `path`) against `schema`; problems are recorded, undefined returned. */
export function parseAt<Schema extends z.ZodType>(
  context: LoadContext,
  schema: Schema,
  path: FieldPath,
): z.output<Schema> | undefined {
  const result = schema.safeParse(valueAt(context.root, path), { reportInput: true });
  if (result.success) return result.data;
  context.problems.addIssues(result.error.issues, path, context.root);
  return undefined;
}

export interface TargetingOptions {
  /** The mode when the field is absent: Broadside's kind defaults to one; Chaos Mesh requires a mode. */
  readonly defaultMode?: string;
  /** Broadside's kind takes `value: 2`; Chaos Mesh's CRD wants a string and fromChaosMesh says so. */
  readonly numericValue?: boolean;
}

function selectorInput(
  object: Readonly<Record<string, unknown>>,
  options: TargetingOptions,
): Record<string, unknown> {
  const { selector, mode = options.defaultMode, value } = object;
  const text = options.numericValue === true && typeof value === "number" ? String(value) : value;
  return { selector, mode, ...optional("value", text) };
}

function warnEveryNamespace(context: LoadContext, at: string, targeting: ChaosMeshTargeting): void {
  const { namespaces = [], pods = [] } = targeting.selector;
  if (namespaces.length > 0 || pods.length > 0) return;
  context.warnings.push(
    `${context.fileName}: ${at}.selector names no namespace and the file has none: pods in every ` +
      "namespace the safety rails allow may be selected",
  );
}

/**
 * The `{selector, mode, value}` found at `path`, converted by fromChaosMesh (chaos-mesh/selector.ts) to a
 * Selector and a Mode, so that selectors mean exactly what they mean to `broadside kill` and to Chaos Mesh.
 * Skipped when the schema already found those fields malformed, so that each problem is reported once.
 */
export function readTargeting(
  context: LoadContext,
  path: FieldPath,
  options: TargetingOptions = {},
): ChaosMeshTargeting | undefined {
  const object = valueAt(context.root, path);
  // Without a selector mapping there is nothing to convert; the schema reports it where it belongs.
  if (!isRecord(object) || !isRecord(object.selector)) return undefined;
  if (["selector", "mode", "value"].some((field) => context.problems.hasUnder([...path, field])))
    return undefined;
  const at = formatPath(path, manifestRoot);
  try {
    const targeting = fromChaosMesh(selectorInput(object, options), {
      path: at,
      ...optional("manifestNamespace", context.namespace),
    });
    context.warnings.push(...targeting.warnings.map((warning) => `${context.fileName}: ${warning}`));
    warnEveryNamespace(context, at, targeting);
    return targeting;
  } catch (error) {
    context.problems.addError(error);
    return undefined;
  }
}
