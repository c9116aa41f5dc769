import type { Duration } from "../../core/duration.js";
import type { NetworkWork, StressWork } from "../../core/node-work.js";
import type { Mode, Selector } from "../../core/targeting/types.js";
import type { ObjectFaultParams } from "../../faults/object-registry.js";
import type { ObjectFaultKind, PodFaultKind } from "../../faults/types.js";
import type { CronSpec } from "./cron.js";
import type { Tolerance } from "./tolerance.js";

/**
 * What an experiment file means, checked and typed, for the runner. Everything here has passed
 * validation: a selector is a Selector, a duration a Duration, a cron expression fires at least once.
 * Nothing here has touched a cluster.
 */

export const experimentApiVersion = "broadside.dev/v1alpha1";
export const chaosMeshApiVersion = "chaos-mesh.org/v1alpha1";
/**
 * PodChaos and Schedule are read under both groups: Broadside's own is Chaos Mesh's spec field for field, so
 * a manifest runs after changing only its apiVersion (`broadside convert`), in a file or in the cluster.
 */
export const chaosApiVersions = [chaosMeshApiVersion, experimentApiVersion] as const;
export type ChaosApiVersion = (typeof chaosApiVersions)[number];

/** What every loaded file carries, whatever its kind. */
export interface ManifestInfo {
  readonly fileName: string;
  readonly name: string;
  readonly namespace?: string;
  /** Things the user should know that do not stop the run: ignored fields, Chaos Mesh differences. */
  readonly warnings: readonly string[];
}

/** Whether `broadside run` can act on it now, and if not, what to tell the user. */
export type Runnability = { readonly runnable: true } | { readonly runnable: false; readonly reason: string };

// ---- Broadside's Experiment kind ----------------------------------------------------------------------

export const hypothesisChecks = ["before", "during", "after"] as const;
export type HypothesisCheck = (typeof hypothesisChecks)[number];

export const httpMethods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] as const;
export type HttpMethod = (typeof httpMethods)[number];

/** HTTP statuses from..to, both included. */
export interface StatusRange {
  readonly from: number;
  readonly to: number;
}

interface ProbeBase {
  /** A DNS label, unique in the hypothesis: reports and metrics key on it. */
  readonly name: string;
  readonly tolerances: readonly Tolerance[];
}

export interface HttpProbe extends ProbeBase {
  readonly type: "http";
  readonly url: string;
  readonly method: HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** A response with another status is a failed sample. */
  readonly expectStatus: readonly StatusRange[];
  /** A response slower than this is a failed sample, even with an expected status. */
  readonly latencyThreshold?: Duration;
  /** Requests per second, sent on schedule whether or not earlier ones have answered. */
  readonly frequencyHz: number;
  /** A request without an answer by then is aborted and is a failed sample. */
  readonly timeout: Duration;
}

export const workloadKinds = ["deployment", "statefulset", "daemonset"] as const;
export type WorkloadKind = (typeof workloadKinds)[number];

export type KubernetesCondition =
  | { readonly type: "readyReplicasAtLeast"; readonly count: number }
  | { readonly type: "allPodsReady" }
  /** Container restarts summed over the workload's current pods. */
  | { readonly type: "restartCountAtMost"; readonly count: number }
  /** status.conditions[type].status is "True", e.g. Available. */
  | { readonly type: "statusCondition"; readonly conditionType: string };

/** Evaluated on every watch event of the workload and its pods, not by polling. */
export interface KubernetesProbe extends ProbeBase {
  readonly type: "kubernetes";
  readonly target: { readonly kind: WorkloadKind; readonly namespace: string; readonly name: string };
  readonly condition: KubernetesCondition;
}

export const promComparators = [">", ">=", "<", "<=", "==", "!="] as const;
export type PromComparator = (typeof promComparators)[number];

/**
 * An instant query; a sample succeeds when every series of the result satisfies `<value> <comparator>
 * <threshold>`. An empty result, an error or a timeout is a failed sample.
 */
export interface PrometheusProbe extends ProbeBase {
  readonly type: "prometheus";
  /** Absent: the Prometheus URL of Broadside's configuration. */
  readonly url?: string;
  readonly query: string;
  readonly comparator: PromComparator;
  readonly threshold: number;
  readonly frequencyHz: number;
  readonly timeout: Duration;
}

export type Probe = HttpProbe | KubernetesProbe | PrometheusProbe;

export interface Hypothesis {
  readonly probes: readonly Probe[];
  /** When tolerances are checked: before the method (steady state), during it, after the rollbacks. */
  readonly checks: readonly HypothesisCheck[];
  /** A tolerance breached during the method stops it; faults are reverted and rollbacks run. */
  readonly abortOnBreach: boolean;
  /** How long before and after checks sample; the sliding window of during checks. */
  readonly window: Duration;
}

export interface WaitStep {
  readonly type: "wait";
  readonly name?: string;
  readonly duration: Duration;
}

/** Fires at the selected pods, then (unless waitForRecovery is false) waits for their replacements. */
export interface PodFaultStep {
  readonly type: "pod-fault";
  readonly name?: string;
  readonly fault: PodFaultKind;
  readonly selector: Selector;
  readonly mode: Mode;
  /** Seconds; absent means each pod's own terminationGracePeriodSeconds. */
  readonly gracePeriodSeconds?: number;
  readonly waitForRecovery: boolean;
  /** How long to wait for recovery once every shot is answered. */
  readonly timeout: Duration;
}

/**
 * Injects, holds for `duration`, then reverts, before the next step starts. pod-failure, an object fault
 * whose targets are chosen like a pod fault's, has its own step (PodFailureStep).
 */
export type ObjectFaultStep = {
  readonly [Kind in ObjectStepKind]: {
    readonly type: "object-fault";
    readonly name?: string;
    readonly fault: Kind;
    /** Checked against the fault's own schema (faults/object-registry.ts); planObjectFault takes them. */
    readonly params: ObjectFaultParams[Kind];
    /** Where the params sit in the file ("spec.method[1].params"): errors of the plan name their field. */
    readonly paramsPath: string;
    readonly duration: Duration;
  };
}[ObjectStepKind];

export type ObjectStepKind = Exclude<ObjectFaultKind, "pod-failure">;

/**
 * pod-failure: pods chosen as a pod fault's are, their containers' images swapped for a pause image for
 * `duration`, then put back before the next step starts (engine/pod-failure.ts).
 */
export interface PodFailureStep {
  readonly type: "pod-failure";
  readonly name?: string;
  readonly selector: Selector;
  readonly mode: Mode;
  readonly pauseImage: string;
  readonly duration: Duration;
}

/**
 * container-kill (a PodChaos's): pods chosen as a pod fault's are, each named container's process killed
 * by the node daemon of its node (engine/container-kill.ts, ADR 0029), its restart waited for.
 */
export interface ContainerKillStep {
  readonly type: "container-kill";
  readonly name?: string;
  readonly selector: Selector;
  readonly mode: Mode;
  readonly containerNames: readonly string[];
  /** How long to wait for each container to run and be Ready again. */
  readonly timeout: Duration;
}

/**
 * A timed network fault (a NetworkChaos's bandwidth or partition, ADR 0032): pods chosen as a pod fault's
 * are, the fault applied by each pod's node daemon for `duration`, reverted before the next step starts.
 */
export interface NetworkFaultStep {
  readonly type: "network-fault";
  readonly name?: string;
  readonly selector: Selector;
  readonly mode: Mode;
  readonly kind: "bandwidth" | "partition" | "delay" | "loss" | "duplicate" | "corrupt";
  readonly network: NetworkWork;
  readonly duration: Duration;
  /** NetworkChaos `target`, `externalTargets` and `direction`: filtered rules (ADR 0041). */
  readonly filter?: {
    readonly target?: { readonly selector: Selector; readonly mode: Mode };
    readonly externalTargets: readonly string[];
    readonly direction: "to" | "from" | "both";
  };
}

/**
 * A StressChaos (ADR 0040): pods chosen as a pod fault's are, stressors run by each pod's node daemon in
 * the container's cgroups for `duration`, killed before the next step starts.
 */
export interface StressFaultStep {
  readonly type: "stress-fault";
  readonly name?: string;
  readonly selector: Selector;
  readonly mode: Mode;
  readonly stress: StressWork;
  /** The container stressed (the manifest's first containerNames); default each pod's first. */
  readonly container?: string;
  readonly duration: Duration;
}

export type MethodStep =
  | PodFaultStep
  | PodFailureStep
  | ContainerKillStep
  | NetworkFaultStep
  | StressFaultStep
  | ObjectFaultStep
  | WaitStep;
/** Faults are never rollbacks: the ledger reverts every fault of the method, whatever happens. */
export type RollbackStep = WaitStep;

export interface Experiment extends ManifestInfo {
  readonly apiVersion: typeof experimentApiVersion;
  readonly kind: "Experiment";
  readonly runnable: true;
  readonly title: string;
  readonly description?: string;
  readonly hypothesis: Hypothesis;
  readonly method: readonly MethodStep[];
  readonly rollbacks: readonly RollbackStep[];
}

// ---- Chaos Mesh kinds -----------------------------------------------------------------------------------

export const podChaosActions = ["pod-kill", "pod-failure", "container-kill"] as const;
export type PodChaosAction = (typeof podChaosActions)[number];

/** A PodChaos spec (api/v1alpha1/podchaos_types.go). */
export interface PodChaosSpec {
  readonly action: PodChaosAction;
  readonly selector: Selector;
  readonly mode: Mode;
  /** Chaos Mesh's default is 0: delete at once, not the pod's own grace period. */
  readonly gracePeriodSeconds: number;
  readonly duration?: Duration;
  readonly containerNames: readonly string[];
}

export const networkChaosActions = [
  "netem",
  "delay",
  "loss",
  "duplicate",
  "corrupt",
  "partition",
  "bandwidth",
] as const;
export type NetworkChaosAction = (typeof networkChaosActions)[number];

/** Percentages from 0 to 100, as Chaos Mesh's FloatStr fields. */
export interface NetworkChaosSpec {
  readonly action: NetworkChaosAction;
  readonly selector: Selector;
  readonly mode: Mode;
  readonly containerNames: readonly string[];
  readonly direction: "to" | "from" | "both";
  readonly target?: { readonly selector: Selector; readonly mode: Mode };
  readonly externalTargets: readonly string[];
  readonly device?: string;
  readonly targetDevice?: string;
  readonly delay?: {
    readonly latencyMs: number;
    readonly jitterMs: number;
    readonly correlation: number;
    readonly reorder?: { readonly reorder: number; readonly correlation: number; readonly gap: number };
  };
  readonly loss?: { readonly loss: number; readonly correlation: number };
  readonly duplicate?: { readonly duplicate: number; readonly correlation: number };
  readonly corrupt?: { readonly corrupt: number; readonly correlation: number };
  readonly bandwidth?: {
    readonly rateBytesPerSecond: number;
    readonly limit: number;
    readonly buffer: number;
    readonly peakrate?: number;
    readonly minburst?: number;
  };
  readonly duration?: Duration;
}

export type MemorySize = { readonly percent: number } | { readonly bytes: number };

/** A StressChaos spec (api/v1alpha1/stresschaos_types.go). */
export interface StressChaosSpec {
  readonly selector: Selector;
  readonly mode: Mode;
  readonly containerNames: readonly string[];
  readonly memory?: {
    readonly workers: number;
    readonly size?: MemorySize;
    readonly timeMs?: number;
    readonly oomScoreAdj?: number;
    readonly options: readonly string[];
  };
  readonly cpu?: { readonly workers: number; readonly load?: number; readonly options: readonly string[] };
  readonly stressngStressors?: string;
  readonly duration?: Duration;
}

export type ChaosMeshPodChaos = ManifestInfo &
  PodChaosSpec & { readonly apiVersion: ChaosApiVersion; readonly kind: "PodChaos" } & Runnability;

export type ChaosMeshNetworkChaos = ManifestInfo &
  NetworkChaosSpec & {
    readonly apiVersion: ChaosApiVersion;
    readonly kind: "NetworkChaos";
  } & Runnability;

export type ChaosMeshStressChaos = ManifestInfo &
  StressChaosSpec & {
    readonly apiVersion: ChaosApiVersion;
    readonly kind: "StressChaos";
  } & Runnability;

export const scheduledKinds = ["PodChaos", "NetworkChaos", "StressChaos"] as const;
export type ScheduledKind = (typeof scheduledKinds)[number];

/** The experiment a Schedule creates at each run, with whether Broadside can run it. */
export type ScheduledChaos =
  | ({ readonly kind: "PodChaos" } & PodChaosSpec & Runnability)
  | ({ readonly kind: "NetworkChaos" } & NetworkChaosSpec & Runnability)
  | ({ readonly kind: "StressChaos" } & StressChaosSpec & Runnability);

/** A Schedule (api/v1alpha1/schedule_types.go); runnable when the chaos it schedules is. */
export type ChaosMeshSchedule = ManifestInfo & {
  readonly apiVersion: ChaosApiVersion;
  readonly kind: "Schedule";
  readonly cron: CronSpec;
  /** Forbid (the default): no run starts while the previous one is still going. */
  readonly concurrencyPolicy: "Forbid" | "Allow";
  /** How many finished runs to keep a record of; absent: Broadside's default. */
  readonly historyLimit?: number;
  /** A run missed by more than this many seconds is skipped; absent: missed runs since the last start. */
  readonly startingDeadlineSeconds?: number;
  readonly chaos: ScheduledChaos;
} & Runnability;

export type LoadedExperiment =
  Experiment | ChaosMeshPodChaos | ChaosMeshSchedule | ChaosMeshNetworkChaos | ChaosMeshStressChaos;
