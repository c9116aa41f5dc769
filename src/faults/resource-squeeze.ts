import { z } from "zod";
import { usageError } from "../core/errors.js";
import { containerNameSchema, namespaceNameSchema, objectNameSchema } from "../core/schemas.js";
import type { JsonObject, JsonValue, RecordedValue } from "../core/ledger/record.js";
import { isAbsent, jsonEqual } from "../core/ledger/record.js";
import type { KubeObject, ObjectReader } from "../kube/objects.js";
import { formatPointer, getAtPointer, targetOf } from "../kube/field-access.js";
import { describeObject, describeRef, parseParams, readTarget } from "./plan-support.js";
import type { QuantityCheck } from "./quantity.js";
import { checkCpuQuantity, checkMemoryQuantity, clampQuantity } from "./quantity.js";
import type { ObjectFault, ParamNamer, PlannedChange } from "./types.js";

/**
 * resource-squeeze: lowers the CPU and memory limits of a workload's containers, so that its pods are
 * throttled or OOM-killed once the rollout the change triggers has replaced them. Requests are lowered with
 * the limits where they would exceed them, because the API server refuses a request above its limit.
 */

/** A schema for a quantity flag: refuses bad syntax and turns the value into its canonical text. */
function quantity(check: (text: string) => QuantityCheck) {
  return z.string().transform((text, context) => {
    const result = check(text);
    if (result.ok) return result.canonical;
    context.addIssue({ code: "custom", message: result.problem });
    return z.NEVER;
  });
}

export const resourceSqueezeParams = z.strictObject({
  namespace: namespaceNameSchema.describe("The workload's namespace."),
  kind: z.enum(["deployment", "statefulset", "daemonset"]).describe("The workload's kind."),
  name: objectNameSchema.describe("The workload's name."),
  cpu: quantity(checkCpuQuantity).describe("The CPU limit set for the fault's duration (a quantity: 100m)."),
  memory: quantity(checkMemoryQuantity).describe(
    "The memory limit set for the fault's duration (a quantity: 64Mi).",
  ),
  container: containerNameSchema.optional().describe("The container squeezed; default: every container."),
});

export type ResourceSqueezeParams = z.input<typeof resourceSqueezeParams>;
type CheckedParams = z.output<typeof resourceSqueezeParams>;

const kinds = {
  deployment: "Deployment",
  statefulset: "StatefulSet",
  daemonset: "DaemonSet",
} as const;

export const resourceSqueeze: ObjectFault<ResourceSqueezeParams> = {
  kind: "resource-squeeze",

  async plan(
    objects: ObjectReader,
    input: ResourceSqueezeParams,
    names: ParamNamer,
  ): Promise<PlannedChange[]> {
    const params = parseParams(resourceSqueezeParams, input, names);
    const kind = kinds[params.kind];
    const object = await readTarget(objects, "apps/v1", kind, params, names);
    const target = targetOf("apps/v1", kind, object);
    const limits = { cpu: params.cpu, memory: params.memory };
    const changes: PlannedChange[] = [];
    for (const { index, name } of chosenContainers(object, params, names)) {
      const path = formatPointer(["spec", "template", "spec", "containers", String(index), "resources"]);
      const original = getAtPointer(object, path);
      const injected = squeezeResources(original, limits);
      if (jsonEqual(original, injected)) continue;
      const description = `${describeRef(target)} container ${name}: ${describeResourceChange(original, injected)}`;
      changes.push({
        faultKind: "resource-squeeze",
        target,
        path,
        original,
        injected,
        sensitive: false,
        description,
      });
    }
    if (changes.length === 0) {
      const what = describeObject(params.kind, params.namespace, params.name);
      throw usageError(names("cpu"), `${what} already has these limits; nothing would change`);
    }
    return changes;
  },
};

interface ContainerAt {
  readonly index: number;
  readonly name: string;
}

/** Every container with its index (JSON Patch addresses containers by index), or only the named one. */
function chosenContainers(object: KubeObject, params: CheckedParams, names: ParamNamer): ContainerAt[] {
  const listed = getAtPointer(object, "/spec/template/spec/containers");
  const containers = Array.isArray(listed) ? (listed as readonly JsonValue[]) : [];
  const all = containers.map((container, index) => {
    const name = getAtPointer(container, "/name");
    return { index, name: typeof name === "string" ? name : String(index) };
  });
  if (params.container === undefined) return all;
  const named = all.filter((container) => container.name === params.container);
  if (named.length === 0) {
    const what = describeObject(params.kind, params.namespace, params.name);
    const present = all.map((container) => container.name).join(", ");
    throw usageError(
      names("container"),
      `${what} has no container "${params.container}"; it has: ${present}`,
    );
  }
  return named;
}

export interface SqueezeLimits {
  readonly cpu: string;
  readonly memory: string;
}

/**
 * A container's resources with the given CPU and memory limits, every other limit kept, and CPU and
 * memory requests lowered to the new limits where they are higher. Absent requests stay absent: the API
 * server defaults requests to limits on pods, and the template should keep saying what it said.
 */
export function squeezeResources(original: RecordedValue, limits: SqueezeLimits): JsonObject {
  const resources = objectOrEmpty(original);
  const newLimits: JsonObject = {
    ...objectOrEmpty(resources.limits),
    cpu: limits.cpu,
    memory: limits.memory,
  };
  const requests = resources.requests;
  if (requests === undefined) return { ...resources, limits: newLimits };
  return { ...resources, limits: newLimits, requests: clampRequests(objectOrEmpty(requests), limits) };
}

function clampRequests(requests: JsonObject, limits: SqueezeLimits): JsonObject {
  const clamped: Record<string, JsonValue> = { ...requests };
  for (const resource of ["cpu", "memory"] as const) {
    const requested = requests[resource];
    if (typeof requested === "string") clamped[resource] = clampQuantity(requested, limits[resource]);
  }
  return clamped;
}

function objectOrEmpty(value: RecordedValue | undefined): JsonObject {
  if (value === undefined || isAbsent(value)) return {};
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as JsonObject) : {};
}

/** "limits.cpu (none) -> 100m, limits.memory 256Mi -> 64Mi, requests.cpu 250m -> 100m": what changed. */
export function describeResourceChange(original: RecordedValue, injected: RecordedValue): string {
  const parts: string[] = [];
  for (const group of ["limits", "requests"] as const) {
    for (const resource of ["cpu", "memory"] as const) {
      const pointer = `/${group}/${resource}`;
      const before = showQuantity(getAtPointer(objectOrEmpty(original), pointer));
      const after = showQuantity(getAtPointer(objectOrEmpty(injected), pointer));
      if (before !== after) parts.push(`${group}.${resource} ${before} -> ${after}`);
    }
  }
  return parts.join(", ");
}

function showQuantity(value: RecordedValue): string {
  return typeof value === "string" ? value : "(none)";
}
