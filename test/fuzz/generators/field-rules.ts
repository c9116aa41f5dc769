import {
  durationMs,
  goDurationMs,
  int32Max,
  isDataKey,
  isDnsLabel,
  isDnsSubdomain,
  isLabelKey,
} from "./rules.js";

/**
 * What each field of each kind accepts, by path pattern: `[]` stands for a list index and `{}` for a key
 * of a free-form map. A rule answers one question only: is this value certainly wrong? "Certainly" is
 * the rules of Kubernetes (names, label keys), of the schema (types, required fields, unknown fields in
 * strict objects), and of the issue (durations that overflow Node's timers, numbers beyond int32).
 * Values a rule is unsure of are left to the universal checks.
 */

export type Segment = string | number;

export interface FieldRule {
  readonly required?: boolean;
  /** A mapping whose unknown keys are refused. */
  readonly strict?: boolean;
  /** A map whose keys are free; `keyIsBad` says which keys are certainly wrong. */
  readonly keyIsBad?: (key: string) => boolean;
  /** Certainly wrong as this field's value. */
  readonly valueIsBad?: (value: unknown) => boolean;
}

/** Node's timers hold at most 2^31-1 ms; a duration beyond it can only be refused or chained. */
const timerMax = 2 ** 31 - 1;

const notString = (value: unknown) => typeof value !== "string";
const isObject = (value: unknown) => typeof value === "object" && value !== null && !Array.isArray(value);

const name: FieldRule = { valueIsBad: (value) => !isDnsSubdomain(value) };
const namespace: FieldRule = { valueIsBad: (value) => !isDnsLabel(value) };
const text: FieldRule = { valueIsBad: notString };
const bool: FieldRule = { valueIsBad: (value) => typeof value !== "boolean" };
const strict: FieldRule = { strict: true, valueIsBad: (value) => !isObject(value) };
const list: FieldRule = { valueIsBad: (value) => !Array.isArray(value) };

function badDuration(parse: (value: unknown) => number | undefined, positive: boolean) {
  return (value: unknown) => {
    const ms = parse(value);
    return ms === undefined || !Number.isFinite(ms) || ms >= timerMax || (positive && ms === 0);
  };
}
const duration: FieldRule = { valueIsBad: badDuration(durationMs, false) };
const positiveDuration: FieldRule = { valueIsBad: badDuration(durationMs, true) };
const goDuration: FieldRule = { valueIsBad: badDuration(goDurationMs, false) };

function wholeNumber(min: number, max = int32Max): FieldRule {
  return {
    valueIsBad: (value) =>
      typeof value !== "number" || !Number.isInteger(value) || value < min || value > max,
  };
}

function oneOf(...values: readonly unknown[]): FieldRule {
  return { valueIsBad: (value) => !values.includes(value) };
}

const selectorMap: FieldRule = {
  keyIsBad: (key) => !isLabelKey(key),
  valueIsBad: (value) => !isObject(value),
};
const selectorRules: Readonly<Record<string, FieldRule>> = {
  selector: { ...strict, required: true },
  "selector.namespaces": list,
  "selector.namespaces[]": namespace,
  "selector.labelSelectors": selectorMap,
  "selector.labelSelectors{}": text,
  "selector.annotationSelectors": selectorMap,
  "selector.annotationSelectors{}": text,
  "selector.pods": { keyIsBad: (key) => !isDnsLabel(key), valueIsBad: (value) => !isObject(value) },
  "selector.pods{}[]": name,
  "selector.nodes[]": name,
};

function under(prefix: string, rules: Readonly<Record<string, FieldRule>>): Record<string, FieldRule> {
  return Object.fromEntries(Object.entries(rules).map(([path, rule]) => [`${prefix}${path}`, rule]));
}

const envelopeRules: Record<string, FieldRule> = {
  "": { strict: true },
  apiVersion: { required: true },
  kind: { required: true },
  metadata: { required: true, valueIsBad: (value) => !isObject(value) },
  "metadata.name": { ...name, required: true },
  "metadata.namespace": namespace,
  spec: { required: true, valueIsBad: (value) => !isObject(value) },
};

const probeRules: Record<string, FieldRule> = {
  "spec.hypothesis.probes[]": strict,
  "spec.hypothesis.probes[].name": { ...namespace, required: true },
  "spec.hypothesis.probes[].http": strict,
  "spec.hypothesis.probes[].http.url": { required: true, valueIsBad: notString },
  "spec.hypothesis.probes[].http.frequency": {
    valueIsBad: (value) => typeof value !== "number" || !(value > 0) || value > 50,
  },
  "spec.hypothesis.probes[].http.timeout": positiveDuration,
  "spec.hypothesis.probes[].kubernetes": strict,
  "spec.hypothesis.probes[].kubernetes.namespace": { ...namespace, required: true },
  "spec.hypothesis.probes[].kubernetes.name": { ...name, required: true },
  "spec.hypothesis.probes[].kubernetes.kind": {
    ...oneOf("deployment", "statefulset", "daemonset"),
    required: true,
  },
  "spec.hypothesis.probes[].kubernetes.condition": { ...strict, required: true },
  "spec.hypothesis.probes[].kubernetes.condition.readyReplicasAtLeast": wholeNumber(0),
};

const experimentRules: Record<string, FieldRule> = {
  ...envelopeRules,
  metadata: { ...strict, required: true },
  spec: { ...strict, required: true },
  "spec.title": { required: true, valueIsBad: (value) => typeof value !== "string" || value.trim() === "" },
  "spec.description": text,
  "spec.hypothesis": { ...strict, required: true },
  "spec.hypothesis.window": positiveDuration,
  "spec.hypothesis.abortOnBreach": bool,
  "spec.hypothesis.checks[]": oneOf("before", "during", "after"),
  "spec.hypothesis.probes": {
    required: true,
    valueIsBad: (value) => !Array.isArray(value) || value.length === 0,
  },
  ...probeRules,
  "spec.method": { required: true, valueIsBad: (value) => !Array.isArray(value) || value.length === 0 },
  "spec.method[]": strict,
  "spec.method[].wait": duration,
  "spec.method[].name": { valueIsBad: (value) => typeof value !== "string" || value === "" },
  "spec.method[].fault": oneOf("pod-kill", "pod-evict", "config-drift", "resource-squeeze", "scale"),
  ...under("spec.method[].", selectorRules),
  "spec.method[].mode": oneOf("one", "all", "fixed", "fixed-percent", "random-max-percent"),
  "spec.method[].gracePeriod": wholeNumber(0),
  "spec.method[].timeout": duration,
  "spec.method[].duration": positiveDuration,
  "spec.method[].params": { ...strict, required: true },
  "spec.method[].params.namespace": { ...namespace, required: true },
  "spec.method[].params.name": { ...name, required: true },
  "spec.method[].params.kind": { required: true, valueIsBad: notString },
  "spec.method[].params.key": { required: true, valueIsBad: (value) => !isDataKey(value) },
  "spec.method[].params.replicas": { ...wholeNumber(0), required: true },
  "spec.rollbacks[]": strict,
  "spec.rollbacks[].wait": { ...duration, required: true },
};

const podChaosSpecRules: Record<string, FieldRule> = {
  ...under("", selectorRules),
  mode: { ...oneOf("one", "all", "fixed", "fixed-percent", "random-max-percent"), required: true },
  value: text,
  action: { ...oneOf("pod-kill", "pod-failure", "container-kill"), required: true },
  gracePeriod: wholeNumber(0),
  duration: goDuration,
};

const podChaosRules = {
  ...envelopeRules,
  ...under("spec.", podChaosSpecRules),
  spec: { ...strict, required: true },
};

const scheduleRules: Record<string, FieldRule> = {
  ...envelopeRules,
  spec: { ...strict, required: true },
  "spec.schedule": { required: true, valueIsBad: (value) => notString(value) || badEvery(value as string) },
  "spec.historyLimit": wholeNumber(1),
  // Chaos Mesh's CRD: +optional +nullable, so null is valid (and means unset).
  "spec.startingDeadlineSeconds": {
    valueIsBad: (value) => value !== null && (wholeNumber(0).valueIsBad?.(value) ?? false),
  },
  "spec.concurrencyPolicy": oneOf("Forbid", "Allow", ""),
  "spec.type": { required: true, valueIsBad: notString },
  "spec.podChaos": { ...strict, required: true },
  ...under("spec.podChaos.", podChaosSpecRules),
};

/** `@every D` with D below a second (the documented minimum), negative, or not a finite duration. */
function badEvery(cron: string): boolean {
  const every = /^@every\s+(.*)$/.exec(cron.trim());
  if (every === null) return false;
  const ms = goDurationMs(every[1]);
  return ms === undefined || !Number.isFinite(ms) || ms < 1000 || ms >= timerMax;
}

const percent: FieldRule = {
  valueIsBad: (value) => typeof value !== "string" || !/^\d+(\.\d+)?$/.test(value) || Number(value) > 100,
};

const networkChaosRules: Record<string, FieldRule> = {
  ...envelopeRules,
  ...under("spec.", { ...podChaosSpecRules, action: { required: true, valueIsBad: notString } }),
  spec: { ...strict, required: true },
  "spec.gracePeriod": {},
  "spec.delay": strict,
  "spec.delay.latency": { ...goDuration, required: true },
  "spec.delay.jitter": goDuration,
  "spec.delay.correlation": percent,
  "spec.direction": oneOf("to", "from", "both", ""),
};

const stressChaosRules: Record<string, FieldRule> = {
  ...envelopeRules,
  ...under("spec.", podChaosSpecRules),
  spec: { ...strict, required: true },
  "spec.action": {},
  "spec.gracePeriod": {},
  "spec.stressors": strict,
  "spec.stressors.memory": strict,
  "spec.stressors.memory.workers": { ...wholeNumber(1, 8192), required: true },
  "spec.stressors.cpu": strict,
  "spec.stressors.cpu.workers": { ...wholeNumber(1, 8192), required: true },
  "spec.stressors.cpu.load": wholeNumber(0, 100),
};

const rulesByKind: Readonly<Record<string, Readonly<Record<string, FieldRule>>>> = {
  Experiment: experimentRules,
  PodChaos: podChaosRules,
  Schedule: scheduleRules,
  NetworkChaos: networkChaosRules,
  StressChaos: stressChaosRules,
};

/** Fields whose keys are free (maps), so that patterns read `labels{}` rather than `labels.app`. */
const freeMaps = new Set([
  "labels",
  "annotations",
  "labelSelectors",
  "annotationSelectors",
  "pods",
  "headers",
  "fieldSelectors",
  "nodeSelectors",
]);

/** The pattern of a path: `spec.method[].selector.labelSelectors{}`. */
export function patternOf(path: readonly Segment[]): string {
  let pattern = "";
  path.forEach((segment, index) => {
    const parent = path[index - 1];
    if (typeof segment === "number") pattern += "[]";
    else if (typeof parent === "string" && freeMaps.has(parent)) pattern += "{}";
    else pattern += pattern === "" ? segment : `.${segment}`;
  });
  return pattern;
}

export function ruleAt(kind: string, path: readonly Segment[]): FieldRule {
  return rulesByKind[kind]?.[patternOf(path)] ?? {};
}

/** A path as Broadside's messages write it: `spec.method[1].params.name`, `labelSelectors["a b"]`. */
export function formatPath(path: readonly Segment[]): string {
  let text = "";
  for (const segment of path) {
    if (typeof segment === "number") text += `[${String(segment)}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) text += text === "" ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}
