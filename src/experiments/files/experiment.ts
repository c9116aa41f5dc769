import { optional } from "../../core/objects.js";
import { redactUrl } from "../../core/redact.js";
import type { ChaosMeshTargeting } from "./chaos-mesh/selector.js";
import { podFaultKinds } from "../../faults/types.js";
import type { LoadContext } from "./context.js";
import { parseAt, readTargeting } from "./context.js";
import type { ParsedExperiment, ParsedMethodStep } from "./experiment-schema.js";
import { experimentSchema } from "./experiment-schema.js";
import type { Experiment, Hypothesis, MethodStep, Probe, WaitStep } from "./model.js";
import { experimentApiVersion } from "./model.js";
import { valueAt } from "./problems.js";
import { toProbe } from "./probes.js";

/**
 * Broadside's own kind: the schema checks each field, this checks what needs the whole file (selectors,
 * unique names, settings that contradict each other) and builds the model.
 */

const specPath = ["spec"] as const;

function rawList(context: LoadContext, path: readonly (string | number)[]): unknown[] {
  const value = valueAt(context.root, path);
  return Array.isArray(value) ? value : [];
}

function hasKey(value: unknown, key: string): boolean {
  return typeof value === "object" && value !== null && key in value;
}

/** Faults in rollbacks get a reason, not the schema's "unknown field fault". */
function refuseFaultRollbacks(context: LoadContext): void {
  rawList(context, [...specPath, "rollbacks"]).forEach((step, index) => {
    if (!hasKey(step, "fault")) return;
    context.problems.explain(
      [...specPath, "rollbacks", index],
      "faults cannot be rollbacks: Broadside reverts every fault of the method itself, on success or " +
        "abort; use wait steps to let the system settle before the after check",
    );
  });
}

/** The steps whose targets a selector and a mode choose: the pod faults, and pod-failure. */
const targetedFaultKinds = [...podFaultKinds, "pod-failure"] as const;

/** Selectors of pod fault and pod-failure steps, by step index, read even when other fields are wrong. */
function readSelectors(context: LoadContext): Map<number, ChaosMeshTargeting> {
  const targets = new Map<number, ChaosMeshTargeting>();
  rawList(context, [...specPath, "method"]).forEach((step, index) => {
    if (!(targetedFaultKinds as readonly unknown[]).includes(valueAt(step, ["fault"]))) return;
    const targeting = readTargeting(context, [...specPath, "method", index], {
      defaultMode: "one",
      numericValue: true,
    });
    if (targeting !== undefined) targets.set(index, targeting);
  });
  return targets;
}

function duplicates(items: readonly unknown[]): number[] {
  return items.flatMap((item, index) => (items.indexOf(item) < index ? [index] : []));
}

function stringsAt(context: LoadContext, path: readonly (string | number)[], field?: string): unknown[] {
  return rawList(context, path).map((item) => (field === undefined ? item : valueAt(item, [field])));
}

/** Checked on the file as written, so that they are reported along with the schema's problems. */
function checkUniqueness(context: LoadContext): void {
  const at = [...specPath, "hypothesis"] as const;
  const names = stringsAt(context, [...at, "probes"], "name");
  for (const index of duplicates(names)) {
    if (typeof names[index] !== "string") continue;
    context.problems.add(
      [...at, "probes", index, "name"],
      "is the name of an earlier probe; names must be unique",
    );
  }
  for (const index of duplicates(stringsAt(context, [...at, "checks"]))) {
    context.problems.add([...at, "checks", index], "is listed twice");
  }
}

function abortWarning(context: LoadContext, parsed: ParsedExperiment): void {
  const { checks, abortOnBreach } = parsed.spec.hypothesis;
  const explicit = valueAt(context.root, [...specPath, "hypothesis", "abortOnBreach"]) === true;
  if (abortOnBreach && explicit && !checks.includes("during")) {
    context.warnings.push(
      `${context.fileName}: spec.hypothesis.abortOnBreach has no effect: checks does not include during`,
    );
  }
}

/** A window too short to ever tolerate a failure makes "availability >= 99%" mean "no failure at all". */
function sampleWarnings(context: LoadContext, hypothesis: Hypothesis): void {
  for (const probe of hypothesis.probes) {
    if (probe.type === "kubernetes") continue;
    const samples = Math.floor(hypothesis.window.seconds * probe.frequencyHz);
    for (const tolerance of probe.tolerances) {
      if (tolerance.metric !== "availability" || tolerance.ratio >= 1 || samples * (1 - tolerance.ratio) >= 1)
        continue;
      context.warnings.push(
        `${context.fileName}: probe ${probe.name}: "${tolerance.text}" over ${samples} samples per window ` +
          `(${hypothesis.window.toString()} at ${probe.frequencyHz} Hz) tolerates no failure at all; ` +
          "raise the frequency or the window",
      );
    }
  }
}

function toStep(
  step: ParsedMethodStep,
  index: number,
  targeting: ChaosMeshTargeting | undefined,
): MethodStep | undefined {
  const name = optional("name", step.name);
  if ("wait" in step) return { type: "wait", ...name, duration: step.wait };
  switch (step.fault) {
    case "pod-kill":
    case "pod-evict":
      if (targeting === undefined) return undefined;
      return {
        type: "pod-fault",
        ...name,
        fault: step.fault,
        selector: targeting.selector,
        mode: targeting.mode,
        ...optional("gracePeriodSeconds", step.gracePeriod),
        waitForRecovery: step.waitForRecovery,
        timeout: step.timeout,
      };
    case "pod-failure":
      if (targeting === undefined) return undefined;
      return {
        type: "pod-failure",
        ...name,
        selector: targeting.selector,
        mode: targeting.mode,
        pauseImage: step.pauseImage,
        duration: step.duration,
      };
    default:
      // The registry's schema checked params for this very kind; the union keeps them paired.
      return {
        type: "object-fault",
        ...name,
        fault: step.fault,
        params: step.params,
        paramsPath: `spec.method[${index}].params`,
        duration: step.duration,
      } as MethodStep;
  }
}

function build(
  context: LoadContext,
  parsed: ParsedExperiment,
  selectors: Map<number, ChaosMeshTargeting>,
): Experiment {
  const { spec, metadata } = parsed;
  const probes: Probe[] = spec.hypothesis.probes.map(toProbe);
  const hypothesis: Hypothesis = { ...spec.hypothesis, probes };
  sampleWarnings(context, hypothesis);
  const method = spec.method.flatMap((step, index) => toStep(step, index, selectors.get(index)) ?? []);
  const rollbacks: WaitStep[] = spec.rollbacks.map((step) => ({
    type: "wait",
    ...optional("name", step.name),
    duration: step.wait,
  }));
  return {
    apiVersion: experimentApiVersion,
    kind: "Experiment",
    runnable: true,
    fileName: context.fileName,
    name: metadata.name,
    ...optional("namespace", metadata.namespace),
    warnings: context.warnings,
    // Free text ends up in plans and shared reports: a URL's credentials in it are dropped on reading.
    title: redactUrl(spec.title),
    ...optional("description", spec.description, redactUrl),
    hypothesis,
    method,
    rollbacks,
  };
}

/** Reads a `broadside.dev/v1alpha1` `Experiment`; undefined when it has problems (they are in the context). */
export function loadExperiment(context: LoadContext): Experiment | undefined {
  refuseFaultRollbacks(context);
  const parsed = parseAt(context, experimentSchema, []);
  const selectors = readSelectors(context);
  checkUniqueness(context);
  if (parsed === undefined) return undefined;
  abortWarning(context, parsed);
  return build(context, parsed, selectors);
}
