/**
 * The vocabulary of targeting: what Broadside knows about a pod, how a user selects pods, how many of the
 * selected pods an experiment hits (the mode) and the safety rails around it. Pure data: the Kubernetes
 * client lives elsewhere and turns API objects into PodFacts.
 */

/** The phases a pod reports in status.phase. */
export const podPhases = ["Pending", "Running", "Succeeded", "Failed", "Unknown"] as const;
export type PodPhase = (typeof podPhases)[number];

/** The workload that owns a pod, resolved by the caller (a ReplicaSet's pods belong to its Deployment). */
export interface Owner {
  readonly kind: string;
  readonly name: string;
}

/** What Broadside knows about one pod when it plans, already read from the cluster by the caller. */
export interface PodFacts {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly nodeName?: string;
  readonly phase: PodPhase;
  /** The Ready condition is True. */
  readonly ready: boolean;
  /** metadata.deletionTimestamp is set: Kubernetes is already removing this pod. */
  readonly deleting: boolean;
  readonly owner?: Owner;
  /** The annotations of the pod's namespace, for the opt-in rail. */
  readonly namespaceAnnotations: Readonly<Record<string, string>>;
}

/** Operators of Kubernetes set-based label requirements (metav1.LabelSelectorRequirement). */
export type LabelOperator = "In" | "NotIn" | "Exists" | "DoesNotExist";

/** One label requirement; `a=b` is In [b] and `a!=b` is NotIn [b], as in Kubernetes itself. */
export interface LabelRequirement {
  readonly key: string;
  readonly operator: LabelOperator;
  readonly values: readonly string[];
}

/** Equality field selectors on pods, as in `kubectl get pods --field-selector`. */
export interface FieldSelectors {
  readonly nodeName?: string;
  readonly phase?: PodPhase;
}

/** A pod named explicitly; without a namespace the name matches in any namespace. */
export interface PodRef {
  readonly namespace?: string;
  readonly name: string;
}

/**
 * Which pods an experiment may touch. A pod must satisfy every selector that is set; an absent or empty
 * selector places no constraint, so an empty Selector matches every pod (as in Chaos Mesh).
 */
export interface Selector {
  /** The pod's namespace is one of these. */
  readonly namespaces?: readonly string[];
  /** kubectl label selector syntax: `app=web,tier in (front,back),!canary`. */
  readonly labelSelector?: string;
  readonly expressionSelectors?: readonly LabelRequirement[];
  /** Every annotation listed is present with exactly this value. */
  readonly annotationSelectors?: Readonly<Record<string, string>>;
  readonly fieldSelectors?: FieldSelectors;
  /**
   * Chaos Mesh's podPhaseSelectors: the pod's phase is one of `include` (when any are given) and none of
   * `exclude`.
   */
  readonly podPhases?: { readonly include?: readonly PodPhase[]; readonly exclude?: readonly PodPhase[] };
  /** The pod is one of these. */
  readonly pods?: readonly PodRef[];
  /** The pod is scheduled on one of these nodes. */
  readonly nodeNames?: readonly string[];
}

/**
 * How many of the eligible pods to hit, with Chaos Mesh's names and meaning. Percentages are whole numbers
 * from 1 to 100, as Chaos Mesh's `value` field.
 */
export type Mode =
  | { readonly kind: "one" }
  | { readonly kind: "all" }
  | { readonly kind: "fixed"; readonly count: number }
  | { readonly kind: "fixed-percent"; readonly percent: number }
  | { readonly kind: "random-max-percent"; readonly maxPercent: number };

export type ModeKind = Mode["kind"];

/** Safety rails: checks that apply whatever the selector says. */
export interface Rails {
  /** Namespaces no experiment may touch; Broadside's own namespace is protected on top of these. */
  readonly protectedNamespaces: readonly string[];
  /** The namespace Broadside itself runs in. */
  readonly broadsideNamespace: string;
  /** When true, only namespaces annotated `broadside.dev/chaos=enabled` may be touched. */
  readonly optIn: boolean;
  /** At most floor(fraction × ready pods) pods of one workload are hit at once. */
  readonly maxFractionOfReadyPerWorkload: number;
  /** Lifts the per-workload cap, and only that: protected namespaces stay protected. */
  readonly unsafe: boolean;
  /** UIDs of Broadside's own pods, which are never chosen wherever they run. */
  readonly selfPodUids: readonly string[];
  /**
   * The namespaces this process may act in: "all", or the agent's `--watch-namespaces` (namespaced mode,
   * where its RBAC reaches no further). A namespace outside the list is refused like a protected one.
   */
  readonly watchedNamespaces: readonly string[] | "all";
}

/** Which stage of planning left a pod out. The blast-radius cap is a rail. */
export type ExclusionStage = "selector" | "rail" | "mode";

export interface Exclusion {
  readonly pod: PodFacts;
  readonly reason: string;
  readonly by: ExclusionStage;
}

/** The outcome of planning: what would be hit, what would not and why, and what the user should know. */
export interface TargetPlan {
  readonly selected: readonly PodFacts[];
  readonly excluded: readonly Exclusion[];
  readonly warnings: readonly string[];
}

/**
 * What a cache of pods (the agent's) already knows of the pods it hands to planning, so the blast-radius
 * caps need not walk every pod again on each shot (issue 10, Speed). It must describe exactly the pods
 * planned: a plan with the index equals the plan without it (the equivalence tests hold it to that).
 */
export interface PodIndex {
  /** Ready pods not being deleted, per workload as workloadOf names it. */
  readonly readyPerWorkload: ReadonlyMap<string, number>;
  /**
   * The workload of one of those ready pods, by uid; undefined for any other uid. Asked only for pods
   * another run holds down, which is rarely any: a cache answers it lazily rather than indexing every uid.
   */
  readyWorkloadOf(uid: string): string | undefined;
}

/** A uniform random number in [0, 1), like Math.random; injected so plans are reproducible in tests. */
export type RandomSource = () => number;
