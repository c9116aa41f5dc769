import { firstLabelMismatch, formatRequirement, ownValue, parseLabelSelector } from "./label-selector.js";
import type { FieldSelectors, LabelRequirement, PodFacts, PodPhase, PodRef, Selector } from "./types.js";

/**
 * Each selector as a small named predicate. A predicate returns undefined when the pod matches and, when
 * it does not, a sentence saying which selector it fails and why: dry runs print these, so a user can
 * tell a typo in the selector from a pod that is genuinely out of scope.
 */
export type PodPredicate = (pod: PodFacts) => string | undefined;

function list(items: readonly string[]): string {
  return `[${items.join(", ")}]`;
}

export function inNamespaces(namespaces: readonly string[]): PodPredicate {
  return (pod) =>
    namespaces.includes(pod.namespace)
      ? undefined
      : `namespace ${pod.namespace} is not in ${list(namespaces)}`;
}

function formatRef(ref: PodRef): string {
  return ref.namespace === undefined ? ref.name : `${ref.namespace}/${ref.name}`;
}

function refersTo(ref: PodRef, pod: PodFacts): boolean {
  return ref.name === pod.name && (ref.namespace === undefined || ref.namespace === pod.namespace);
}

export function namedPods(refs: readonly PodRef[]): PodPredicate {
  return (pod) =>
    refs.some((ref) => refersTo(ref, pod))
      ? undefined
      : `pod ${pod.namespace}/${pod.name} is not among the named pods ${list(refs.map(formatRef))}`;
}

function whereScheduled(pod: PodFacts): string {
  return pod.nodeName === undefined ? "pod is not scheduled on a node" : `pod is on node ${pod.nodeName}`;
}

export function onNodes(nodeNames: readonly string[]): PodPredicate {
  return (pod) =>
    pod.nodeName !== undefined && nodeNames.includes(pod.nodeName)
      ? undefined
      : `${whereScheduled(pod)}, not in ${list(nodeNames)}`;
}

export function nodeNameField(nodeName: string): PodPredicate {
  return (pod) =>
    pod.nodeName === nodeName
      ? undefined
      : `field selector spec.nodeName=${nodeName}: ${whereScheduled(pod)}`;
}

export function phaseField(phase: PodPhase): PodPredicate {
  return (pod) =>
    pod.phase === phase ? undefined : `field selector status.phase=${phase}: phase is ${pod.phase}`;
}

/** Chaos Mesh's podPhaseSelectors: `include` when non-empty admits only those phases; `exclude` refuses. */
export function podPhasesPredicate(include: readonly PodPhase[], exclude: readonly PodPhase[]): PodPredicate {
  return (pod) => {
    if (include.length > 0 && !include.includes(pod.phase)) {
      return `phase ${pod.phase} is not in ${list(include)}`;
    }
    return exclude.includes(pod.phase) ? `phase ${pod.phase} is excluded by !${pod.phase}` : undefined;
  };
}

/** `kind` says where the requirements came from: "label selector" or "expression selector". */
export function labelRequirements(requirements: readonly LabelRequirement[], kind: string): PodPredicate {
  return (pod) => {
    const mismatch = firstLabelMismatch(pod.labels, requirements);
    if (mismatch === undefined) return undefined;
    return `${kind} ${formatRequirement(mismatch.requirement)}: ${mismatch.problem}`;
  };
}

function annotationMismatch(pod: PodFacts, key: string, wanted: string): string | undefined {
  const actual = ownValue(pod.annotations, key);
  if (actual === wanted) return undefined;
  const found = actual === undefined ? "missing" : JSON.stringify(actual);
  return `annotation selector ${key}=${wanted}: annotation ${key} is ${found}`;
}

export function annotationsPredicate(annotations: Readonly<Record<string, string>>): PodPredicate {
  const wanted = Object.entries(annotations);
  return (pod) => {
    for (const [key, value] of wanted) {
      const mismatch = annotationMismatch(pod, key, value);
      if (mismatch !== undefined) return mismatch;
    }
    return undefined;
  };
}

function fieldPredicates(fields: FieldSelectors | undefined): PodPredicate[] {
  const predicates: PodPredicate[] = [];
  if (fields?.nodeName !== undefined) predicates.push(nodeNameField(fields.nodeName));
  if (fields?.phase !== undefined) predicates.push(phaseField(fields.phase));
  return predicates;
}

function nonEmpty<T>(items: readonly T[] | undefined): items is readonly T[] {
  return items !== undefined && items.length > 0;
}

type PredicateBuilder = (selector: Selector, field: string) => PodPredicate[];

// Cheap, coarse checks first, so a pod in the wrong namespace is reported as such rather than by label.
const builders: readonly PredicateBuilder[] = [
  (s) => (nonEmpty(s.namespaces) ? [inNamespaces(s.namespaces)] : []),
  (s) => (nonEmpty(s.pods) ? [namedPods(s.pods)] : []),
  (s) => (nonEmpty(s.nodeNames) ? [onNodes(s.nodeNames)] : []),
  (s) => fieldPredicates(s.fieldSelectors),
  (s) => {
    const { include = [], exclude = [] } = s.podPhases ?? {};
    return include.length + exclude.length > 0 ? [podPhasesPredicate(include, exclude)] : [];
  },
  (s, field) => {
    const requirements = parseLabelSelector(s.labelSelector ?? "", field);
    return requirements.length > 0 ? [labelRequirements(requirements, "label selector")] : [];
  },
  (s) =>
    nonEmpty(s.expressionSelectors) ? [labelRequirements(s.expressionSelectors, "expression selector")] : [],
  (s) => {
    const annotations = s.annotationSelectors ?? {};
    return Object.keys(annotations).length > 0 ? [annotationsPredicate(annotations)] : [];
  },
];

/**
 * The predicates a selector stands for, one per selector that is set. Parses the label selector, so an
 * invalid one throws a usage error naming `field`.
 */
export function selectorPredicates(selector: Selector, field = "--selector"): PodPredicate[] {
  return builders.flatMap((build) => build(selector, field));
}

/** The reason of the first predicate the pod fails, or undefined when it passes them all. */
export function firstFailure(pod: PodFacts, predicates: readonly PodPredicate[]): string | undefined {
  for (const predicate of predicates) {
    const reason = predicate(pod);
    if (reason !== undefined) return reason;
  }
  return undefined;
}
