import { Watch, type V1Pod } from "@kubernetes/client-node";
import { deferred } from "../core/deferred.js";
import { describeError } from "../core/errors.js";
import type { Owner } from "../core/targeting/types.js";
import type { KubeClients } from "./client.js";

import { controllerRef, isPodReady } from "./pod-facts.js";

/**
 * Measures how workloads heal after pods are shot, from watch events each stamped in milliseconds when it
 * arrives. Per victim: deletion accepted, victim gone, replacement created, scheduled, Ready; per
 * workload: back at its desired available replicas after having dipped. RecoveryFold is the pure part
 * (events in, timelines out); startRecoveryTiming and timeRecovery run the watches against a cluster.
 */

/**
 * What a fault reports for one shot. The same shape as faults/types.ts ShotOutcome, restated here because
 * kube/ sits below faults/ and must not import from it.
 */
export type ShotResult =
  | { readonly accepted: true; readonly at: number }
  | { readonly accepted: false; readonly at: number; readonly reason: string };

/** Workload kinds whose status says how many replicas are available, so restoration can be timed. */
export const trackedWorkloadKinds = ["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"] as const;
export type TrackedWorkloadKind = (typeof trackedWorkloadKinds)[number];

export function isTrackedKind(kind: string): kind is TrackedWorkloadKind {
  return trackedWorkloadKinds.some((tracked) => tracked === kind);
}

export interface WorkloadRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
}

/** A victim as the fold needs it; victimSpec builds one from the pod. */
export interface VictimSpec {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly node: string | undefined;
  /** The pod's own controller (a Deployment pod's ReplicaSet): the one that creates its replacement. */
  readonly controller: Owner | undefined;
  /** The workload whose availability is watched (the Deployment); undefined for a bare pod. */
  readonly workload: Owner | undefined;
}

/**
 * `owner` is the resolved workload (PodFacts.owner); without it the pod's controller stands in, so a
 * Deployment's pod is then timed against its ReplicaSet.
 */
export function victimSpec(pod: V1Pod, owner: Owner | undefined): VictimSpec {
  const reference = controllerRef(pod.metadata);
  const controller = reference === undefined ? undefined : { kind: reference.kind, name: reference.name };
  return {
    namespace: pod.metadata?.namespace ?? "",
    name: pod.metadata?.name ?? "",
    uid: pod.metadata?.uid ?? "",
    node: pod.spec?.nodeName,
    controller,
    workload: owner ?? controller,
  };
}

/** A workload's replica counts, read from its status. */
export interface Availability {
  readonly desired: number;
  readonly available: number;
}

/** The fields of Deployments, StatefulSets, ReplicaSets and DaemonSets that availability is read from. */
export interface WorkloadShape {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  // selector, which every such spec has, keeps this from being a weak type DaemonSetSpec could not match.
  readonly spec?: { readonly replicas?: number; readonly selector?: unknown };
  readonly status?: {
    readonly availableReplicas?: number;
    readonly numberAvailable?: number;
    readonly desiredNumberScheduled?: number;
  };
}

export function availabilityOf(kind: TrackedWorkloadKind, workload: WorkloadShape): Availability {
  const status = workload.status;
  if (kind === "DaemonSet") {
    return { desired: status?.desiredNumberScheduled ?? 0, available: status?.numberAvailable ?? 0 };
  }
  // spec.replicas defaults to 1 in the API, so an absent value means 1.
  return { desired: workload.spec?.replicas ?? 1, available: status?.availableReplicas ?? 0 };
}

/** What happened to the pod that should take a victim's place. Figures are ms since the shot's origin. */
export type ReplacementTimeline =
  | { readonly expected: false; readonly why: string }
  | {
      readonly expected: true;
      readonly pod:
        { readonly name: string; readonly uid: string; readonly node: string | undefined } | undefined;
      readonly createdMs: number | undefined;
      readonly scheduledMs: number | undefined;
      readonly readyMs: number | undefined;
    };

/** One victim's story. Every *Ms figure is milliseconds since `requestedAt`; undefined means not seen. */
export interface VictimTimeline {
  readonly pod: {
    readonly namespace: string;
    readonly name: string;
    readonly uid: string;
    readonly node: string | undefined;
  };
  readonly workload: WorkloadRef | undefined;
  readonly shot: ShotResult | undefined;
  /** Epoch ms the shot was sent, or when it was answered if the caller did not say when it was sent. */
  readonly requestedAt: number | undefined;
  readonly acceptedMs: number | undefined;
  readonly goneMs: number | undefined;
  readonly replacement: ReplacementTimeline;
}

/**
 * restored: back at desired available replicas after a dip; not-restored: not (yet) back; untracked: a kind
 * without a replica count (a Job, a custom controller); not-hit: no shot at it was accepted.
 */
export type RestorationStatus = "restored" | "not-restored" | "untracked" | "not-hit";

export interface WorkloadRestoration {
  readonly workload: WorkloadRef;
  readonly status: RestorationStatus;
  /** The last counts seen, undefined for an untracked kind. */
  readonly desired: number | undefined;
  readonly available: number | undefined;
  /** Availability fell below desired after the first shot at the workload was sent. */
  readonly dipped: boolean;
  /** Epoch ms. */
  readonly restoredAt: number | undefined;
  /** Since the first shot at the workload was sent. */
  readonly restoredMs: number | undefined;
  /**
   * workload-status: the status was seen back at desired after the dip. replacements-ready: status updates
   * never showed the dip (they can coalesce), so the last replacement turning Ready stands for it.
   */
  readonly restoredBy: "workload-status" | "replacements-ready" | undefined;
}

interface PodTrack {
  readonly uid: string;
  readonly name: string;
  readonly group: string;
  node: string | undefined;
  readonly createdAt: number;
  scheduledAt?: number;
  readyAt?: number;
}

interface VictimState {
  readonly spec: VictimSpec;
  readonly index: number;
  /** Key of the controller that replaces it; undefined for a bare pod. */
  readonly group: string | undefined;
  readonly workloadKey: string | undefined;
  requestedAt?: number;
  shot?: ShotResult;
  goneAt?: number;
}

interface WorkloadState {
  readonly ref: WorkloadRef;
  readonly kind: TrackedWorkloadKind | undefined;
  armedAt?: number;
  last?: Availability;
  dipped: boolean;
  restoredAt?: number;
}

function groupKey(namespace: string, controller: Owner): string {
  return `${namespace}/${controller.kind}/${controller.name}`;
}

function workloadKey(kind: string, namespace: string, name: string): string {
  return `${kind} ${namespace}/${name}`;
}

function maxOf(values: readonly (number | undefined)[]): number | undefined {
  let max: number | undefined;
  for (const value of values) {
    if (value === undefined) return undefined;
    max = Math.max(max ?? value, value);
  }
  return max;
}

/**
 * Folds shots, pod events and workload status events into timelines. Pods first seen in an ADDED event
 * are new (the watches start from lists taken before the shots); a new pod made by a victim's controller
 * is a replacement. Replacements go to the victims of the same controller: first by name (a StatefulSet's
 * replacement keeps the victim's name), then the rest in creation order to victims in the order their
 * shots were accepted.
 */
export class RecoveryFold {
  private readonly victims = new Map<string, VictimState>();
  private readonly workloads = new Map<string, WorkloadState>();
  private readonly groups = new Set<string>();
  /** New pods of the victims' controllers, in the order they were first seen. */
  private readonly newPods = new Map<string, PodTrack>();

  constructor(victims: readonly VictimSpec[]) {
    for (const spec of victims) this.addVictim(spec);
  }

  private addVictim(spec: VictimSpec): void {
    if (this.victims.has(spec.uid)) return;
    const group = spec.controller === undefined ? undefined : groupKey(spec.namespace, spec.controller);
    const workload = spec.workload;
    const key =
      workload === undefined ? undefined : workloadKey(workload.kind, spec.namespace, workload.name);
    if (group !== undefined) this.groups.add(group);
    if (workload !== undefined && key !== undefined && !this.workloads.has(key)) {
      this.workloads.set(key, {
        ref: { kind: workload.kind, namespace: spec.namespace, name: workload.name },
        kind: isTrackedKind(workload.kind) ? workload.kind : undefined,
        dipped: false,
      });
    }
    this.victims.set(spec.uid, { spec, index: this.victims.size, group, workloadKey: key });
  }

  /** The workloads the victims belong to, for the caller to watch. */
  get workloadRefs(): WorkloadRef[] {
    return [...this.workloads.values()].map((state) => state.ref);
  }

  /** The shot at `uid` is being sent now: the origin of its figures, and when its workload is armed. */
  requested(uid: string, at: number): void {
    const victim = this.victims.get(uid);
    if (victim === undefined) return;
    victim.requestedAt ??= at;
    this.arm(victim, at);
  }

  fired(uid: string, shot: ShotResult): void {
    const victim = this.victims.get(uid);
    if (victim === undefined) return;
    victim.shot = shot;
    this.arm(victim, victim.requestedAt ?? shot.at);
  }

  /**
   * From the first shot on, the workload's availability counts: a workload already short of replicas then
   * has dipped, and status events from before the shot cannot pass for a restoration.
   */
  private arm(victim: VictimState, at: number): void {
    const state = victim.workloadKey === undefined ? undefined : this.workloads.get(victim.workloadKey);
    if (state === undefined || state.armedAt !== undefined) return;
    state.armedAt = at;
    if (state.last !== undefined && state.last.available < state.last.desired) state.dipped = true;
  }

  onPod(type: string, pod: V1Pod, now: number): void {
    const uid = pod.metadata?.uid ?? "";
    const victim = this.victims.get(uid);
    if (victim !== undefined) {
      if (type === "DELETED") victim.goneAt ??= now;
      return;
    }
    const track = this.newPods.get(uid) ?? this.startTracking(type, pod, now);
    if (track !== undefined) advance(track, pod, now);
  }

  private startTracking(type: string, pod: V1Pod, now: number): PodTrack | undefined {
    const reference = controllerRef(pod.metadata);
    if (type !== "ADDED" || reference === undefined) return undefined;
    const group = groupKey(pod.metadata?.namespace ?? "", reference);
    if (!this.groups.has(group)) return undefined;
    const track: PodTrack = {
      uid: pod.metadata?.uid ?? "",
      name: pod.metadata?.name ?? "",
      group,
      node: undefined,
      createdAt: now,
    };
    this.newPods.set(track.uid, track);
    return track;
  }

  onWorkload(kind: TrackedWorkloadKind, workload: WorkloadShape, now: number): void {
    const metadata = workload.metadata;
    const state = this.workloads.get(workloadKey(kind, metadata?.namespace ?? "", metadata?.name ?? ""));
    if (state === undefined) return;
    const availability = availabilityOf(kind, workload);
    state.last = availability;
    if (state.armedAt === undefined) return;
    if (availability.available < availability.desired) state.dipped = true;
    else if (state.dipped) state.restoredAt ??= now;
  }

  /**
   * Every accepted shot's replacement is Ready (and its victim gone, when asked) and every workload hit is
   * back at its desired availability. A shot sent but not yet answered keeps the fold incomplete; victims
   * never shot at are not waited for.
   */
  isComplete(waitForVictimsGone: boolean): boolean {
    const replacements = this.matchReplacements();
    for (const victim of this.victims.values()) {
      if (!this.victimSettled(victim, replacements, waitForVictimsGone)) return false;
    }
    for (const state of this.workloads.values()) {
      const restoration = this.restorationOf(state, replacements);
      if (restoration.status === "not-restored") return false;
    }
    return true;
  }

  private victimSettled(
    victim: VictimState,
    replacements: ReadonlyMap<string, PodTrack>,
    waitForVictimsGone: boolean,
  ): boolean {
    if (victim.shot === undefined) return victim.requestedAt === undefined;
    if (!victim.shot.accepted) return true;
    if (waitForVictimsGone && victim.goneAt === undefined) return false;
    return victim.group === undefined || replacements.get(victim.spec.uid)?.readyAt !== undefined;
  }

  victimTimelines(): VictimTimeline[] {
    const replacements = this.matchReplacements();
    return [...this.victims.values()].map((victim) => this.timelineOf(victim, replacements));
  }

  workloadRestorations(): WorkloadRestoration[] {
    const replacements = this.matchReplacements();
    return [...this.workloads.values()].map((state) => this.restorationOf(state, replacements));
  }

  private timelineOf(victim: VictimState, replacements: ReadonlyMap<string, PodTrack>): VictimTimeline {
    const { spec, shot } = victim;
    const origin = victim.requestedAt ?? shot?.at;
    const since = (at: number | undefined): number | undefined =>
      at === undefined || origin === undefined ? undefined : at - origin;
    const state = victim.workloadKey === undefined ? undefined : this.workloads.get(victim.workloadKey);
    return {
      pod: { namespace: spec.namespace, name: spec.name, uid: spec.uid, node: spec.node },
      workload: state?.ref,
      shot,
      requestedAt: origin,
      acceptedMs: shot?.accepted === true ? since(shot.at) : undefined,
      goneMs: since(victim.goneAt),
      replacement: replacementOf(victim, replacements.get(spec.uid), since),
    };
  }

  private restorationOf(
    state: WorkloadState,
    replacements: ReadonlyMap<string, PodTrack>,
  ): WorkloadRestoration {
    const hit = [...this.victims.values()].filter(
      (victim) => victim.workloadKey === workloadKey(state.ref.kind, state.ref.namespace, state.ref.name),
    );
    const accepted = hit.filter((victim) => victim.shot?.accepted === true);
    const fallback = state.dipped
      ? undefined
      : maxOf(accepted.map((v) => replacements.get(v.spec.uid)?.readyAt));
    const restoredAt = state.restoredAt ?? fallback;
    return {
      workload: state.ref,
      status: restorationStatus(state, accepted.length > 0, restoredAt),
      desired: state.last?.desired,
      available: state.last?.available,
      dipped: state.dipped,
      restoredAt: state.kind === undefined ? undefined : restoredAt,
      restoredMs:
        state.kind === undefined || restoredAt === undefined || state.armedAt === undefined
          ? undefined
          : restoredAt - state.armedAt,
      restoredBy: restoredByOf(state, restoredAt),
    };
  }

  /** Replacement pod per victim uid. */
  private matchReplacements(): Map<string, PodTrack> {
    const matched = new Map<string, PodTrack>();
    for (const group of this.groups) {
      const victims = [...this.victims.values()]
        .filter((victim) => victim.group === group && victim.shot?.accepted === true)
        .sort(byAcceptance);
      const pods = [...this.newPods.values()].filter((pod) => pod.group === group);
      matchGroup(victims, pods, matched);
    }
    return matched;
  }
}

/** Notes the milestones a new pod has reached, each at the first event that shows it. */
function advance(track: PodTrack, pod: V1Pod, now: number): void {
  const node = pod.spec?.nodeName;
  if (node !== undefined) {
    track.node = node;
    track.scheduledAt ??= now;
  }
  if (isPodReady(pod)) track.readyAt ??= now;
}

function byAcceptance(a: VictimState, b: VictimState): number {
  return (a.shot?.at ?? 0) - (b.shot?.at ?? 0) || a.index - b.index;
}

/** By name first, for StatefulSets; then the remaining pods in creation order to the remaining victims. */
function matchGroup(
  victims: readonly VictimState[],
  pods: readonly PodTrack[],
  matched: Map<string, PodTrack>,
): void {
  const used = new Set<string>();
  const unmatched: VictimState[] = [];
  for (const victim of victims) {
    const sameName = pods.find((pod) => pod.name === victim.spec.name && !used.has(pod.uid));
    if (sameName === undefined) {
      unmatched.push(victim);
    } else {
      matched.set(victim.spec.uid, sameName);
      used.add(sameName.uid);
    }
  }
  // A pod is only ever a victim's replacement if no other victim claimed it by name.
  const free = pods.filter(
    (pod) => !used.has(pod.uid) && !victims.some((victim) => victim.spec.name === pod.name),
  );
  unmatched.forEach((victim, index) => {
    const pod = free[index];
    if (pod !== undefined) matched.set(victim.spec.uid, pod);
  });
}

function replacementOf(
  victim: VictimState,
  pod: PodTrack | undefined,
  since: (at: number | undefined) => number | undefined,
): ReplacementTimeline {
  if (victim.group === undefined) return { expected: false, why: "a bare pod: no controller recreates it" };
  if (victim.shot === undefined) return { expected: false, why: "not shot" };
  if (!victim.shot.accepted) return { expected: false, why: `the shot was refused: ${victim.shot.reason}` };
  return {
    expected: true,
    pod: pod === undefined ? undefined : { name: pod.name, uid: pod.uid, node: pod.node },
    createdMs: since(pod?.createdAt),
    scheduledMs: since(pod?.scheduledAt),
    readyMs: since(pod?.readyAt),
  };
}

function restorationStatus(
  state: WorkloadState,
  hit: boolean,
  restoredAt: number | undefined,
): RestorationStatus {
  if (!hit) return "not-hit";
  if (state.kind === undefined) return "untracked";
  return restoredAt === undefined ? "not-restored" : "restored";
}

function restoredByOf(
  state: WorkloadState,
  restoredAt: number | undefined,
): WorkloadRestoration["restoredBy"] {
  if (state.kind === undefined || restoredAt === undefined) return undefined;
  return state.restoredAt === undefined ? "replacements-ready" : "workload-status";
}

// ---- Running the watches ------------------------------------------------------------------------------

/** A victim and its resolved workload (PodFacts.owner). */
export interface RecoveryTarget {
  readonly pod: V1Pod;
  readonly owner: Owner | undefined;
}

export interface RecoveryOptions {
  /** How long finish() waits for every milestone, counted from the finish() call. */
  readonly timeoutMs: number;
  /** Also wait for each accepted victim to finish its graceful shutdown and disappear. */
  readonly waitForVictimsGone: boolean;
  /** Epoch milliseconds; Date.now unless a test steps time. */
  readonly now?: () => number;
}

export interface RecoveryReport {
  readonly victims: VictimTimeline[];
  readonly workloads: WorkloadRestoration[];
  /** Every awaited milestone was seen before the timeout. */
  readonly complete: boolean;
  /** Why observation stopped early (a watch failed or was closed by the server), else undefined. */
  readonly watchFailure: string | undefined;
}

/**
 * Watches running from lists taken before the shots. Call requested() right before sending a shot and
 * fired() with its outcome, then finish() once every shot is answered; close() stops the watches early.
 */
export interface RecoverySession {
  requested(uid: string): void;
  fired(uid: string, shot: ShotResult): void;
  finish(): Promise<RecoveryReport>;
  close(): void;
}

interface WatchSpec {
  readonly path: string;
  readonly params: Record<string, string | undefined>;
  readonly onObject: (type: string, object: V1Pod & WorkloadShape, now: number) => void;
}

const workloadPlurals: Record<TrackedWorkloadKind, string> = {
  Deployment: "deployments",
  StatefulSet: "statefulsets",
  DaemonSet: "daemonsets",
  ReplicaSet: "replicasets",
};

interface WorkloadList {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items: readonly WorkloadShape[];
}

function listWorkloads(
  kube: KubeClients,
  kind: TrackedWorkloadKind,
  namespace: string,
  fieldSelector: string | undefined,
): Promise<WorkloadList> {
  const request = { namespace, ...(fieldSelector === undefined ? {} : { fieldSelector }) };
  switch (kind) {
    case "Deployment":
      return kube.apps.listNamespacedDeployment(request);
    case "StatefulSet":
      return kube.apps.listNamespacedStatefulSet(request);
    case "DaemonSet":
      return kube.apps.listNamespacedDaemonSet(request);
    case "ReplicaSet":
      return kube.apps.listNamespacedReplicaSet(request);
  }
}

/**
 * One pod watch per namespace, from the resourceVersion of a one-item list: the list is only there for its
 * resourceVersion, since pods that exist before it never show up as ADDED.
 */
async function podWatches(
  kube: KubeClients,
  namespaces: readonly string[],
  fold: RecoveryFold,
): Promise<WatchSpec[]> {
  return Promise.all(
    namespaces.map(async (namespace) => {
      const list = await kube.core.listNamespacedPod({ namespace, limit: 1 });
      return {
        path: `/api/v1/namespaces/${namespace}/pods`,
        params: { resourceVersion: list.metadata?.resourceVersion },
        onObject: (type: string, pod: V1Pod, now: number) => {
          fold.onPod(type, pod, now);
        },
      };
    }),
  );
}

/** One watch per namespace and workload kind, narrowed to the name when there is only one. */
async function workloadWatches(
  kube: KubeClients,
  fold: RecoveryFold,
  now: () => number,
): Promise<WatchSpec[]> {
  const byKind = new Map<string, { kind: TrackedWorkloadKind; namespace: string; names: Set<string> }>();
  for (const ref of fold.workloadRefs) {
    if (!isTrackedKind(ref.kind)) continue;
    const key = `${ref.namespace}/${ref.kind}`;
    const entry = byKind.get(key) ?? { kind: ref.kind, namespace: ref.namespace, names: new Set<string>() };
    entry.names.add(ref.name);
    byKind.set(key, entry);
  }
  return Promise.all(
    [...byKind.values()].map(async ({ kind, namespace, names }) => {
      const [only] = names;
      const fieldSelector = names.size === 1 && only !== undefined ? `metadata.name=${only}` : undefined;
      const list = await listWorkloads(kube, kind, namespace, fieldSelector);
      const listedAt = now();
      for (const item of list.items) fold.onWorkload(kind, item, listedAt);
      return {
        path: `/apis/apps/v1/namespaces/${namespace}/${workloadPlurals[kind]}`,
        params: { resourceVersion: list.metadata?.resourceVersion, fieldSelector },
        onObject: (_type: string, object: WorkloadShape, at: number) => {
          fold.onWorkload(kind, object, at);
        },
      };
    }),
  );
}

function failureText(path: string, error: unknown): string {
  return error === null || error === undefined
    ? `the watch of ${path} was closed by the server`
    : `the watch of ${path} failed: ${describeError(error)}`;
}

class Session implements RecoverySession {
  private readonly controllers: AbortController[] = [];
  private readonly done = deferred<undefined>();
  private finishing = false;
  private closed = false;
  private failure: string | undefined;

  constructor(
    private readonly fold: RecoveryFold,
    private readonly options: RecoveryOptions,
    private readonly now: () => number,
  ) {}

  async open(kube: KubeClients, specs: readonly WatchSpec[]): Promise<void> {
    const watch = new Watch(kube.config);
    for (const spec of specs) {
      const controller = await watch.watch(
        spec.path,
        spec.params,
        (type: string, object: V1Pod & WorkloadShape & { readonly message?: string }) => {
          // ERROR carries a Status, e.g. 410 Gone when the resourceVersion is too old to watch from.
          if (type === "ERROR") this.fail(failureText(spec.path, object.message ?? "an ERROR event"));
          else spec.onObject(type, object, this.now());
          this.check();
        },
        (error: unknown) => {
          this.fail(failureText(spec.path, error));
        },
      );
      this.controllers.push(controller);
    }
  }

  requested(uid: string): void {
    this.fold.requested(uid, this.now());
  }

  fired(uid: string, shot: ShotResult): void {
    this.fold.fired(uid, shot);
    this.check();
  }

  async finish(): Promise<RecoveryReport> {
    this.finishing = true;
    this.check();
    const timer = setTimeout(() => {
      this.done.resolve(undefined);
    }, this.options.timeoutMs);
    try {
      await this.done.promise;
    } finally {
      clearTimeout(timer);
      this.close();
    }
    return {
      victims: this.fold.victimTimelines(),
      workloads: this.fold.workloadRestorations(),
      complete: this.fold.isComplete(this.options.waitForVictimsGone),
      watchFailure: this.failure,
    };
  }

  close(): void {
    this.closed = true;
    for (const controller of this.controllers) controller.abort();
  }

  private fail(reason: string): void {
    // Aborting our own watches ends them too; that is no failure.
    if (this.closed || this.failure !== undefined) return;
    this.failure = reason;
    this.done.resolve(undefined);
  }

  private check(): void {
    if (this.finishing && this.fold.isComplete(this.options.waitForVictimsGone)) this.done.resolve(undefined);
  }
}

/**
 * Lists, then watches, everything needed to time the targets' recovery: pods in each target namespace and
 * each tracked workload the targets belong to. Shots must be fired after this resolves.
 */
export async function startRecoveryTiming(
  kube: KubeClients,
  targets: readonly RecoveryTarget[],
  options: RecoveryOptions,
): Promise<RecoverySession> {
  const now = options.now ?? Date.now;
  const fold = new RecoveryFold(targets.map((target) => victimSpec(target.pod, target.owner)));
  const namespaces = [...new Set(targets.map((target) => target.pod.metadata?.namespace ?? ""))];
  const [pods, workloads] = await Promise.all([
    podWatches(kube, namespaces, fold),
    workloadWatches(kube, fold, now),
  ]);
  const session = new Session(fold, options, now);
  try {
    await session.open(kube, [...pods, ...workloads]);
  } catch (error: unknown) {
    session.close();
    throw error;
  }
  return session;
}

/**
 * Starts the watches, fires at every target at once with `fire`, and waits for recovery or the timeout.
 * A shot that throws is recorded as refused with the error as its reason, so one failed shot does not
 * throw away the measurements of the others.
 */
export async function timeRecovery(
  kube: KubeClients,
  targets: readonly RecoveryTarget[],
  options: RecoveryOptions,
  fire: (target: RecoveryTarget) => Promise<ShotResult>,
): Promise<RecoveryReport> {
  const now = options.now ?? Date.now;
  const session = await startRecoveryTiming(kube, targets, options);
  try {
    await Promise.all(
      targets.map(async (target) => {
        const uid = target.pod.metadata?.uid ?? "";
        session.requested(uid);
        session.fired(uid, await fire(target).catch((error: unknown) => failedShot(error, now())));
      }),
    );
    return await session.finish();
  } finally {
    session.close();
  }
}

function failedShot(error: unknown, at: number): ShotResult {
  return { accepted: false, at, reason: `the shot failed: ${describeError(error)}` };
}
