import type { V1ConfigMap, V1Pod } from "@kubernetes/client-node";
import { setTimer } from "../core/clock.js";
import { deferred } from "../core/deferred.js";
import type { Duration } from "../core/duration.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import { ABSENT } from "../core/ledger/record.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import { nodeWorkName, parseNodeWorkSpec } from "../core/node-work.js";
import type { NodeWork, NodeWorkStatus, NodeWorkStore } from "../core/node-work.js";
import type { ShotOutcome } from "../core/shot.js";
import type { TargetPlan } from "../core/targeting/types.js";
import { containerKillWork, planContainerKills } from "../faults/container-kill.js";
import type { ContainerKillTarget } from "../faults/container-kill.js";
import { broadsideNamespace, newRecordId } from "../kube/ledger-store.js";
import { workOf } from "../kube/node-work-store.js";
import { Informer } from "../kube/watch/informer.js";
import { collectionPath } from "../kube/watch/source.js";
import type { EngineContext } from "./context.js";
import { currentPods, nodeWorkStore } from "./node-work-targets.js";
import { ContainerRecoveryFold } from "./container-recovery.js";
import type { ContainerMilestones } from "./container-recovery.js";
import { gatherAndPlan, type PodChoice } from "./pod-chaos.js";

export interface ContainerKillRequest extends PodChoice {
  /** The containers to kill in each chosen pod (Chaos Mesh's containerNames). */
  readonly containers: readonly string[];
  /** How the caller spells them in messages: "--container", "spec.containerNames". */
  readonly containersField: string;
  readonly dryRun: boolean;
  /** Watch each container's restart and the pod's readiness, and report the milestones. */
  readonly wait: boolean;
  /** How long to wait for the milestones once the kill is answered. */
  readonly timeout: Duration;
  /** How long to wait for the node daemon's answer before withdrawing the work. Default 30 s. */
  readonly answerTimeoutMs?: number;
}

export interface ContainerKill {
  readonly target: ContainerKillTarget;
  readonly ledgerId: string;
  readonly work: string;
  /** Accepted when the daemon answered Done; `at` is the daemon's stamp of the signal. */
  readonly outcome: ShotOutcome;
  readonly status: NodeWorkStatus | undefined;
  /** With `wait`, for an accepted kill. */
  readonly milestones: ContainerMilestones | undefined;
}

export interface ContainerKillResult {
  readonly plan: TargetPlan;
  /** Every (pod, container) planned; for a dry run, none is fired. */
  readonly targets: readonly ContainerKillTarget[];
  readonly kills: readonly ContainerKill[];
}

const defaultAnswerTimeoutMs = 30_000;

/**
 * container-kill: pods chosen as pod-kill chooses them; every named container checked on every chosen
 * pod before anything is written (a missing one is refused with the pod and the names it has); then per
 * (pod, container): ledger record, node work for the pod's node, the daemon's answer, the record closed
 * with it, and the container's restart and the pod's readiness timed from watch events.
 */
export async function runContainerKill(
  ctx: EngineContext,
  request: ContainerKillRequest,
): Promise<ContainerKillResult> {
  const { planned } = await gatherAndPlan(ctx, request);
  const pods = await currentPods(ctx, planned.selected);
  const targets = planContainerKills(pods, request.containers, request.containersField);
  if (request.dryRun || targets.length === 0) return { plan: planned, targets, kills: [] };
  const store = nodeWorkStore(ctx, "container-kill");
  await refuseWhileHalted(ctx.halt);
  const kills = await Promise.all(targets.map((target) => killOne(ctx, store, request, target)));
  return { plan: planned, targets, kills };
}

async function killOne(
  ctx: EngineContext,
  store: NodeWorkStore,
  request: ContainerKillRequest,
  target: ContainerKillTarget,
): Promise<ContainerKill> {
  const watch = request.wait ? await watchContainer(ctx, target) : undefined;
  try {
    const record = await writeRecord(ctx, request, target);
    ctx.failpoint("record-written");
    const work = nodeWorkName(record.id);
    const status = await fireWork(ctx, store, request, target, record);
    const outcome = outcomeOf(ctx, target, status);
    await closeKillRecord(ctx, record, outcome, status);
    ctx.progress(
      `  container-kill ${target.pod.namespace}/${target.pod.name} ${target.container}: ${outcome.accepted ? "killed" : outcome.reason}`,
    );
    if (watch !== undefined && outcome.accepted) {
      ctx.progress(
        `waiting for ${target.container} of ${target.pod.name} to run and be Ready again (up to ${request.timeout.toString()})...`,
      );
      await watch.settled(request.timeout.milliseconds);
    }
    const milestones = watch !== undefined && outcome.accepted ? watch.fold.milestones : undefined;
    return { target, ledgerId: record.id, work, outcome, status, milestones };
  } finally {
    await watch?.stop();
  }
}

/** The record of the kill, before it: a shot at the container's process, nothing to put back (ADR 0029). */
async function writeRecord(
  ctx: EngineContext,
  request: ContainerKillRequest,
  target: ContainerKillTarget,
): Promise<LedgerRecord> {
  const now = ctx.clock.now();
  return ctx.ledger.create({
    id: newRecordId(now),
    faultKind: "container-kill",
    target: { apiVersion: "v1", kind: "Pod", ...target.pod },
    path: "/metadata/uid",
    original: target.pod.uid,
    injected: ABSENT,
    sensitive: false,
    createdAt: now,
    deadline: now + (request.answerTimeoutMs ?? defaultAnswerTimeoutMs) + request.timeout.milliseconds,
    actor: ctx.actor,
    state: "pending",
  });
}

/**
 * Writes the work object and waits for its answer, watched from before it is written. No answer in
 * time: the work is withdrawn (conditional on its version, so an answer that came meanwhile wins).
 */
async function fireWork(
  ctx: EngineContext,
  store: NodeWorkStore,
  request: ContainerKillRequest,
  target: ContainerKillTarget,
  record: LedgerRecord,
): Promise<NodeWorkStatus | undefined> {
  const spec = containerKillWork(target, {
    ledgerId: record.id,
    createdAt: record.createdAt,
    deadline: record.createdAt + (request.answerTimeoutMs ?? defaultAnswerTimeoutMs),
    actor: `${ctx.actor.user}@${ctx.actor.host}`,
  });
  const checked = parseNodeWorkSpec(spec);
  if ("problem" in checked)
    throw new BroadsideError("BRD_INTERNAL", `container-kill work: ${checked.problem}`);
  const answer = await watchAnswer(ctx, nodeWorkName(record.id));
  try {
    const created = await store.create(checked);
    const answered = await answer.within(request.answerTimeoutMs ?? defaultAnswerTimeoutMs);
    return answered ?? (await withdraw(store, created));
  } finally {
    await answer.stop();
  }
}

/** Withdraws unanswered work; an answer that raced the withdrawal is read and returned. */
async function withdraw(store: NodeWorkStore, work: NodeWork): Promise<NodeWorkStatus | undefined> {
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const current = await store.read(work.name);
    if (current === undefined) return undefined;
    if (current.status !== undefined) return current.status;
    try {
      await store.withdraw(current);
      return undefined;
    } catch (error: unknown) {
      if (!(error instanceof ConflictError)) throw error;
    }
  }
  return (await store.read(work.name))?.status;
}

function outcomeOf(
  ctx: EngineContext,
  target: ContainerKillTarget,
  status: NodeWorkStatus | undefined,
): ShotOutcome {
  if (status === undefined)
    return {
      accepted: false,
      at: ctx.clock.now(),
      reason: `no node daemon answered for node ${target.node}; the work was withdrawn (is \`broadside daemon --node ${target.node}\` running?)`,
    };
  if (status.phase === "Done") return { accepted: true, at: status.actedAt ?? status.at };
  return {
    accepted: false,
    at: status.at,
    reason: `${status.phase.toLowerCase()} by the daemon of ${target.node}: ${status.message}`,
  };
}

async function closeKillRecord(
  ctx: EngineContext,
  record: LedgerRecord,
  outcome: ShotOutcome,
  status: NodeWorkStatus | undefined,
): Promise<void> {
  const closed = outcome.accepted
    ? closeRecord(markApplied(record), {
        kind: "target-gone",
        at: outcome.at,
        detail: `container process killed by the node daemon: ${status?.message ?? ""}`.slice(0, 500),
      })
    : closeRecord(record, { kind: "never-applied", at: outcome.at, detail: outcome.reason.slice(0, 500) });
  try {
    await ctx.ledger.update(closed);
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

interface AnswerWatch {
  /** The daemon's answer, or undefined when none came within `ms`. */
  within(ms: number): Promise<NodeWorkStatus | undefined>;
  stop(): Promise<void>;
}

async function watchAnswer(ctx: EngineContext, work: string): Promise<AnswerWatch> {
  const answered = deferred<NodeWorkStatus>();
  const informer = new Informer<V1ConfigMap>({
    source: ctx.watches({
      path: collectionPath("v1", "configmaps", broadsideNamespace),
      fieldSelector: `metadata.name=${work}`,
    }),
    description: `node work ${work}`,
    clock: ctx.clock,
  });
  informer.subscribe((event) => {
    if (event.type === "DELETED") return;
    try {
      const status = workOf(event.object).status;
      if (status !== undefined) answered.resolve(status);
    } catch (error: unknown) {
      ctx.progress(`  node work ${work} does not read: ${describeError(error)}`);
    }
  });
  await informer.start();
  await informer.whenWatching();
  return {
    within: (ms) =>
      new Promise((resolve) => {
        const cancel = setTimer(ctx.clock, ms, () => {
          resolve(undefined);
        });
        void answered.promise.then((status) => {
          cancel();
          resolve(status);
        });
      }),
    stop: () => informer.stop(),
  };
}

interface ContainerWatch {
  readonly fold: ContainerRecoveryFold;
  /** Resolves once both milestones are in, or after `ms`. */
  settled(ms: number): Promise<void>;
  stop(): Promise<void>;
}

/** The pod watched from before the kill, so no event of its restart is missed. */
async function watchContainer(ctx: EngineContext, target: ContainerKillTarget): Promise<ContainerWatch> {
  const fold = new ContainerRecoveryFold(target.container, target.restartCount);
  const complete = deferred<undefined>();
  const informer = new Informer<V1Pod>({
    source: ctx.watches({
      path: collectionPath("v1", "pods", target.pod.namespace),
      fieldSelector: `metadata.name=${target.pod.name}`,
    }),
    description: `pod ${target.pod.namespace}/${target.pod.name}`,
    clock: ctx.clock,
  });
  informer.subscribe((event) => {
    if (event.type === "DELETED" || event.object.metadata?.uid !== target.pod.uid) return;
    fold.observe(event.object, event.receivedAt);
    if (fold.complete) complete.resolve(undefined);
  });
  await informer.start();
  await informer.whenWatching();
  return {
    fold,
    settled: (ms) =>
      new Promise((resolve) => {
        const cancel = setTimer(ctx.clock, ms, () => {
          resolve();
        });
        void complete.promise.then(() => {
          cancel();
          resolve();
        });
      }),
    stop: () => informer.stop(),
  };
}
