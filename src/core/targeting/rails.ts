import type { PodPredicate } from "./predicates.js";
import { plural } from "./text.js";
import type { Exclusion, PodFacts, PodIndex, Rails } from "./types.js";

/**
 * Safety rails: checks that hold whatever the selector says, so a broad selector or a typo cannot take
 * down the control plane, Broadside itself, or a whole workload at once.
 */

/** Namespaces the cluster itself needs; Broadside's own namespace is added to these. */
export const defaultProtectedNamespaces: readonly string[] = [
  "kube-system",
  "kube-public",
  "kube-node-lease",
];

/** With opt-in on, a namespace takes part only when annotated `broadside.dev/chaos=enabled`. */
export const optInAnnotation = "broadside.dev/chaos";
export const optInValue = "enabled";

/** Half of a workload's ready pods: enough to learn something, while the other half keeps serving. */
export const defaultMaxFractionOfReadyPerWorkload = 0.5;

export type RailOverrides = Partial<Omit<Rails, "broadsideNamespace">>;

/** Rails with Broadside's defaults: protected system namespaces, no opt-in, a cap of half, cap on. */
export function defaultRails(broadsideNamespace: string, overrides: RailOverrides = {}): Rails {
  const rails: Rails = {
    protectedNamespaces: defaultProtectedNamespaces,
    optIn: false,
    maxFractionOfReadyPerWorkload: defaultMaxFractionOfReadyPerWorkload,
    unsafe: false,
    selfPodUids: [],
    watchedNamespaces: "all",
    ...overrides,
    broadsideNamespace,
  };
  assertValidRails(rails);
  return rails;
}

/** A fraction outside [0, 1] is a bug in whatever built the rails, hence RangeError. */
export function assertValidRails(rails: Rails): void {
  const fraction = rails.maxFractionOfReadyPerWorkload;
  if (!(fraction >= 0 && fraction <= 1)) {
    throw new RangeError(`maxFractionOfReadyPerWorkload must be between 0 and 1, got ${fraction}`);
  }
}

/**
 * Why a namespace may not be touched, or undefined when it may: the rail every fault shares, pod or
 * object. Object faults (drift, squeeze, scale) call it directly; pod faults through railPredicates.
 */
export function namespaceRailReason(
  rails: Rails,
  namespace: string,
  namespaceAnnotations: Readonly<Record<string, string>>,
): string | undefined {
  if (namespace === rails.broadsideNamespace) return `namespace ${namespace} is Broadside's own`;
  if (rails.protectedNamespaces.includes(namespace)) return `namespace ${namespace} is protected`;
  if (rails.watchedNamespaces !== "all" && !rails.watchedNamespaces.includes(namespace)) {
    const watched = rails.watchedNamespaces.join(",");
    return `namespace ${namespace} is outside this agent's namespaces (--watch-namespaces ${watched})`;
  }
  if (!rails.optIn || namespaceAnnotations[optInAnnotation] === optInValue) return undefined;
  return `namespace ${namespace} has not opted in; annotate it ${optInAnnotation}=${optInValue}`;
}

/**
 * The namespace rail, decided once per namespace (and annotations object) rather than once per pod: a
 * cache hands every pod of a namespace the same annotations, and 10,000 pods share a handful of answers.
 */
function namespaceRail(rails: Rails): PodPredicate {
  const decided = new Map<string, { annotations: object; reason: string | undefined }>();
  return (pod) => {
    const known = decided.get(pod.namespace);
    if (known?.annotations === pod.namespaceAnnotations) return known.reason;
    const reason = namespaceRailReason(rails, pod.namespace, pod.namespaceAnnotations);
    decided.set(pod.namespace, { annotations: pod.namespaceAnnotations, reason });
    return reason;
  };
}

function notBroadside(rails: Rails): PodPredicate {
  return (pod) => (rails.selfPodUids.includes(pod.uid) ? "pod is part of Broadside itself" : undefined);
}

const notDeleting: PodPredicate = (pod) => (pod.deleting ? "pod is already being deleted" : undefined);

/** The per-pod rails, in the order their reasons are most useful: the namespace before the pod. */
export function railPredicates(rails: Rails): PodPredicate[] {
  return [namespaceRail(rails), notBroadside(rails), notDeleting];
}

/** A workload as messages name it: `Deployment demo/web`; a pod without owner is its own workload. */
export function workloadOf(pod: PodFacts): string {
  return pod.owner === undefined
    ? `Pod ${pod.namespace}/${pod.name}`
    : `${pod.owner.kind} ${pod.namespace}/${pod.owner.name}`;
}

/** A pod counts as ready for the cap when it is Ready and not already on its way out. */
function countsAsReady(pod: PodFacts): boolean {
  return pod.ready && !pod.deleting;
}

/** Ready pods per workload among `pods`: all pods the caller listed, not just the selected ones. */
export function readyPerWorkload(pods: readonly PodFacts[]): Map<string, number> {
  return indexPods(pods).readyPerWorkload;
}

/** The PodIndex of `pods`, built by walking them once: what a cache keeps up to date instead. */
export function indexPods(pods: readonly PodFacts[]): {
  readyPerWorkload: Map<string, number>;
  readyWorkloadOf: (uid: string) => string | undefined;
} {
  const counts = new Map<string, number>();
  for (const pod of pods) {
    const workload = workloadOf(pod);
    counts.set(workload, (counts.get(workload) ?? 0) + (countsAsReady(pod) ? 1 : 0));
  }
  return { readyPerWorkload: counts, readyWorkloadOf: readyWorkloadLookup(pods) };
}

/**
 * PodIndex.readyWorkloadOf over `pods`: the uid map is built on the first question, so a shot that no
 * other run's held pods concern (the usual case) never walks the pods for it.
 */
export function readyWorkloadLookup(pods: readonly PodFacts[]): (uid: string) => string | undefined {
  let byUid: Map<string, string> | undefined;
  return (uid) => {
    byUid ??= new Map(pods.filter(countsAsReady).map((pod) => [pod.uid, workloadOf(pod)]));
    return byUid.get(uid);
  };
}

/**
 * The most pods of a workload with `ready` ready pods one experiment may hit: floor(fraction × ready).
 * The epsilon keeps float error from costing a pod: 0.29 × 100 is 28.999999999999996 in binary floating
 * point, and the user meant 29.
 */
export function capFor(rails: Rails, ready: number): number {
  return Math.floor(rails.maxFractionOfReadyPerWorkload * ready + 1e-9);
}

export interface CapOutcome {
  readonly kept: PodFacts[];
  readonly dropped: Exclusion[];
  readonly warnings: string[];
}

function groupByWorkload(pods: readonly PodFacts[]): Map<string, PodFacts[]> {
  const groups = new Map<string, PodFacts[]>();
  for (const pod of pods) {
    const workload = workloadOf(pod);
    groups.set(workload, [...(groups.get(workload) ?? []), pod]);
  }
  return groups;
}

/**
 * Applies the blast-radius cap to the pods a mode chose, keeping the first `cap` of each workload in input
 * order. Every chosen pod counts against the cap, Ready or not: the cap bounds how much of a workload one
 * experiment touches, and a pod that is not Ready now may be about to become so. `allPods` is everything
 * the caller listed, so a workload's ready count does not depend on how narrow the selector is; `index`,
 * when the caller keeps one for `allPods`, saves walking them.
 */
export function applyBlastRadiusCap(
  chosen: readonly PodFacts[],
  allPods: readonly PodFacts[],
  rails: Rails,
  index?: PodIndex,
): CapOutcome {
  const ready = index?.readyPerWorkload ?? readyPerWorkload(allPods);
  const over = new Set<PodFacts>();
  const warnings: string[] = [];
  for (const [workload, pods] of groupByWorkload(chosen)) {
    const readyCount = ready.get(workload) ?? 0;
    const cap = capFor(rails, readyCount);
    if (pods.length <= cap) continue;
    const excess = pods.slice(cap);
    if (rails.unsafe) {
      warnings.push(`--unsafe: ${plural(pods.length, "pod")} of ${workload} chosen, over the cap of ${cap}`);
      continue;
    }
    excess.forEach((pod) => over.add(pod));
    warnings.push(
      `blast-radius cap dropped ${excess.length} of ${plural(pods.length, "chosen pod")} of ${workload}`,
    );
  }
  return {
    kept: chosen.filter((pod) => !over.has(pod)),
    dropped: [...over].map((pod) => ({ pod, by: "rail", reason: capReason(rails, ready, pod) })),
    warnings,
  };
}

function capReason(rails: Rails, ready: ReadonlyMap<string, number>, pod: PodFacts): string {
  const workload = workloadOf(pod);
  const readyCount = ready.get(workload) ?? 0;
  return `blast-radius cap: at most ${capFor(rails, readyCount)} of ${plural(readyCount, "ready pod")} of ${workload} at once; --unsafe lifts it`;
}
