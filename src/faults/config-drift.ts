import { z } from "zod";
import { usageError } from "../core/errors.js";
import { namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import type { RecordedValue } from "../core/ledger/record.js";
import { ABSENT, isAbsent, jsonEqual } from "../core/ledger/record.js";
import type { KubeObject, ObjectReader } from "../kube/objects.js";
import { formatPointer, getAtPointer, targetOf } from "../kube/field-access.js";
import {
  describeKey,
  describeObject,
  describeRef,
  parseParams,
  readTarget,
  showValue,
} from "./plan-support.js";
import type { ObjectFault, ParamNamer, PlannedChange } from "./types.js";

/**
 * config-drift: sets or removes one key of a ConfigMap or Secret, the drift a GitOps reconciler should
 * notice and heal. Secret values are written base64-encoded, as the API stores them, and the change is
 * marked sensitive so that neither value reaches a description, a log or a terminal.
 */

/** The key syntax the API server accepts for ConfigMap and Secret data. */
const dataKey = /^[-._a-zA-Z0-9]+$/;

export const configDriftParams = z
  .strictObject({
    namespace: namespaceNameSchema.describe("The namespace of the object changed."),
    kind: z.enum(["configmap", "secret"]).describe("configmap or secret."),
    name: objectNameSchema.describe("The name of the ConfigMap or Secret."),
    key: z
      .string()
      .max(253, "must be at most 253 characters")
      .regex(dataKey, "must consist of letters, digits, '-', '_' or '.'")
      .refine((key) => key !== "." && key !== "..", "must not be '.' or '..'")
      .describe("The data key changed."),
    value: z.string().optional().describe("The value written for the fault's duration."),
    remove: z.boolean().optional().describe("true removes the key instead (give value or remove)."),
  })
  .superRefine((params, context) => {
    if ((params.value === undefined) === (params.remove !== true)) {
      context.addIssue({
        code: "custom",
        path: ["value"],
        message: "give exactly one of --value or --remove",
      });
    }
  });

export type ConfigDriftParams = z.input<typeof configDriftParams>;
type CheckedParams = z.output<typeof configDriftParams>;

const kinds = {
  configmap: { kind: "ConfigMap", sensitive: false },
  secret: { kind: "Secret", sensitive: true },
} as const;

export const configDrift: ObjectFault<ConfigDriftParams> = {
  kind: "config-drift",

  async plan(objects: ObjectReader, input: ConfigDriftParams, names: ParamNamer): Promise<PlannedChange[]> {
    const params = parseParams(configDriftParams, input, names);
    const { kind, sensitive } = kinds[params.kind];
    const object = await readTarget(objects, "v1", kind, params, names);
    refuseUnwritable(object, params, names);
    const path = formatPointer(["data", params.key]);
    const original = getAtPointer(object, path);
    const injected = injectedValue(params, original, names);
    const target = targetOf("v1", kind, object);
    const field = describeKey("data", params.key);
    return [
      {
        faultKind: "config-drift",
        target,
        path,
        original,
        injected,
        sensitive,
        description: `${describeRef(target)} ${field}: ${showValue(original, sensitive)} -> ${showValue(injected, sensitive)}`,
      },
    ];
  },
};

/** Objects the API server would refuse to change, refused here with a reason the user can act on. */
function refuseUnwritable(object: KubeObject, params: CheckedParams, names: ParamNamer): void {
  const what = describeObject(params.kind, params.namespace, params.name);
  if (getAtPointer(object, "/immutable") === true) {
    throw usageError(names("name"), `${what} is immutable; its data cannot be changed`);
  }
  // A key may live in data or binaryData, never both: adding it to data would be refused.
  if (!isAbsent(getAtPointer(object, formatPointer(["binaryData", params.key])))) {
    throw usageError(
      names("key"),
      `"${params.key}" is binary data in ${what}; config-drift changes text data only`,
    );
  }
}

function injectedValue(params: CheckedParams, original: RecordedValue, names: ParamNamer): RecordedValue {
  const what = describeObject(params.kind, params.namespace, params.name);
  if (params.value === undefined) {
    if (isAbsent(original)) throw usageError(names("key"), `${what} has no key "${params.key}" to remove`);
    return ABSENT;
  }
  if (params.kind === "secret") {
    // Never say whether a Secret already holds the value: that answer would let anyone allowed to run a
    // drift guess a Secret one try at a time. An equal value is planned like any other: a no-op change,
    // journaled and reverted as usual.
    return Buffer.from(params.value, "utf8").toString("base64");
  }
  if (jsonEqual(original, params.value)) {
    throw usageError(
      names("value"),
      `${what} already holds this value at "${params.key}"; nothing would change`,
    );
  }
  return params.value;
}
