import type { V1Pod } from "@kubernetes/client-node";
import type { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { ABSENT } from "../core/ledger/record.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import type { Admission } from "../core/limits/down-cap.js";
import { ShotLimiter } from "../core/limits/shot-limiter.js";
import { optional } from "../core/objects.js";
import { failedShot, type ShotOutcome } from "../core/shot.js";
import { planTargets } from "../core/targeting/plan.js";
import { namespaceRailReason, workloadOf } from "../core/targeting/rails.js";
import type { Mode, PodFacts, Selector, TargetPlan } from "../core/targeting/types.js";
import type { PodFault } from "../faults/types.js";
import { newRecordId } from "../kube/ledger-store.js";
import type { NamespaceScope } from "../kube/pod-facts.js";
import { startRecoveryTiming } from "../kube/recovery/session.js";
import type { RecoveryReport, RecoverySession } from "../kube/recovery/types.js";
import type { EngineContext } from "./context.js";

export interface PodChaosRequest {
  readonly fault: PodFault;
  readonly scope: NamespaceScope;
  readonly selector: Selector;
  readonly mode: Mode;
  /** Seconds; undefined means each pod's own terminationGracePeriodSeconds. */
  readonly gracePeriodSeconds?: number;
  readonly dryRun: boolean;
  /** Watch the targets' recovery and report its milestones. */
  readonly wait: boolean;
  /** How long to wait for recovery once every shot is answered. */
  readonly timeout: Duration;
  /**
   * At most `maxShots` per `interval`: shots beyond that wait their turn, one after the other. Without
   * it all shots go out at once.
   */
  readonly pace?: { readonly maxShots: number; readonly interval: Duration };
}

export interface Shot {
  readonly pod: PodFacts;
  readonly ledgerId: string;
  readonly outcome: ShotOutcome;
}

export interface PodChaosResult {
  readonly plan: TargetPlan;
  readonly shots: readonly Shot[];
  /** Undefined for a dry run or without --wait. */
  readonly recovery: RecoveryReport | undefined;
  /**
   * API requests this process had sent when the last shot was answered, the ledger check on start
   * included (watch streams excluded).
   */
  readonly apiRequests: number;
}

/**
 * The life of a pod fault: gather the pods, plan (selectors, rails, mode, blast-radius cap), start the
 * recovery watches, then per target write a ledger record, fire, and close the record with the outcome;
 * finally wait for recovery. Nothing is written before the plan is complete and valid.
 */
export async function runPodChaos(ctx: EngineContext, request: PodChaosRequest): Promise<PodChaosResult> {
  refuseProtectedScope(ctx, request.scope);
  // "All namespaces" means all this process may act in: an agent in namespaced mode lists only its own.
  const scope = request.scope === "all" ? ctx.rails.watchedNamespaces : request.scope;
  const gathered = await ctx.podFacts.gather(scope);
  const planned = planTargets(
    gathered.facts,
    request.selector,
    request.mode,
    ctx.rails,
    ctx.random,
    gathered.index,
  );
  if (request.dryRun || planned.selected.length === 0) {
    return { plan: planned, shots: [], recovery: undefined, apiRequests: ctx.apiRequests() };
  }
  await refuseWhileHalted(ctx.halt);
  // Held until this run's recovery is known, so a concurrent run cannot take the same workload's share.
  const admission = ctx.downCap.admit(planned.selected, gathered.facts, ctx.rails, gathered.index);
  try {
    const plan = admittedPlan(planned, admission);
    if (plan.selected.length === 0)
      return { plan, shots: [], recovery: undefined, apiRequests: ctx.apiRequests() };
    return await shootAndWatch(ctx, request, plan, gathered.pods);
  } finally {
    admission.release();
  }
}

/** The plan with the pods another run holds down moved to the exclusions. */
function admittedPlan(plan: TargetPlan, admission: Admission): TargetPlan {
  if (admission.dropped.length === 0) return plan;
  const warnings = [
    ...plan.warnings,
    `${admission.dropped.length} chosen pod(s) left out: their workload has pods down from other shots`,
  ];
  return { selected: admission.admitted, excluded: [...plan.excluded, ...admission.dropped], warnings };
}

async function shootAndWatch(
  ctx: EngineContext,
  request: PodChaosRequest,
  plan: TargetPlan,
  pods: readonly V1Pod[],
): Promise<PodChaosResult> {
  const podsByUid = new Map(pods.map((pod) => [pod.metadata?.uid ?? "", pod]));
  const targets = plan.selected.map((facts) => ({ facts, pod: podsByUid.get(facts.uid) ?? {} }));
  const session = request.wait
    ? await startRecoveryTiming(
        ctx,
        targets.map((t) => ({ pod: t.pod, owner: t.facts.owner })),
        {
          timeoutMs: request.timeout.milliseconds,
          waitForVictimsGone: false,
        },
      )
    : undefined;
  try {
    const shots = await fireAll(ctx, request, targets, session);
    const apiRequests = ctx.apiRequests();
    if (session !== undefined) ctx.progress(`waiting for recovery (up to ${request.timeout.toString()})...`);
    return { plan, shots, recovery: await session?.finish(), apiRequests };
  } finally {
    await session?.close();
  }
}

/** All at once, or paced by a ShotLimiter: a shot over the rate waits until the limiter allows it. */
async function fireAll(
  ctx: EngineContext,
  request: PodChaosRequest,
  targets: readonly { facts: PodFacts; pod: V1Pod }[],
  session: RecoverySession | undefined,
): Promise<Shot[]> {
  const pace = request.pace;
  if (pace === undefined)
    return Promise.all(targets.map((t) => fireAt(ctx, request, t.facts, t.pod, session)));
  // The per-workload cap already bounds pods down at once, so only the rate is limited here.
  const limiter = new ShotLimiter({ ...pace, maxDownPerWorkload: Number.MAX_SAFE_INTEGER }, ctx.clock);
  const shots: Shot[] = [];
  for (const target of targets) {
    for (
      let verdict = limiter.check(workloadOf(target.facts));
      !verdict.allowed;
      verdict = limiter.check(workloadOf(target.facts))
    ) {
      if (verdict.limit !== "rate") break;
      ctx.progress(`  pacing: ${verdict.reason}`);
      await ctx.clock.sleep(verdict.retryAfterMs);
    }
    // A paced run can last long: the kill switch stops it between shots.
    await refuseWhileHalted(ctx.halt);
    limiter.recordShot(workloadOf(target.facts), target.facts.uid);
    shots.push(await fireAt(ctx, request, target.facts, target.pod, session));
  }
  return shots;
}

/** A namespace named outright that no fault may touch is an error, not an empty plan. */
function refuseProtectedScope(ctx: EngineContext, scope: NamespaceScope): void {
  if (scope === "all") return;
  for (const namespace of scope) {
    const reason = namespaceRailReason({ ...ctx.rails, optIn: false }, namespace, {});
    if (reason !== undefined) throw new BroadsideError("BRD_REFUSED_BY_RAIL", `--namespace: ${reason}`);
  }
}

/** One shot: ledger record first, then the fault, then the record closed with what happened. */
async function fireAt(
  ctx: EngineContext,
  request: PodChaosRequest,
  facts: PodFacts,
  pod: V1Pod,
  session: RecoverySession | undefined,
): Promise<Shot> {
  const now = ctx.clock.now();
  const pending = await ctx.ledger.create({
    id: newRecordId(now),
    faultKind: request.fault.kind,
    target: { apiVersion: "v1", kind: "Pod", namespace: facts.namespace, name: facts.name, uid: facts.uid },
    path: "/metadata/uid",
    original: facts.uid,
    injected: ABSENT,
    sensitive: false,
    createdAt: now,
    // Nothing to revert; the deadline only tells other processes when this record may be tidied up.
    deadline: now + request.timeout.milliseconds,
    actor: ctx.actor,
    state: "pending",
  });
  session?.requested(facts.uid);
  const grace = optional("gracePeriodSeconds", request.gracePeriodSeconds);
  const outcome = await request.fault
    .fire(ctx, pod, grace)
    .catch((error: unknown) => failedShot(error, ctx.clock.now()));
  session?.fired(facts.uid, outcome);
  ctx.progress(
    `  ${request.fault.kind} ${facts.namespace}/${facts.name}: ${outcome.accepted ? "accepted" : outcome.reason}`,
  );
  await closeShotRecord(ctx, pending, outcome);
  return { pod: facts, ledgerId: pending.id, outcome };
}

async function closeShotRecord(
  ctx: EngineContext,
  pending: LedgerRecord,
  outcome: ShotOutcome,
): Promise<void> {
  const closed = outcome.accepted
    ? closeRecord(markApplied(pending), {
        kind: "target-gone",
        at: outcome.at,
        detail: `deleted by ${pending.faultKind}`,
      })
    : closeRecord(pending, { kind: "never-applied", at: outcome.at, detail: outcome.reason });
  try {
    await ctx.ledger.update(closed);
  } catch (error: unknown) {
    // A `halt` or `recover` in another process closed it first: the cluster state is the same.
    if (!(error instanceof ConflictError)) throw error;
  }
}
