import type { V1ConfigMap } from "@kubernetes/client-node";
import { setTimer } from "../core/clock.js";
import type { Duration } from "../core/duration.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import { ABSENT } from "../core/ledger/record.js";
import type { JsonObject, LedgerRecord } from "../core/ledger/record.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import { answerSaysApplied, noProxyFor, nodeWorkName, parseNodeWorkSpec } from "../core/node-work.js";
import type {
  NetworkWork,
  TimedNodeWorkKind,
  NodeWork,
  NodeWorkSpec,
  NodeWorkStatus,
  NodeWorkStore,
} from "../core/node-work.js";
import type { TargetPlan } from "../core/targeting/types.js";
import {
  externalPeers,
  filteredFaults,
  networkWork,
  planNetworkTargets,
  refuseProxyWithoutPorts,
} from "../faults/network.js";
import type { NetworkDirection, NetworkFault, NetworkFaultKind, NetworkTarget } from "../faults/network.js";
import { broadsideNamespace, newRecordId } from "../kube/ledger-store.js";
import { workOf } from "../kube/node-work-store.js";
import { Informer } from "../kube/watch/informer.js";
import { collectionPath } from "../kube/watch/source.js";
import type { EngineContext } from "./context.js";
import { currentPods, nodeWorkStore } from "./node-work-targets.js";
import { gatherAndPlan, type PodChoice } from "./pod-chaos.js";

/*
 * A timed network fault's life on the writer's side (ADR 0032): pods chosen as every pod fault chooses
 * them; per pod a ledger record (pending), then the node work; the daemon's Applied answer marks the record
 * applied; the fault holds until its end (the daemon reverts it by itself then), or until `stop` (the
 * writer asks for the revert on the work object); the daemon's Reverted answer closes the record.
 */

/** What every timed node fault's run needs (network faults, stress: ADR 0040). */
export interface TimedFaultOptions extends PodChoice {
  readonly duration: Duration;
  readonly dryRun: boolean;
  /** Resolves to revert early (Ctrl-C, a run's abort). */
  readonly stop?: Promise<void>;
  /** How long to wait for the daemon's first answer, and for its Reverted answer. Default 30 s. */
  readonly answerTimeoutMs?: number;
}

export interface NetworkChaosRequest extends TimedFaultOptions {
  readonly kind: NetworkFaultKind;
  readonly network: NetworkWork;
  /**
   * Filtered rules (NetworkChaos `target`, `externalTargets`, `direction`; ADR 0041): only the traffic
   * between the chosen pods and these peers is faulted. Absent: all of the chosen pods' traffic.
   */
  readonly filter?: NetworkFilter;
}

export interface NetworkFilter {
  /** The target pods, chosen as the fault's pods are. */
  readonly target?: PodChoice;
  /** IPv4 addresses and CIDRs; `field` names them in a refusal (`--external-target`, `spec.externalTargets`). */
  readonly external: { readonly values: readonly string[]; readonly field: string };
  readonly direction: NetworkDirection;
}

/** The record fields a work spec is written under. */
export interface WorkRecordFields {
  readonly ledgerId: string;
  readonly createdAt: number;
  readonly deadline: number;
  readonly durationMs: number;
  readonly actor: string;
}

/** One kind of timed node fault on chosen targets: its kind, and per target its parameters and work spec. */
export interface TimedFaultRequest extends TimedFaultOptions {
  readonly kind: TimedNodeWorkKind;
  /** The fault's parameters on `target`, as its ledger record keeps them. */
  readonly injected: (target: NetworkTarget) => JsonObject;
  readonly workOf: (target: NetworkTarget, record: WorkRecordFields) => NodeWorkSpec;
}

export interface NetworkFaultRun {
  readonly target: NetworkTarget;
  readonly ledgerId: string;
  readonly work: string;
  /**
   * The daemon's Applied answer; or its Reverted answer with the time it acted, when that came first
   * (a daemon restarted between applying and answering). Undefined when nothing was applied.
   */
  readonly applied: NodeWorkStatus | undefined;
  /** Its last answer: Reverted, or why nothing was applied. */
  readonly final: NodeWorkStatus | undefined;
  /** Why the fault did not hold, or was not seen reverted; undefined when it went as planned. */
  readonly problem: string | undefined;
}

export interface NetworkChaosResult {
  readonly plan: TargetPlan;
  /** The pods faulted (with `from`, the targets). */
  readonly targets: readonly NetworkTarget[];
  /** A filtered fault's peers per pod faulted, by address (empty for the whole pod's traffic). */
  readonly peers: readonly (readonly string[])[];
  readonly runs: readonly NetworkFaultRun[];
}

const defaultAnswerTimeoutMs = 30_000;

export async function runNetworkChaos(
  ctx: EngineContext,
  request: NetworkChaosRequest,
): Promise<NetworkChaosResult> {
  const { planned } = await gatherAndPlan(ctx, request);
  const sources = planNetworkTargets(await currentPods(ctx, planned.selected));
  const faults =
    request.filter === undefined
      ? sources.map((target) => ({ target, network: request.network }))
      : await filtered(ctx, request, request.filter, sources);
  refuseProxyWithoutPorts(faults);
  await refuseWithoutNetem(ctx, request.kind, faults);
  const targets = faults.map((fault) => fault.target);
  const peers = faults.map((fault) => (fault.network.peers ?? []).map((peer) => peer.address));
  // Each pod's own parameters: a filtered fault's peers differ per pod.
  const networkOf = new Map(faults.map((fault) => [fault.target, fault.network]));
  const network = (target: NetworkTarget): NetworkWork => networkOf.get(target) ?? request.network;
  const result = await runTimedNodeFaults(ctx, planned, targets, {
    ...request,
    injected: (target) => ({ network: network(target) as unknown as JsonObject }),
    workOf: (target, record) => networkWork(request.kind, target, network(target), record),
  });
  return { ...result, peers };
}

/**
 * The writer's side of timed node faults on targets already planned and checked: nothing is written on a
 * dry run; else, the kill switch read, one record and one work object per target, held until reverted.
 */
export async function runTimedNodeFaults(
  ctx: EngineContext,
  planned: TargetPlan,
  targets: readonly NetworkTarget[],
  request: TimedFaultRequest,
): Promise<NetworkChaosResult> {
  const peers = targets.map(() => []);
  if (request.dryRun || targets.length === 0) return { plan: planned, targets, peers, runs: [] };
  const store = nodeWorkStore(ctx, request.kind);
  await refuseWhileHalted(ctx.halt);
  const runs = await Promise.all(targets.map((target) => faultOne(ctx, store, request, target)));
  return { plan: planned, targets, peers, runs };
}

/**
 * duplicate and corrupt are netem's only (the proxy cannot make them): a node whose daemon published that
 * its kernel has no sch_netem is refused before anything is written, naming the action, the node and why.
 * A node with nothing published is left to its daemon, which refuses the same way.
 */
async function refuseWithoutNetem(
  ctx: EngineContext,
  kind: NetworkFaultKind,
  faults: readonly NetworkFault[],
): Promise<void> {
  if (kind !== "duplicate" && kind !== "corrupt") return;
  for (const node of new Set(faults.map((fault) => fault.target.node))) {
    const capabilities = await ctx.nodeWork?.capabilities?.(node);
    if (capabilities?.netem === false)
      throw new BroadsideError(
        "BRD_SHOT_REFUSED",
        `${kind}: node ${node}'s kernel has no sch_netem (tc: ${capabilities.words}), and ${noProxyFor(kind)}; nothing was written`,
      );
  }
}

/** The faults of a filtered request: the target pods chosen and read, the external addresses checked. */
async function filtered(
  ctx: EngineContext,
  request: NetworkChaosRequest,
  filter: NetworkFilter,
  sources: readonly NetworkTarget[],
): Promise<NetworkFault[]> {
  const externals = externalPeers(filter.external.values, filter.external.field);
  const targets =
    filter.target === undefined
      ? []
      : planNetworkTargets(
          await currentPods(ctx, (await gatherAndPlan(ctx, filter.target)).planned.selected),
        );
  if (targets.length === 0 && externals.length === 0)
    throw new BroadsideError(
      "BRD_USAGE",
      "the target selector chose no pod and there is no external target: the filtered fault would fault nothing",
    );
  return filteredFaults(request.kind, request.network, sources, targets, externals, filter.direction);
}

async function faultOne(
  ctx: EngineContext,
  store: NodeWorkStore,
  request: TimedFaultRequest,
  target: NetworkTarget,
): Promise<NetworkFaultRun> {
  const answerMs = request.answerTimeoutMs ?? defaultAnswerTimeoutMs;
  const record = await writeRecord(ctx, request, target, answerMs);
  ctx.failpoint("record-written");
  const name = nodeWorkName(record.id);
  const base = { target, ledgerId: record.id, work: name };
  const spec = workSpec(ctx, request, target, record, answerMs);
  const watch = await watchWork(ctx, name);
  try {
    const created = await store.create(spec);
    const first = await watch.until((work) => work.status !== undefined, answerMs);
    const applied = first?.status;
    if (applied === undefined || !answerSaysApplied(applied)) {
      const status = applied ?? (await withdraw(store, created));
      return { ...base, ...(await notApplied(ctx, request.kind, record, target, status)) };
    }
    const active = await ctx.ledger.update(markApplied(record));
    ctx.failpoint("applied");
    ctx.progress(
      `  ${request.kind} ${target.pod.namespace}/${target.pod.name}: applied on node ${target.node}: ${applied.message}`,
    );
    // A first answer of Reverted: applied, then reverted by a restarted daemon before any Applied answer.
    const final =
      applied.phase === "Applied"
        ? await holdAndRevert(ctx, store, request, watch, applied, answerMs)
        : applied;
    return { ...base, applied, ...(await finish(ctx, store, request.kind, active, target, final)) };
  } finally {
    await watch.stop();
  }
}

function workSpec(
  ctx: EngineContext,
  request: TimedFaultRequest,
  target: NetworkTarget,
  record: LedgerRecord,
  answerMs: number,
): NodeWorkSpec {
  const spec = parseNodeWorkSpec(
    request.workOf(target, {
      ledgerId: record.id,
      createdAt: record.createdAt,
      deadline: record.createdAt + answerMs,
      durationMs: request.duration.milliseconds,
      actor: `${ctx.actor.user}@${ctx.actor.host}`,
    }),
  );
  if ("problem" in spec) throw new BroadsideError("BRD_INTERNAL", `${request.kind} work: ${spec.problem}`);
  return spec;
}

/** No Applied answer: the record closed never-applied with the daemon's words (or its silence). */
async function notApplied(
  ctx: EngineContext,
  kind: TimedNodeWorkKind,
  record: LedgerRecord,
  target: NetworkTarget,
  status: NodeWorkStatus | undefined,
): Promise<Pick<NetworkFaultRun, "applied" | "final" | "problem">> {
  const problem = refusal(target, status);
  await close(ctx, record, "never-applied", status?.at ?? ctx.clock.now(), problem);
  ctx.progress(`  ${kind} ${target.pod.namespace}/${target.pod.name}: ${problem}`);
  return { applied: undefined, final: status, problem };
}

/** The daemon's last answer: Reverted closes the record and removes the work; anything else leaves it open. */
async function finish(
  ctx: EngineContext,
  store: NodeWorkStore,
  kind: TimedNodeWorkKind,
  record: LedgerRecord,
  target: NetworkTarget,
  final: NodeWorkStatus | undefined,
): Promise<Pick<NetworkFaultRun, "final" | "problem">> {
  if (final?.phase !== "Reverted") {
    const problem = `the daemon of node ${target.node} did not answer Reverted; the record stays open for \`broadside recover\``;
    return { final, problem };
  }
  await close(ctx, record, "reverted", final.revertedAt ?? final.at, final.message);
  await store.remove(nodeWorkName(record.id)).catch(() => undefined);
  ctx.progress(`  ${kind} ${target.pod.namespace}/${target.pod.name}: ${final.message}`);
  return { final, problem: undefined };
}

/** Waits for the daemon's own revert at the end, or asks for it on `stop`; the Reverted answer, if any. */
async function holdAndRevert(
  ctx: EngineContext,
  store: NodeWorkStore,
  request: TimedFaultRequest,
  watch: WorkWatch,
  applied: NodeWorkStatus,
  answerMs: number,
): Promise<NodeWorkStatus | undefined> {
  const endsIn = Math.max(0, (applied.endsAt ?? ctx.clock.now()) - ctx.clock.now());
  const reverted = (work: NodeWork) => work.status !== undefined && work.status.phase !== "Applied";
  const stopped = request.stop?.then(() => "stop" as const);
  const first = await Promise.race([
    watch.until(reverted, endsIn + answerMs).then((work) => ({ work })),
    ...(stopped === undefined ? [] : [stopped]),
  ]);
  if (first !== "stop" && first.work !== undefined) return first.work.status;
  await askRevert(
    ctx,
    store,
    watch.latest(),
    first === "stop" ? "stopped early" : "its end passed unanswered",
  );
  return (await watch.until(reverted, answerMs))?.status;
}

async function askRevert(
  ctx: EngineContext,
  store: NodeWorkStore,
  work: NodeWork | undefined,
  reason: string,
): Promise<void> {
  if (work === undefined || work.revert !== undefined) return;
  try {
    await store.requestRevert(work, {
      at: ctx.clock.now(),
      by: `${ctx.actor.user}@${ctx.actor.host}`,
      reason,
    });
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) throw error;
    const fresh = await store.read(work.name);
    if (fresh?.status?.phase === "Applied" && fresh.revert === undefined)
      await askRevert(ctx, store, fresh, reason);
  }
}

/** The record, before the work: the pod, path /node-fault, nothing there before, the fault's parameters injected. */
async function writeRecord(
  ctx: EngineContext,
  request: TimedFaultRequest,
  target: NetworkTarget,
  answerMs: number,
): Promise<LedgerRecord> {
  const now = ctx.clock.now();
  const injected: JsonObject = { kind: request.kind, node: target.node, ...request.injected(target) };
  return ctx.ledger.create({
    id: newRecordId(now),
    faultKind: request.kind,
    target: { apiVersion: "v1", kind: "Pod", ...target.pod },
    path: "/node-fault",
    original: ABSENT,
    injected,
    sensitive: false,
    createdAt: now,
    deadline: now + answerMs + request.duration.milliseconds + answerMs,
    actor: ctx.actor,
    state: "pending",
  });
}

async function close(
  ctx: EngineContext,
  record: LedgerRecord,
  kind: "reverted" | "never-applied",
  at: number,
  detail: string,
): Promise<void> {
  try {
    await ctx.ledger.update(closeRecord(record, { kind, at, detail: detail.slice(0, 500) }));
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) throw error;
  }
}

function refusal(target: NetworkTarget, status: NodeWorkStatus | undefined): string {
  if (status === undefined)
    return `no node daemon answered for node ${target.node}; the work was withdrawn (is \`broadside daemon --node ${target.node}\` running?)`;
  return `${status.phase.toLowerCase()} by the daemon of ${target.node}: ${status.message}`;
}

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

interface WorkWatch {
  /** The first version of the work (from now, or already seen) that satisfies `test`, or undefined after `ms`. */
  until(test: (work: NodeWork) => boolean, ms: number): Promise<NodeWork | undefined>;
  latest(): NodeWork | undefined;
  stop(): Promise<void>;
}

/** The work object watched from before it is written, so no answer is missed. */
async function watchWork(ctx: EngineContext, name: string): Promise<WorkWatch> {
  let latest: NodeWork | undefined;
  const waiters = new Set<() => void>();
  const informer = new Informer<V1ConfigMap>({
    source: ctx.watches({
      path: collectionPath("v1", "configmaps", broadsideNamespace),
      fieldSelector: `metadata.name=${name}`,
    }),
    description: `node work ${name}`,
    clock: ctx.clock,
  });
  informer.subscribe((event) => {
    if (event.type === "DELETED") return;
    try {
      latest = workOf(event.object);
      for (const wake of waiters) wake();
    } catch (error: unknown) {
      ctx.progress(`  node work ${name} does not read: ${describeError(error)}`);
    }
  });
  await informer.start();
  await informer.whenWatching();
  return {
    latest: () => latest,
    until: (test, ms) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (latest !== undefined && test(latest)) finish(latest);
        };
        const finish = (work: NodeWork | undefined): void => {
          cancel();
          waiters.delete(check);
          resolve(work);
        };
        const cancel = setTimer(ctx.clock, ms, () => {
          finish(undefined);
        });
        waiters.add(check);
        check();
      }),
    stop: () => informer.stop(),
  };
}
