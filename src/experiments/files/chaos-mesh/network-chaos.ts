import { z } from "zod";
import { optional } from "../../../core/objects.js";
import type { LoadContext } from "../context.js";
import { parseAt, readTargeting } from "../context.js";
import { goDurationField, toDuration } from "../durations.js";
import { faultDurationBound } from "./manifest.js";
import { durationLimits } from "../../../core/input-limits.js";
import type { ChaosMeshNetworkChaos, NetworkChaosSpec, Runnability } from "../model.js";
import { networkChaosActions } from "../model.js";
import { externalPeers } from "../../../faults/network.js";
import type { FieldPath } from "../problems.js";
import { describeValue } from "../problems.js";
import {
  containerNames,
  isSet,
  loadManifest,
  rawAction,
  rawSpec,
  refuseRemoteCluster,
  remoteCluster,
  selectorFields,
} from "./manifest.js";

/**
 * NetworkChaos, field by field as chaos-mesh/chaos-mesh api/v1alpha1/networkchaos_types.go defines it, with
 * the checks of networkchaos_webhook.go. Parsed and checked; runnable as networkRunnability says.
 */

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
      // Go's ParseFloat, as Chaos Mesh reads it, but no minus sign: "-0" passes Chaos Mesh's range check
      // and is still a mistake.
      const value = /^\+?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : Number.NaN;
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

export const networkChaosSchema = z.strictObject({
  ...selectorFields,
  containerNames,
  action: z.enum(networkChaosActions),
  duration: goDurationField(faultDurationBound).optional(),
  device: z.string().optional(),
  // The current CRD's enum; older CRDs also allowed "", which the webhook then defaulted to "to".
  direction: z.enum(["to", "from", "both", ""]).optional(),
  target: z.strictObject(selectorFields).optional(),
  targetDevice: z.string().optional(),
  externalTargets: z.array(z.string()).optional(),
  delay: z
    .strictObject({
      latency: goDurationField(durationLimits.networkDelay),
      correlation,
      jitter: goDurationField(durationLimits.networkDelay).optional(),
      reorder: z.strictObject({ reorder: percentString(), correlation, gap: uint32(0) }).optional(),
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
      peakrate: uint32(0).optional(),
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
    ...optional("reorder", delay.reorder, (reorder) => ({
      ...reorder,
      correlation: reorder.correlation ?? 0,
    })),
  };
}

function netemOf(spec: ParsedNetworkChaos): Partial<NetworkChaosSpec> {
  const { loss, duplicate, corrupt, bandwidth } = spec;
  return {
    ...optional("delay", spec.delay, delayOf),
    ...optional("loss", loss, (section) => ({ loss: section.loss, correlation: section.correlation ?? 0 })),
    ...optional("duplicate", duplicate, (section) => ({
      duplicate: section.duplicate,
      correlation: section.correlation ?? 0,
    })),
    ...optional("corrupt", corrupt, (section) => ({
      corrupt: section.corrupt,
      correlation: section.correlation ?? 0,
    })),
    ...optional("bandwidth", bandwidth, bandwidthOf),
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
    ...optional("peakrate", peakrate),
    ...optional("minburst", minburst),
  };
}

function optionalStrings(spec: ParsedNetworkChaos): Partial<NetworkChaosSpec> {
  return {
    ...optional("device", spec.device),
    ...optional("targetDevice", spec.targetDevice),
    ...optional("duration", spec.duration, toDuration),
  };
}

/**
 * Whether Broadside runs the spec (ADR 0032, ADR 0039, ADR 0041): bandwidth, delay, loss and partition,
 * of the whole pod or filtered to a target selector and externalTargets (IPv4 addresses and CIDRs), in
 * any direction the webhook allows, each with a duration; duplicate and corrupt too, where the node's kernel
 * has sch_netem (the writer refuses them before any write on a node without). netem's combinations do not.
 */
export function networkRunnability(spec: NetworkChaosSpec): Runnability {
  const not = (reason: string): Runnability => ({ runnable: false, reason });
  const runs = ["bandwidth", "partition", "delay", "loss", "duplicate", "corrupt"];
  if (!runs.includes(spec.action))
    return not(
      `action ${spec.action} does not run yet (bandwidth, partition, delay, loss, duplicate and corrupt run; netem's combinations do not)`,
    );
  const external = externalProblem(spec.externalTargets);
  if (external !== undefined) return not(external);
  if (spec.targetDevice !== undefined && spec.targetDevice !== "")
    return not(
      "spec.targetDevice does not run: a fault placed on a target (direction from or both) is on its eth0",
    );
  if (spec.action === "delay" && spec.delay?.reorder !== undefined)
    return not(
      "delay.reorder does not run yet: a TCP proxy cannot reorder a stream, and netem is not wired for it",
    );
  if (spec.duration === undefined)
    return not("spec.duration is required to run it: a network fault of unstated length is not guessed");
  return { runnable: true };
}

/** Why spec.externalTargets cannot run (a domain name, IPv6), naming the entry; undefined when they can. */
function externalProblem(values: readonly string[]): string | undefined {
  try {
    externalPeers(values, "spec.externalTargets");
    return undefined;
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** A NetworkChaos spec at `path`; parsed and checked; runnable as networkRunnability says. */
export function loadNetworkChaosSpec(
  context: LoadContext,
  path: FieldPath,
): (NetworkChaosSpec & Runnability) | undefined {
  const spec = parseAt(context, networkChaosSchema, path);
  const targeting = readTargeting(context, path);
  const target = readTargeting(context, [...path, "target"]);
  refuseRemoteCluster(context, path);
  checkActionSection(context, path);
  checkDirection(context, path);
  if (spec === undefined || targeting === undefined || (spec.target !== undefined && target === undefined)) {
    return undefined;
  }
  const loaded: NetworkChaosSpec = {
    action: spec.action,
    selector: targeting.selector,
    mode: targeting.mode,
    containerNames: spec.containerNames ?? [],
    direction: spec.direction === undefined || spec.direction === "" ? "to" : spec.direction,
    ...optional("target", target, ({ selector, mode }) => ({ selector, mode })),
    externalTargets: spec.externalTargets ?? [],
    ...optionalStrings(spec),
    ...netemOf(spec),
  };
  return { ...loaded, ...networkRunnability(loaded) };
}

export function loadNetworkChaos(context: LoadContext): ChaosMeshNetworkChaos | undefined {
  return loadManifest(context, "NetworkChaos", loadNetworkChaosSpec);
}
