import type { V1Pod } from "@kubernetes/client-node";
import type { Duration } from "../core/duration.js";
import { BroadsideError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import type { LedgerDraft, LedgerRecord, Outcome } from "../core/ledger/record.js";
import { ABSENT } from "../core/ledger/record.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError } from "../core/ledger/store.js";
import { volleyOutcome, volleysOf } from "../core/ledger/volley.js";
import type { Admission } from "../core/limits/down-cap.js";
import { ShotLimiter } from "../core/limits/shot-limiter.js";
import { optional } from "../core/objects.js";
import { failedShot, type ShotOutcome } from "../core/shot.js";
import { planTargets } from "../core/targeting/plan.js";
import { namespaceRailReason, workloadOf } from "../core/targeting/rails.js";
import type { Mode, PodFacts, Selector, TargetPlan } from "../core/targeting/types.js";
import type { PodFault } from "../faults/types.js";
import { newRecordId } from "../kube/ledger-store.js";
import type { GatheredPods, NamespaceScope } from "../kube/pod-facts.js";
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
  /**
   * Told the shots once every one is answered, before recovery is waited for: the agent writes the
   * status (and so notifies "injected") when the fault is in, not only once it has healed.
   */
  readonly onShots?: (plan: TargetPlan, shots: readonly Shot[]) => Promise<void>;
  /** Told how many shots go out, then each answer as it arrives: the CLI's progress line. */
  readonly progress?: ShotProgress;
}

export interface ShotProgress {
  planned(total: number): void;
  answered(outcome: ShotOutcome): void;
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
  const { gathered, planned } = await gatherAndPlan(ctx, request);
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
    return await shootAndWatch(ctx, request, plan, targetsOf(plan.selected, gathered));
  } finally {
    admission.release();
  }
}

/** What a pod fault's targets are chosen by: where, which pods, how many. */
export interface PodChoice {
  readonly scope: NamespaceScope;
  readonly selector: Selector;
  readonly mode: Mode;
}

/**
 * The pods of the scope and the plan over them (selectors, rails, mode, the blast-radius cap within the
 * run), as every pod fault starts; a protected namespace named outright is refused first.
 */
export async function gatherAndPlan(
  ctx: EngineContext,
  choice: PodChoice,
): Promise<{ gathered: GatheredPods; planned: TargetPlan }> {
  refuseProtectedScope(ctx, choice.scope);
  // "All namespaces" means all this process may act in: an agent in namespaced mode lists only its own.
  const scope = choice.scope === "all" ? ctx.rails.watchedNamespaces : choice.scope;
  const gathered = await ctx.podFacts.gather(scope);
  const planned = planTargets(
    gathered.facts,
    choice.selector,
    choice.mode,
    ctx.rails,
    ctx.random,
    gathered.index,
  );
  return { gathered, planned };
}

/** The plan with the pods another run holds down moved to the exclusions. */
export function admittedPlan(plan: TargetPlan, admission: Admission): TargetPlan {
  if (admission.dropped.length === 0) return plan;
  const warnings = [
    ...plan.warnings,
    `${admission.dropped.length} chosen pod(s) left out: their workload has pods down from other shots`,
  ];
  return { selected: admission.admitted, excluded: [...plan.excluded, ...admission.dropped], warnings };
}

/**
 * Each chosen pod's facts with the pod they were read from (facts[i] describes pods[i]). A few are found
 * by reference in the facts array, which costs next to nothing at 10,000 pods; many through a map.
 */
export function targetsOf(selected: readonly PodFacts[], gathered: GatheredPods): Target[] {
  const positions =
    selected.length <= 16
      ? selected.map((facts) => gathered.facts.indexOf(facts))
      : positionsByMap(selected, gathered.facts);
  return selected.map((facts, at) => ({ facts, pod: gathered.pods[positions[at] ?? -1] ?? {} }));
}

function positionsByMap(selected: readonly PodFacts[], all: readonly PodFacts[]): number[] {
  const chosen = new Set(selected);
  const positions = new Map<PodFacts, number>();
  all.forEach((facts, position) => {
    if (chosen.has(facts)) positions.set(facts, position);
  });
  return selected.map((facts) => positions.get(facts) ?? -1);
}

async function shootAndWatch(
  ctx: EngineContext,
  request: PodChaosRequest,
  plan: TargetPlan,
  targets: readonly Target[],
): Promise<PodChaosResult> {
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
    request.progress?.planned(targets.length);
    const shots = await fireAll(ctx, request, targets, session);
    const apiRequests = ctx.apiRequests();
    await request.onShots?.(plan, shots);
    if (session !== undefined) ctx.progress(`waiting for recovery (up to ${request.timeout.toString()})...`);
    return { plan, shots, recovery: await session?.finish(), apiRequests };
  } finally {
    await session?.close();
  }
}

export type Target = { readonly facts: PodFacts; readonly pod: V1Pod };

/** Volleys in flight at once: the next volley's record is written while this one's shots go out. */
const volleysInFlight = 2;

/** How often a long run reads the kill switch again, between volleys (ms). */
const haltReadIntervalMs = 5_000;

/**
 * In volleys (ADR 0016): one ledger record per volley of up to 50 pods of one namespace, written before
 * its shots, which then go out at once; two volleys in flight, so the first DELETE follows the first
 * record and the rate limit stays busy. A paced run shoots one pod at a time instead, each with its own
 * record, when the ShotLimiter allows it.
 */
async function fireAll(
  ctx: EngineContext,
  request: PodChaosRequest,
  targets: readonly Target[],
  session: RecoverySession | undefined,
): Promise<Shot[]> {
  if (request.pace !== undefined) return firePaced(ctx, request, request.pace, targets, session);
  const volleys = volleysOf(targets.map((target) => ({ ...target, namespace: target.facts.namespace })));
  const shots: Shot[][] = [];
  const halted = haltReader(ctx);
  let next = 0;
  let stopped = false;
  const volleyLoop = async (): Promise<void> => {
    try {
      // One loop failing (the switch held, a ledger write refused) stops the other after its volley.
      for (let index = next++; index < volleys.length && !stopped; index = next++) {
        await halted();
        shots[index] = await fireVolley(ctx, request, volleys[index] ?? [], session);
      }
    } catch (error: unknown) {
      stopped = true;
      throw error;
    }
  };
  const loops = await Promise.allSettled(Array.from({ length: volleysInFlight }, volleyLoop));
  const failed = loops.find((loop) => loop.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return shots.flat();
}

/**
 * A long run (6,000 pods take two minutes at 50 QPS) stops between volleys once the kill switch is held:
 * it is read again when `haltReadIntervalMs` have passed, and every volley waits for the same read, so
 * none starts after a read that found the switch held.
 */
function haltReader(ctx: EngineContext): () => Promise<void> {
  let readAt = ctx.clock.now();
  let read = Promise.resolve();
  return () => {
    if (ctx.clock.now() - readAt >= haltReadIntervalMs) {
      readAt = ctx.clock.now();
      read = refuseWhileHalted(ctx.halt);
    }
    return read;
  };
}

async function firePaced(
  ctx: EngineContext,
  request: PodChaosRequest,
  pace: NonNullable<PodChaosRequest["pace"]>,
  targets: readonly Target[],
  session: RecoverySession | undefined,
): Promise<Shot[]> {
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
  const pending = await createRecord(ctx, draftFor(ctx, request, facts));
  const outcome = await shoot(ctx, request, { facts, pod }, session);
  await closeShotRecord(ctx, pending, outcome);
  return { pod: facts, ledgerId: pending.id, outcome };
}

/**
 * A volley: one record listing every pod, then all their shots at once, then the record closed with each
 * pod's outcome. A volley of one pod is a record of one target, as every record was before volleys.
 */
async function fireVolley(
  ctx: EngineContext,
  request: PodChaosRequest,
  volley: readonly Target[],
  session: RecoverySession | undefined,
): Promise<Shot[]> {
  const [first] = volley;
  if (first === undefined) return [];
  if (volley.length === 1) return [await fireAt(ctx, request, first.facts, first.pod, session)];
  const pending = await createRecord(ctx, {
    ...draftFor(ctx, request, first.facts),
    volley: volley.map(({ facts }) => ({ name: facts.name, uid: facts.uid })),
  });
  const shots = await Promise.all(
    volley.map(async (target) => ({
      facts: target.facts,
      outcome: await shoot(ctx, request, target, session),
    })),
  );
  const pods = shots.map(({ facts, outcome }) => ({
    name: facts.name,
    uid: facts.uid,
    outcome: podOutcome(outcome),
  }));
  const last = Math.max(...shots.map(({ outcome }) => outcome.at));
  const closing = volleyOutcome(pods, last, `${request.fault.kind} volley`);
  const shot = { ...pending, volley: pods };
  await storeClosed(
    ctx,
    closing.kind === "never-applied" ? closeRecord(shot, closing) : closeRecord(markApplied(shot), closing),
  );
  return shots.map(({ facts, outcome }) => ({ pod: facts, ledgerId: pending.id, outcome }));
}

/**
 * Writes the record; an id taken already (two ids of one second share 6 random hex digits: a fan-out
 * writes 50 records a second) is drawn again, rather than failing the run.
 */
async function createRecord(ctx: EngineContext, draft: LedgerDraft): Promise<LedgerRecord> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await ctx.ledger.create(attempt === 1 ? draft : { ...draft, id: newRecordId(draft.createdAt) });
    } catch (error: unknown) {
      if (!(error instanceof ConflictError) || attempt >= 3) throw error;
    }
  }
}

/** The record of a shot at one pod, before the shot: the pod's uid is going away. */
function draftFor(ctx: EngineContext, request: PodChaosRequest, facts: PodFacts): LedgerDraft {
  const now = ctx.clock.now();
  return {
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
  };
}

/** The shot itself, its record written already: told to the recovery session and the progress. */
async function shoot(
  ctx: EngineContext,
  request: PodChaosRequest,
  { facts, pod }: Target,
  session: RecoverySession | undefined,
): Promise<ShotOutcome> {
  session?.requested(facts.uid);
  const grace = optional("gracePeriodSeconds", request.gracePeriodSeconds);
  const outcome = await request.fault
    .fire(ctx, pod, grace)
    .catch((error: unknown) => failedShot(error, ctx.clock.now()));
  session?.fired(facts.uid, outcome);
  ctx.progress(
    `  ${request.fault.kind} ${facts.namespace}/${facts.name}: ${outcome.accepted ? "accepted" : outcome.reason}`,
  );
  request.progress?.answered(outcome);
  return outcome;
}

/** How much of a refusal a volley keeps per pod: 50 long error messages must not fill the ConfigMap. */
const volleyDetailLimit = 500;

/** A volley pod's outcome, as its own record would have been closed. */
function podOutcome(outcome: ShotOutcome): Outcome {
  if (outcome.accepted) return { kind: "target-gone", at: outcome.at };
  const detail =
    outcome.reason.length > volleyDetailLimit
      ? `${outcome.reason.slice(0, volleyDetailLimit)}...`
      : outcome.reason;
  return { kind: "never-applied", at: outcome.at, detail };
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
  await storeClosed(ctx, closed);
}

async function storeClosed(ctx: EngineContext, closed: LedgerRecord): Promise<void> {
  try {
    await ctx.ledger.update(closed);
  } catch (error: unknown) {
    // A `halt` or `recover` in another process closed it first: the cluster state is the same.
    if (!(error instanceof ConflictError)) throw error;
  }
}
