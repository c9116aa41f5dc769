import { z } from "zod";
import { isRecord, optional } from "../../core/objects.js";
import { formatPath } from "../../core/field-path.js";
import { chaosMeshPodSelectorSchema } from "./chaos-mesh-selector.js";
import type { LoadContext } from "./context.js";
import { parseAt, readTargeting } from "./context.js";
import { goDurationField, toDuration } from "./durations.js";
import type {
  AwaitsNodeDaemon,
  MemorySize,
  NetworkChaosSpec,
  PodChaosAction,
  PodChaosSpec,
  Runnability,
  StressChaosSpec,
} from "./model.js";
import { needsNodeDaemon, networkChaosActions, podChaosActions } from "./model.js";
import type { FieldPath } from "./problems.js";
import { describeValue, manifestRoot, valueAt } from "./problems.js";

/**
 * The specs of the Chaos Mesh kinds Broadside reads, field by field as Chaos Mesh defines them in
 * chaos-mesh/chaos-mesh api/v1alpha1: podchaos_types.go, networkchaos_types.go (and the checks of
 * networkchaos_webhook.go), stresschaos_types.go (and stresschaos_webhook.go). Field names, enums and
 * which fields are required follow the CRDs; the selector, mode and value are
 * chaos-mesh-selector.ts's.
 */

const selectorFields = chaosMeshPodSelectorSchema.shape;
const containerNames = z.array(z.string()).optional();
/** Chaos Mesh's multi-cluster field; Broadside acts on the cluster of its kubeconfig only. */
const remoteCluster = z.string().optional();

/** Chaos Mesh's FloatStr fields are strings in the CRD; YAML reads an unquoted 50 as a number. */
function percentString() {
  return z
    .string({
      error: (issue) =>
        typeof issue.input === "number"
          ? `must be a string in a Chaos Mesh manifest; quote it: "${issue.input}"`
          : `must be a percentage as a string, such as "50", got ${describeValue(issue.input)}`,
    })
    .transform((text, context) => {
      const value = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
      if (value >= 0 && value <= 100) return value;
      context.addIssue({
        code: "custom",
        message: `must be a number from 0 to 100, got ${JSON.stringify(text)}`,
      });
      return z.NEVER;
    });
}

function uint32(minimum: number) {
  return z.number().int({ error: "must be a whole number" }).min(minimum).max(4_294_967_295);
}

/** The spec as written, so that checks relating fields run even when some other field is malformed. */
type RawSpec = Readonly<Record<string, unknown>>;

function rawSpec(context: LoadContext, path: FieldPath): RawSpec {
  const value = valueAt(context.root, path);
  return isRecord(value) ? value : {};
}

function isSet(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  return value !== undefined && value !== null && value !== "";
}

function refuseRemoteCluster(context: LoadContext, path: FieldPath): void {
  if (!isSet(rawSpec(context, path).remoteCluster)) return;
  context.problems.add(
    [...path, "remoteCluster"],
    "is not supported: Broadside acts on the cluster of its kubeconfig only",
  );
}

// ---- PodChaos ----

const podChaosSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  action: z.enum(podChaosActions),
  duration: goDurationField().optional(),
  gracePeriod: z
    .number()
    .int({ error: "must be a whole number of seconds" })
    .nonnegative({ error: "must not be negative" })
    .optional(),
  remoteCluster,
});

function podChaosRunnability(context: LoadContext, path: FieldPath, action: PodChaosAction): Runnability {
  const spec = rawSpec(context, path);
  const at = (field: string) => `${context.fileName}: ${formatPath([...path, field], manifestRoot)}`;
  switch (action) {
    case "pod-kill":
      // Chaos Mesh treats pod-kill as one-shot (podchaos_types.go: +chaos-mesh:oneshot).
      if (isSet(spec.duration)) context.warnings.push(`${at("duration")} is ignored: pod-kill is one-shot`);
      if (isSet(spec.containerNames)) {
        context.warnings.push(`${at("containerNames")} is ignored by pod-kill, which kills whole pods`);
      }
      return { runnable: true };
    case "pod-failure":
      // PodChaosSpec.Duration: "It is required when the action is PodFailureAction."
      if (!isSet(spec.duration))
        context.problems.add([...path, "duration"], "is required for action pod-failure");
      return {
        runnable: false,
        reason:
          "action pod-failure is not supported yet: Broadside kills and evicts pods, it does not replace their images",
      };
    case "container-kill":
      // podchaos_webhook.go validateContainerName.
      if (!isSet(spec.containerNames)) {
        context.problems.add(
          [...path, "containerNames"],
          "needs at least one container for action container-kill",
        );
      }
      return { runnable: false, reason: `action container-kill ${needsNodeDaemon}` };
  }
}

function rawAction<Action extends string>(
  context: LoadContext,
  path: FieldPath,
  actions: readonly Action[],
): Action | undefined {
  const action = rawSpec(context, path).action;
  return actions.find((each) => each === action);
}

/** A PodChaos spec at `path` (a PodChaos's spec, or a Schedule's spec.podChaos). */
export function loadPodChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (PodChaosSpec & Runnability) | undefined {
  const spec = parseAt(context, podChaosSchema, path);
  const targeting = readTargeting(context, path);
  refuseRemoteCluster(context, path);
  const action = rawAction(context, path, podChaosActions);
  const runnability = action === undefined ? undefined : podChaosRunnability(context, path, action);
  if (spec === undefined || targeting === undefined || runnability === undefined) return undefined;
  return {
    action: spec.action,
    selector: targeting.selector,
    mode: targeting.mode,
    // PodChaosSpec.GracePeriod: "The default value is zero that indicates delete immediately."
    gracePeriodSeconds: spec.gracePeriod ?? 0,
    ...(spec.duration === undefined ? {} : { duration: toDuration(spec.duration) }),
    containerNames: spec.containerNames ?? [],
    ...runnability,
  };
}

// ---- NetworkChaos ----

const correlation = percentString().optional();

/** BandwidthSpec.Rate: an integer with bps, kbps, mbps, gbps or tbps, where bps means bytes per second. */
function rateField() {
  return z.string().transform((text, context) => {
    const normal = text.trim().toLowerCase();
    const units = ["tbps", "gbps", "mbps", "kbps", "bps"];
    const index = units.findIndex((unit) => normal.endsWith(unit));
    const amount = normal.slice(0, normal.length - (units[index]?.length ?? 0)).trim();
    if (index >= 0 && /^\d+$/.test(amount)) return Number(amount) * 1024 ** (units.length - 1 - index);
    context.addIssue({
      code: "custom",
      message: `must be a whole number with bps, kbps, mbps, gbps or tbps, got ${JSON.stringify(text)}`,
    });
    return z.NEVER;
  });
}

const networkChaosSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  action: z.enum(networkChaosActions),
  duration: goDurationField().optional(),
  device: z.string().optional(),
  // The current CRD's enum; older CRDs also allowed "", which the webhook then defaulted to "to".
  direction: z.enum(["to", "from", "both", ""]).optional(),
  target: z.strictObject(selectorFields).optional(),
  targetDevice: z.string().optional(),
  externalTargets: z.array(z.string()).optional(),
  delay: z
    .strictObject({
      latency: goDurationField(),
      correlation,
      jitter: goDurationField().optional(),
      reorder: z
        .strictObject({ reorder: percentString(), correlation, gap: z.number().int().nonnegative() })
        .optional(),
    })
    .optional(),
  loss: z.strictObject({ loss: percentString(), correlation }).optional(),
  duplicate: z.strictObject({ duplicate: percentString(), correlation }).optional(),
  corrupt: z.strictObject({ corrupt: percentString(), correlation }).optional(),
  bandwidth: z
    .strictObject({
      rate: rateField(),
      limit: uint32(1),
      buffer: uint32(1),
      peakrate: z.number().int().nonnegative().optional(),
      minburst: uint32(0).optional(),
    })
    .optional(),
  remoteCluster,
});

type ParsedNetworkChaos = z.output<typeof networkChaosSchema>;

const actionSections = ["delay", "loss", "duplicate", "corrupt", "bandwidth"] as const;

/** An action needs its section; netem combines any of delay, loss, duplicate and corrupt. */
function checkActionSection(context: LoadContext, path: FieldPath): void {
  const spec = rawSpec(context, path);
  const action = rawAction(context, path, networkChaosActions);
  if (action === undefined || action === "partition") return;
  if (action === "netem") {
    if (!actionSections.some((section) => section !== "bandwidth" && isSet(spec[section]))) {
      context.problems.add(
        [...path, "action"],
        "netem needs at least one of delay, loss, duplicate or corrupt",
      );
    }
    return;
  }
  if (!isSet(spec[action])) context.problems.add([...path, action], `is required for action ${action}`);
}

/** networkchaos_webhook.go validateTargets: partition aside, from and both need a target pod selector. */
function checkDirection(context: LoadContext, path: FieldPath): void {
  const spec = rawSpec(context, path);
  const backwards = spec.direction === "from" || spec.direction === "both";
  if (spec.action === "partition" || !backwards) return;
  if (isSet(spec.externalTargets)) {
    context.problems.add(
      [...path, "direction"],
      "externalTargets cannot be used with direction from or both",
    );
  }
  if (!isSet(spec.target)) context.problems.add([...path, "direction"], "from and both need a target");
}

function delayOf(delay: NonNullable<ParsedNetworkChaos["delay"]>): NonNullable<NetworkChaosSpec["delay"]> {
  return {
    latencyMs: delay.latency,
    // The webhook's defaults: DefaultJitter "0ms", DefaultCorrelation "0".
    jitterMs: delay.jitter ?? 0,
    correlation: delay.correlation ?? 0,
    ...(delay.reorder === undefined
      ? {}
      : { reorder: { ...delay.reorder, correlation: delay.reorder.correlation ?? 0 } }),
  };
}

function netemOf(spec: ParsedNetworkChaos): Partial<NetworkChaosSpec> {
  const { loss, duplicate, corrupt, bandwidth } = spec;
  return {
    ...(spec.delay === undefined ? {} : { delay: delayOf(spec.delay) }),
    ...(loss === undefined ? {} : { loss: { loss: loss.loss, correlation: loss.correlation ?? 0 } }),
    ...(duplicate === undefined
      ? {}
      : { duplicate: { duplicate: duplicate.duplicate, correlation: duplicate.correlation ?? 0 } }),
    ...(corrupt === undefined
      ? {}
      : { corrupt: { corrupt: corrupt.corrupt, correlation: corrupt.correlation ?? 0 } }),
    ...(bandwidth === undefined ? {} : { bandwidth: bandwidthOf(bandwidth) }),
  };
}

function bandwidthOf(
  bandwidth: NonNullable<ParsedNetworkChaos["bandwidth"]>,
): NonNullable<NetworkChaosSpec["bandwidth"]> {
  const { rate, limit, buffer, peakrate, minburst } = bandwidth;
  return {
    rateBytesPerSecond: rate,
    limit,
    buffer,
    ...(peakrate === undefined ? {} : { peakrate }),
    ...(minburst === undefined ? {} : { minburst }),
  };
}

function optionalStrings(spec: ParsedNetworkChaos): Partial<NetworkChaosSpec> {
  return {
    ...(spec.device === undefined ? {} : { device: spec.device }),
    ...(spec.targetDevice === undefined ? {} : { targetDevice: spec.targetDevice }),
    ...(spec.duration === undefined ? {} : { duration: toDuration(spec.duration) }),
  };
}

/** A NetworkChaos spec at `path`; parsed and checked, never runnable until the node daemon exists. */
export function loadNetworkChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (NetworkChaosSpec & AwaitsNodeDaemon) | undefined {
  const spec = parseAt(context, networkChaosSchema, path);
  const targeting = readTargeting(context, path);
  const target = readTargeting(context, [...path, "target"]);
  refuseRemoteCluster(context, path);
  checkActionSection(context, path);
  checkDirection(context, path);
  if (spec === undefined || targeting === undefined || (spec.target !== undefined && target === undefined)) {
    return undefined;
  }
  return {
    action: spec.action,
    selector: targeting.selector,
    mode: targeting.mode,
    containerNames: spec.containerNames ?? [],
    direction: spec.direction === undefined || spec.direction === "" ? "to" : spec.direction,
    ...(target === undefined ? {} : { target: { selector: target.selector, mode: target.mode } }),
    externalTargets: spec.externalTargets ?? [],
    ...optionalStrings(spec),
    ...netemOf(spec),
    runnable: false,
    reason: needsNodeDaemon,
  };
}

// ---- StressChaos ----

/** Stressor.Workers: "+kubebuilder:validation:Maximum=8192", and the webhook wants it positive. */
const workers = z
  .number()
  .int({ error: "must be a whole number" })
  .min(1, { error: "must be at least 1" })
  .max(8192, { error: "must be at most 8192 (stress-ng's limit)" });

const decimalUnits: Readonly<Record<string, number>> = { "": 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15 };

/** MemoryStressor.Size: a percentage of the memory, or a size as docker/go-units FromHumanSize reads it. */
function memorySize(text: string): MemorySize | string {
  const percent = /^([+-]?\d+)%$/.exec(text);
  if (percent !== null) {
    const value = Number(percent[1]);
    return value >= 0 && value <= 100
      ? { percent: value }
      : `the percentage must be from 0 to 100, got ${text}`;
  }
  const size = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(text);
  if (size === null)
    return `must be a size such as 256MB or a percentage such as 25%, got ${JSON.stringify(text)}`;
  return { bytes: Math.round(Number(size[1]) * (decimalUnits[(size[2] ?? "").toLowerCase()] ?? 1)) };
}

const stressChaosSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  stressors: z
    .strictObject({
      memory: z
        .strictObject({
          workers,
          size: z
            .string()
            .transform((text, context) => {
              const size = memorySize(text);
              if (typeof size !== "string") return size;
              context.addIssue({ code: "custom", message: size });
              return z.NEVER;
            })
            .optional(),
          time: goDurationField().optional(),
          oomScoreAdj: z.number().int().min(-1000).max(1000).optional(),
          options: z.array(z.string()).optional(),
        })
        .optional(),
      cpu: z
        .strictObject({
          workers,
          load: z.number().int().min(0).max(100).optional(),
          options: z.array(z.string()).optional(),
        })
        .optional(),
    })
    .optional(),
  stressngStressors: z.string().optional(),
  duration: goDurationField().optional(),
  remoteCluster,
});

type ParsedStressChaos = z.output<typeof stressChaosSchema>;

/** stresschaos_webhook.go: stressors or stressngStressors, and stressors hold memory or cpu. */
function checkStressors(context: LoadContext, path: FieldPath): void {
  const spec = rawSpec(context, path);
  const stressng = isSet(spec.stressngStressors);
  const stressors = valueAt(spec, ["stressors"]);
  if (!isSet(stressors) && !stressng) {
    context.problems.add([...path, "stressors"], "is required: give stressors or stressngStressors");
  } else if (
    isSet(stressors) &&
    !isSet(valueAt(stressors, ["memory"])) &&
    !isSet(valueAt(stressors, ["cpu"]))
  ) {
    context.problems.add([...path, "stressors"], "needs memory or cpu");
  }
  if (stressng && isSet(stressors)) {
    context.warnings.push(
      `${context.fileName}: ${formatPath([...path, "stressors"], manifestRoot)} is ignored: stressngStressors wins`,
    );
  }
}

function memoryOf(
  memory: NonNullable<NonNullable<ParsedStressChaos["stressors"]>["memory"]>,
): StressChaosSpec["memory"] {
  return {
    workers: memory.workers,
    ...optional("size", memory.size),
    ...optional("timeMs", memory.time),
    ...optional("oomScoreAdj", memory.oomScoreAdj),
    options: memory.options ?? [],
  };
}

function cpuOf(cpu: NonNullable<NonNullable<ParsedStressChaos["stressors"]>["cpu"]>): StressChaosSpec["cpu"] {
  return { workers: cpu.workers, ...optional("load", cpu.load), options: cpu.options ?? [] };
}

function stressorsOf(spec: ParsedStressChaos): Partial<StressChaosSpec> {
  const { memory, cpu } = spec.stressors ?? {};
  return {
    ...optional("memory", memory === undefined ? undefined : memoryOf(memory)),
    ...optional("cpu", cpu === undefined ? undefined : cpuOf(cpu)),
  };
}

/** A StressChaos spec at `path`; parsed and checked, never runnable until the node daemon exists. */
export function loadStressChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (StressChaosSpec & AwaitsNodeDaemon) | undefined {
  const spec = parseAt(context, stressChaosSchema, path);
  const targeting = readTargeting(context, path);
  refuseRemoteCluster(context, path);
  checkStressors(context, path);
  if (spec === undefined || targeting === undefined) return undefined;
  return {
    selector: targeting.selector,
    mode: targeting.mode,
    containerNames: spec.containerNames ?? [],
    ...stressorsOf(spec),
    ...(spec.stressngStressors === undefined ? {} : { stressngStressors: spec.stressngStressors }),
    ...(spec.duration === undefined ? {} : { duration: toDuration(spec.duration) }),
    runnable: false,
    reason: needsNodeDaemon,
  };
}
