import { z } from "zod";
import { countLimits } from "./input-limits.js";
import {
  dnsLabelMaxLength,
  dnsLabelPattern,
  dnsLabelProblem,
  dnsSubdomainMaxLength,
  dnsSubdomainPattern,
  dnsSubdomainProblem,
  quoted,
} from "./names.js";

/**
 * Schema pieces for input that names Kubernetes things, shared by every file kind and the ledger, so a
 * rule is written once and enforced the same everywhere.
 */

/** Keys no map from input may have: a plain object cannot hold them, so they would vanish unseen. */
const reservedKeys = new Set(["__proto__"]);

/**
 * A map from input whose every key `keyProblem` accepts. The keys are checked on the input as written:
 * zod's own record drops a `__proto__` key without a word (it cannot be assigned to a plain object), and a
 * selector that silently lost a key would select more than was written.
 */
export function keyedRecord<Value extends z.ZodType>(
  keyProblem: (key: string) => string | undefined,
  value: Value,
): z.ZodPreprocess<z.ZodRecord<z.ZodString, Value>> {
  return z.preprocess(
    (input, context) => {
      if (typeof input !== "object" || input === null || Array.isArray(input)) return input;
      for (const key of Object.keys(input)) {
        const problem = reservedKeys.has(key) ? "is not allowed as a key" : keyProblem(key);
        if (problem !== undefined) {
          context.addIssue({
            code: "custom",
            message: `key ${JSON.stringify(key)} ${problem}`,
            path: [key],
            input,
          });
        }
      }
      return input;
    },
    z.record(z.string(), value),
  );
}

/**
 * A name schema whose checks carry into the published JSON Schema (maxLength, pattern), with the
 * messages of core/names.ts, the value quoted.
 */
function nameSchema(
  what: string,
  maxLength: number,
  pattern: RegExp,
  problem: (name: string) => string | undefined,
) {
  const message = (issue: { readonly input?: unknown }): string => {
    const text = typeof issue.input === "string" ? issue.input : String(issue.input);
    return `${quoted(text)} is not ${what}: ${problem(text) ?? "is not valid"}`;
  };
  return z
    .string()
    .min(1, { error: message })
    .max(maxLength, { error: message })
    .regex(pattern, { error: message });
}

/** A namespace name (RFC 1123 label), as the API server checks it. Container names follow the same rule. */
export const namespaceNameSchema = nameSchema(
  "a namespace name",
  dnsLabelMaxLength,
  dnsLabelPattern,
  dnsLabelProblem,
);

/** An object name (RFC 1123 subdomain): pods, ConfigMaps, Secrets, workloads, nodes. */
export const objectNameSchema = nameSchema(
  "an object name",
  dnsSubdomainMaxLength,
  dnsSubdomainPattern,
  dnsSubdomainProblem,
);

/** A container name (RFC 1123 label). */
export const containerNameSchema = nameSchema(
  "a container name",
  dnsLabelMaxLength,
  dnsLabelPattern,
  dnsLabelProblem,
);

/** A pod's grace period in whole seconds, within its documented range (core/input-limits.ts). */
export const gracePeriodSecondsSchema = z
  .number()
  .int({ error: "must be a whole number of seconds" })
  .nonnegative({ error: "must not be negative" })
  .max(countLimits.gracePeriodSeconds.max, {
    error: `must be at most ${countLimits.gracePeriodSeconds.max} seconds`,
  });
