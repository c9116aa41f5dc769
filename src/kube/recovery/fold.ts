import type { V1Pod } from "@kubernetes/client-node";
import type { ShotOutcome } from "../../core/shot.js";
import type { Owner } from "../../core/targeting/types.js";
import { controllerRef, isPodReady } from "../pod-facts.js";
import {
  isTrackedKind,
  type Availability,
  type RestorationStatus,
  type ReplacementTimeline,
  type TrackedWorkloadKind,
  type VictimSpec,
  type VictimTimeline,
  type WorkloadRef,
  type WorkloadRestoration,
  type WorkloadShape,
} from "./types.js";

/**
 * The pure part of recovery timing: shots, pod events and workload status events in, timelines out. Each
 * milestone is the time of the first event that shows it, as the caller stamped it on arrival; nothing
 * here reads a clock or a cluster (session.ts feeds it from informers).
 */

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

export function availabilityOf(kind: TrackedWorkloadKind, workload: WorkloadShape): Availability {
  const status = workload.status;
  if (kind === "DaemonSet") {
    return { desired: status?.desiredNumberScheduled ?? 0, available: status?.numberAvailable ?? 0 };
  }
  // spec.replicas defaults to 1 in the API, so an absent value means 1.
  return { desired: workload.spec?.replicas ?? 1, available: status?.availableReplicas ?? 0 };
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
  shot?: ShotOutcome;
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

  fired(uid: string, shot: ShotOutcome): void {
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
