import type { Command } from "commander";
import { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { namespaceName, objectName, quoted } from "../core/names.js";
import { countLimits, durationLimits } from "../core/input-limits.js";
import { optional } from "../core/objects.js";
import { labelKeyProblem, parseLabelSelector } from "../core/targeting/label-selector.js";
import { parseMode } from "../core/targeting/mode.js";
import { podPhases, type Mode, type PodPhase, type Selector } from "../core/targeting/types.js";
import type { NamespaceScope } from "../kube/pod-facts.js";
import { addClusterFlags, type ClusterFlags } from "./engine-context.js";
import { choiceOption, durationOption, integerOption } from "./options.js";

export type Output = "table" | "json";

/** Flags every fault verb has: the cluster, the rails, dry run and output. */
export interface CommonChaosFlags extends ClusterFlags {
  readonly dryRun: boolean;
  readonly output: Output;
  readonly unsafe: boolean;
  readonly optIn: boolean;
}

export function addCommonChaosFlags(command: Command): Command {
  return addClusterFlags(command)
    .option(
      "--dry-run",
      "print the full plan (targets, and why every other pod is left out) and change nothing",
      false,
    )
    .option(
      "-o, --output <format>",
      "table or json",
      choiceOption("--output", ["table", "json"] as const),
      "table",
    )
    .option(
      "--unsafe",
      "lift the blast-radius cap (never more than half the ready pods of a workload); logged",
      false,
    )
    .option("--opt-in", "only touch namespaces annotated broadside.dev/chaos=enabled", false);
}

/** Flags of the pod verbs (kill, evict): Chaos Mesh's selector and modes, in kubectl's spelling. */
export interface PodTargetFlags extends CommonChaosFlags {
  readonly namespace?: string;
  readonly allNamespaces: boolean;
  readonly selector?: string;
  readonly fieldSelector?: string;
  readonly annotationSelector?: string;
  readonly node?: string;
  readonly mode: string;
  readonly value?: string;
  readonly gracePeriod?: number;
  /** List every pod left out with its reason, not only the counts by reason. */
  readonly explain: boolean;
  readonly wait: boolean;
  readonly timeout: Duration;
  readonly maxShots?: number;
  readonly per?: Duration;
}

/** The flags that choose pods (kill, evict, fail): Chaos Mesh's selector and modes. */
export type PodSelectionFlags = Pick<
  PodTargetFlags,
  | keyof CommonChaosFlags
  | "namespace"
  | "allNamespaces"
  | "selector"
  | "fieldSelector"
  | "annotationSelector"
  | "node"
  | "mode"
  | "value"
  | "explain"
>;

export function addPodTargetFlags(command: Command): Command {
  return addPodSelectionFlags(command)
    .option(
      "--grace-period <seconds>",
      "grace period (default: each pod's own)",
      integerOption("--grace-period", countLimits.gracePeriodSeconds),
    )
    .option("--no-wait", "do not watch recovery; return once the shots are answered")
    .option(
      "--max-shots <n>",
      "pace the shots: at most N per --per (default: all at once)",
      integerOption("--max-shots", countLimits.maxShots),
    )
    .option(
      "--per <duration>",
      "the interval of --max-shots",
      durationOption("--per", durationLimits.pacingInterval),
    )
    .option(
      "--timeout <duration>",
      "how long to wait for recovery",
      durationOption("--timeout", durationLimits.recoveryTimeout),
      Duration.parse("5m", "--timeout"),
    );
}

export function addPodSelectionFlags(command: Command): Command {
  return addCommonChaosFlags(command)
    .argument("[pods...]", "pod names (in the namespace of -n)")
    .option("-n, --namespace <names>", "namespace(s), comma-separated (default: the context's, else default)")
    .option("-A, --all-namespaces", "pods of every namespace (protected ones are still never touched)", false)
    .option("-l, --selector <selector>", "label selector: app=web,tier in (front,back),!canary")
    .option("--field-selector <selector>", "spec.nodeName=NODE and/or status.phase=PHASE")
    .option("--annotation-selector <pairs>", "key=value,... every pair must match")
    .option("--node <names>", "pods on these nodes, comma-separated")
    .option(
      "--mode <mode>",
      "one, all, fixed, fixed-percent or random-max-percent (Chaos Mesh's modes)",
      "one",
    )
    .option("--value <n>", "the number (fixed) or percentage (fixed-percent, random-max-percent)")
    .option("--explain", "list every pod left out and why (by default: how many, by reason)", false);
}

export function paceFrom(flags: PodTargetFlags): { maxShots: number; interval: Duration } | undefined {
  if (flags.maxShots === undefined && flags.per === undefined) return undefined;
  if (flags.maxShots === undefined || flags.per === undefined)
    throw usageError("--max-shots", "needs --per, and --per needs --max-shots");
  if (flags.per.milliseconds === 0) throw usageError("--per", "must be longer than 0");
  return { maxShots: flags.maxShots, interval: flags.per };
}

export function modeFrom(flags: PodSelectionFlags): Mode {
  return parseMode(flags.mode, flags.value);
}

export function scopeFrom(flags: PodSelectionFlags, contextNamespace: string): NamespaceScope {
  if (flags.allNamespaces) {
    if (flags.namespace !== undefined)
      throw usageError("--all-namespaces", "cannot be combined with --namespace");
    return "all";
  }
  if (flags.namespace === undefined)
    return [namespaceName(contextNamespace, "the kubeconfig context's namespace")];
  return splitList(flags.namespace, "--namespace").map((name) => namespaceName(name, "--namespace"));
}

/** The Selector of Broadside's targeting domain, from the flags; every bad value names its flag. */
export function selectorFrom(
  flags: PodSelectionFlags,
  pods: readonly string[],
  scope: NamespaceScope,
): Selector {
  const namespaces = scope === "all" ? undefined : scope;
  return {
    ...optional("namespaces", namespaces),
    ...optional("labelSelector", flags.selector, (text) => checkedLabelSelector(text)),
    ...optional("fieldSelectors", flags.fieldSelector, fieldSelectorsFrom),
    ...optional("annotationSelectors", flags.annotationSelector, annotationPairsFrom),
    ...optional("nodeNames", flags.node, (value) =>
      splitList(value, "--node").map((name) => objectName(name, "--node")),
    ),
    ...(pods.length === 0 ? {} : { pods: podRefs(pods, namespaces) }),
  };
}

/**
 * -l as kubectl reads it, checked now rather than at the first pod. An empty selector is refused: kubectl
 * reads it as "every object", which is never what a person typing -l '' into a chaos tool meant.
 */
export function checkedLabelSelector(text: string, flag = "--selector"): string {
  if (text.trim() === "") {
    throw usageError(
      flag,
      "is empty, which would select every pod; name labels to match, or leave -l out to choose among every pod of the namespace",
    );
  }
  parseLabelSelector(text, flag);
  return text;
}

function podRefs(pods: readonly string[], namespaces: readonly string[] | undefined) {
  if (namespaces !== undefined && namespaces.length > 1) {
    throw usageError("[pods...]", "pod names need exactly one namespace; give one -n");
  }
  const namespace = namespaces?.[0];
  return pods.map((text) => {
    const name = objectName(text, "[pods...]");
    return namespace === undefined ? { name } : { namespace, name };
  });
}

export function splitList(text: string, flag: string): string[] {
  const items = text.split(",").map((item) => item.trim());
  if (items.some((item) => item === "")) throw usageError(flag, `"${text}" has an empty entry`);
  return items;
}

/** key=value,... as entries; a map is made of them only once every key is known good. */
function pairsFrom(text: string, flag: string): [string, string][] {
  return splitList(text, flag).map((item) => {
    const [key, value, ...rest] = item.split("=");
    if (key === undefined || key === "" || value === undefined || rest.length > 0) {
      throw usageError(flag, `"${item}" is not key=value`);
    }
    return [key, value];
  });
}

/** Annotation keys follow the label key rules; a key that is not one (say `__proto__`) is refused. */
function annotationPairsFrom(text: string): Record<string, string> {
  const pairs = pairsFrom(text, "--annotation-selector");
  for (const [key] of pairs) {
    const problem = labelKeyProblem(key);
    if (problem !== undefined) throw usageError("--annotation-selector", `key ${quoted(key)}: ${problem}`);
  }
  return Object.fromEntries(pairs);
}

function fieldSelectorsFrom(text: string): { nodeName?: string; phase?: PodPhase } {
  const pairs = Object.fromEntries(pairsFrom(text, "--field-selector"));
  const unknown = Object.keys(pairs).filter((key) => key !== "spec.nodeName" && key !== "status.phase");
  if (unknown.length > 0) {
    throw usageError(
      "--field-selector",
      `only spec.nodeName and status.phase are supported, not ${unknown.join(", ")}`,
    );
  }
  const phase = pairs["status.phase"];
  if (phase !== undefined && !(podPhases as readonly string[]).includes(phase)) {
    throw usageError(
      "--field-selector",
      `status.phase must be one of ${podPhases.join(", ")}, got "${phase}"`,
    );
  }
  const nodeName = pairs["spec.nodeName"];
  return {
    ...optional("nodeName", nodeName, (name) => objectName(name, "--field-selector spec.nodeName")),
    ...optional("phase", phase, (value) => value as PodPhase),
  };
}

/** "deployment/web" or "deploy/web", as kubectl names objects; `kinds` maps accepted spellings. */
export function objectRef<K extends string>(
  text: string,
  kinds: Readonly<Record<string, K>>,
): { kind: K; name: string } {
  const [kindText = "", name, ...rest] = text.split("/");
  // An own property only: "constructor/app" must not find Object's constructor.
  const kind = Object.hasOwn(kinds, kindText.toLowerCase()) ? kinds[kindText.toLowerCase()] : undefined;
  if (kind === undefined || name === undefined || name === "" || rest.length > 0) {
    const accepted = [...new Set(Object.values(kinds))].join(", ");
    throw usageError("TARGET", `${quoted(text)} is not KIND/NAME with KIND one of ${accepted}`);
  }
  return { kind, name: objectName(name, "TARGET") };
}
