import { Duration } from "../core/duration.js";
import { usageError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { deferred } from "../core/deferred.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { checkNamespaceRails, recoverOwn, runObjectChaos } from "../engine/object-chaos.js";
import { gatherAndPlan, runPodChaos } from "../engine/pod-chaos.js";
import { scopeOf } from "../experiments/run/runner.js";
import { planObjectDelete } from "../faults/object-delete.js";
import { planObjectFault } from "../faults/object-registry.js";
import { podKill } from "../faults/pod-kill.js";
import type { PlannedChange } from "../faults/types.js";
import { getAtPointer } from "../kube/field-access.js";
import type { DuelFile, DuelLeg, ObjectAttack, PodAttack, Attack } from "./file.js";
import { classifyHealer, type GitOpsDefender } from "./gitops.js";
import type { DuelObserver } from "./metrics.js";
import { PodStartWatch, startsWhile, type Readers } from "./pod-starts.js";
import type { AttackOutcome } from "./scoreboard.js";

/**
 * A duel (issue 13, ADR 0034): per leg, the defender's interval is set through the engine (a ledger
 * record, reverted at the leg's end), then each round fires every attack at once through the engine's
 * fault paths, each watched until its deadline or a heal; who restored it, and when, comes from the watch
 * event of the restoring write. Everything is planned (read only) before the first mutation.
 */

export interface DuelDeps {
  readonly ctx: EngineContext;
  readonly defender: GitOpsDefender;
  /** Resolves on Ctrl-C: the attacks in flight are reverted at once and no new one starts. */
  readonly stop: Promise<void>;
  /** Told of each leg and each attack's end as they happen (the duel's metrics). */
  readonly observer?: DuelObserver;
}

export interface DuelRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly outcomes: readonly AttackOutcome[];
  /** The interval changes made and reverted, per leg. */
  readonly intervals: readonly IntervalChange[];
  /** True when Ctrl-C cut the duel short. */
  readonly interrupted: boolean;
}

export interface IntervalChange {
  readonly leg: string;
  readonly from: string | null;
  readonly to: string;
  readonly ledgerIds: readonly string[];
  readonly reverted: boolean;
}

/** How long a defender may take to reconcile a new interval before the leg is given up. */
const reconcileTimeoutMs = 60_000;
/** The margin of an interval record's deadline past the leg's planned end, for a crash mid-leg. */
const legMarginMs = 5 * 60_000;

interface Planned {
  readonly attack: Attack;
  readonly index: number;
  /** Whether Git defines what the attack changes, read before any attack; null for a pod kill. */
  readonly gitDefines: boolean | null;
  readonly readers: Readers | undefined;
  readonly namespace: string;
  /** What the attack changes, as planned now. */
  readonly description: string;
}

function paramNames(index: number): (param: string | undefined) => string {
  const at = `spec.attacks[${index}].params`;
  return (param) => (param === undefined ? at : `${at}.${param}`);
}

/** Every attack planned against the cluster as it is (reads only): the duel's check before any write. */
async function planAll(deps: DuelDeps, file: DuelFile): Promise<Planned[]> {
  const planned: Planned[] = [];
  for (const [index, attack] of file.attacks.entries()) {
    planned.push(
      attack.kind === "kill-pods"
        ? await planPodAttack(deps.ctx, attack, index)
        : await planObjectAttack(deps, attack, index),
    );
  }
  return planned;
}

async function planObjectAttack(
  deps: DuelDeps,
  attack: ObjectAttack & { readonly name: string },
  index: number,
): Promise<Planned> {
  const changes = await planAttackChanges(deps.ctx, attack, index);
  await checkNamespaceRails(deps.ctx, changes);
  const [first] = changes;
  if (first === undefined) throw usageError(paramNames(index)(undefined), "the attack would change nothing");
  const object = await deps.ctx.objects.read(first.target);
  const gitDefines =
    object !== undefined &&
    changes.every((change) => changedFields(change).every((path) => deps.defender.defines(object, path)));
  const readers: Readers =
    first.target.kind === "ConfigMap"
      ? { kind: "configmap", namespace: first.target.namespace, name: first.target.name }
      : { kind: "workload", namespace: first.target.namespace, matchLabels: matchLabelsOf(object) };
  const description = changes.map((change) => change.description).join("; ");
  return { attack, index, gitDefines, readers, namespace: first.target.namespace, description };
}

/**
 * The fields a change writes: a squeeze writes the limits inside the resources it replaces; a delete
 * takes the whole object, which Git defines when the controller's apply owns any of its metadata (Flux
 * labels everything it applies).
 */
function changedFields(change: PlannedChange): string[] {
  if (change.faultKind === "object-delete") return ["/metadata"];
  if (change.faultKind !== "resource-squeeze") return [change.path];
  return [`${change.path}/limits/cpu`, `${change.path}/limits/memory`];
}

function matchLabelsOf(object: unknown): Readonly<Record<string, string>> {
  const labels =
    object === undefined ? undefined : getAtPointer(object as never, "/spec/selector/matchLabels");
  return typeof labels === "object" && labels !== null && !Array.isArray(labels)
    ? (labels as Record<string, string>)
    : {};
}

function planAttackChanges(
  ctx: EngineContext,
  attack: ObjectAttack,
  index: number,
): Promise<PlannedChange[]> {
  const names = paramNames(index);
  switch (attack.kind) {
    case "drift":
    case "remove-key":
      return planObjectFault("config-drift", ctx.objects, attack.params, names);
    case "squeeze":
      return planObjectFault("resource-squeeze", ctx.objects, attack.params, names);
    case "scale":
      return planObjectFault("scale", ctx.objects, attack.params, names);
    case "delete":
      return planObjectDelete(ctx.objects, attack.params, names);
  }
}

async function planPodAttack(
  ctx: EngineContext,
  attack: PodAttack & { name: string },
  index: number,
): Promise<Planned> {
  const { planned } = await gatherAndPlan(ctx, {
    scope: scopeOf(attack),
    selector: attack.selector,
    mode: attack.mode,
  });
  if (planned.selected.length === 0) {
    throw usageError(
      `spec.attacks[${index}].params.selector`,
      `selects no pod (${planned.excluded.length} left out by selectors, rails or mode)`,
    );
  }
  const namespace = planned.selected[0]?.namespace ?? "";
  const pods = planned.selected.map((pod) => `${pod.namespace}/${pod.name}`).join(", ");
  return {
    attack,
    index,
    gitDefines: null,
    readers: undefined,
    namespace,
    description: `pod kill (now: ${pods})`,
  };
}

function gitWords(gitDefines: boolean | null): string {
  if (gitDefines === null) return "healed by Kubernetes, not GitOps";
  return gitDefines ? "Git defines it" : "GitOps cannot heal this: Git does not define it";
}

/** The duel's plan, for --dry-run: every check runDuel makes before its first write, and no write. */
export async function planDuel(deps: DuelDeps, file: DuelFile): Promise<string[]> {
  await deps.defender.check();
  const planned = await planAll(deps, file);
  const lines = [`duel ${file.name}: Broadside vs ${deps.defender.description}`];
  for (const leg of file.legs) {
    const [change] = await deps.defender.planInterval(leg.interval);
    const interval =
      change === undefined ? `interval ${leg.interval.toString()} (already set)` : change.description;
    lines.push(
      `leg ${leg.name}: ${interval}; ${leg.rounds} round(s), each attack reverted after ${leg.deadline.toString()}`,
    );
  }
  for (const attack of planned) {
    lines.push(
      `attack ${attack.attack.name} (${attack.attack.kind}): ${attack.description}; ${gitWords(attack.gitDefines)}`,
    );
  }
  return lines;
}

/** Runs the duel; the caller renders the report from what it returns. */
export async function runDuel(deps: DuelDeps, file: DuelFile): Promise<DuelRun> {
  const { ctx, defender } = deps;
  const startedAt = ctx.clock.now();
  await defender.check();
  const planned = await planAll(deps, file);
  for (const leg of file.legs) await defender.planInterval(leg.interval);
  await refuseWhileHalted(ctx.halt);
  const pods = await PodStartWatch.start(
    ctx.watches,
    ctx.clock,
    planned.map((attack) => attack.namespace),
  );
  const state = { interrupted: false };
  void deps.stop.then(() => {
    state.interrupted = true;
  });
  const outcomes: AttackOutcome[] = [];
  const intervals: IntervalChange[] = [];
  try {
    for (const leg of file.legs) {
      if (state.interrupted) break;
      const result = await runLeg(deps, leg, planned, pods, () => state.interrupted);
      outcomes.push(...result.outcomes);
      intervals.push(result.interval);
    }
  } finally {
    await pods.stop();
  }
  return { startedAt, endedAt: ctx.clock.now(), outcomes, intervals, interrupted: state.interrupted };
}

async function runLeg(
  deps: DuelDeps,
  leg: DuelLeg,
  planned: readonly Planned[],
  pods: PodStartWatch,
  stopped: () => boolean,
): Promise<{ outcomes: AttackOutcome[]; interval: IntervalChange }> {
  const { ctx, defender } = deps;
  const changes = await defender.planInterval(leg.interval);
  const budget = Duration.ofMilliseconds(
    leg.rounds * (leg.deadline.milliseconds + reconcileTimeoutMs) + legMarginMs,
  );
  ctx.progress(`leg ${leg.name}: ${defender.description} reconciles every ${leg.interval.toString()}`);
  deps.observer?.legStarted(leg.interval.milliseconds);
  const set = await runObjectChaos(ctx, changes, {
    duration: budget,
    dryRun: false,
    wait: false,
    stop: deps.stop,
  });
  const outcomes: AttackOutcome[] = [];
  try {
    await defender.awaitReconciled(reconcileTimeoutMs);
    for (let round = 1; round <= leg.rounds && !stopped(); round += 1) {
      ctx.progress(`leg ${leg.name}, round ${round}/${leg.rounds}: ${planned.length} attacks`);
      outcomes.push(...(await fireRound(deps, leg, round, planned, pods)));
    }
  } catch (error: unknown) {
    // The interval goes back before the error does; the attacks reverted themselves.
    await recoverOwn(ctx, set.records);
    throw error;
  }
  const recovery = await recoverOwn(ctx, set.records);
  return { outcomes, interval: intervalChange(leg, changes, set.records, recovery) };
}

function intervalChange(
  leg: DuelLeg,
  changes: readonly PlannedChange[],
  records: readonly LedgerRecord[],
  recovery: readonly RecoverySummary[],
): IntervalChange {
  const original = changes[0]?.original;
  return {
    leg: leg.name,
    from: typeof original === "string" ? original : null,
    to: leg.interval.toString(),
    ledgerIds: records.map((record) => record.id),
    reverted: recovery.every((summary) => summary.result !== "left-open"),
  };
}

/**
 * Every attack of a round, one injection after the other and then all held at once: two attacks on one
 * object must not race (adding a key pins the object's resourceVersion, which the other's patch moves).
 * Each attack's own revert runs before its result is in, so an error is thrown only once every attack of
 * the round is over.
 */
async function fireRound(
  deps: DuelDeps,
  leg: DuelLeg,
  round: number,
  planned: readonly Planned[],
  pods: PodStartWatch,
): Promise<AttackOutcome[]> {
  const running: Promise<AttackOutcome>[] = [];
  for (const attack of planned) {
    const injected = deferred<undefined>();
    const ctx: EngineContext = {
      ...deps.ctx,
      failpoint: (name) => {
        deps.ctx.failpoint(name);
        if (name === "injected") injected.resolve(undefined);
      },
    };
    const outcome = fire({ ...deps, ctx }, leg, round, attack, pods);
    running.push(outcome);
    // A pod kill writes no object; an attack that failed before its injection lets the next one go.
    if (attack.attack.kind === "kill-pods") injected.resolve(undefined);
    await Promise.race([
      injected.promise,
      outcome.then(
        () => undefined,
        () => undefined,
      ),
    ]);
  }
  const settled = await Promise.allSettled(running);
  const failed = settled.find((result) => result.status === "rejected");
  if (failed !== undefined) throw failed.reason;
  return settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
}

async function fire(
  deps: DuelDeps,
  leg: DuelLeg,
  round: number,
  planned: Planned,
  pods: PodStartWatch,
): Promise<AttackOutcome> {
  const base = { leg: leg.name, round, attack: planned.attack.name, kind: planned.attack.kind };
  const attack = planned.attack;
  const outcome =
    attack.kind === "kill-pods"
      ? await firePods(deps.ctx, leg, attack)
      : await fireObject(deps, leg, attack, planned.index);
  const to = outcome.restoredAt ?? deps.ctx.clock.now();
  const podsStarted =
    planned.readers === undefined
      ? null
      : startsWhile(pods.fold.starts, planned.readers, outcome.injectedAt, to).length;
  const ended: AttackOutcome = { ...base, gitDefines: planned.gitDefines, podsStarted, ...outcome };
  deps.observer?.attackEnded(ended);
  return ended;
}

type Fired = Pick<
  AttackOutcome,
  "description" | "injectedAt" | "restoredAt" | "restoredBy" | "healer" | "ledgerIds" | "detail"
>;

async function fireObject(deps: DuelDeps, leg: DuelLeg, attack: ObjectAttack, index: number): Promise<Fired> {
  const { ctx } = deps;
  const changes = await planAttackChanges(ctx, attack, index);
  const result = await runObjectChaos(ctx, changes, {
    duration: leg.deadline,
    dryRun: false,
    wait: true,
    stop: deps.stop,
  });
  const injectedAt = Math.min(...result.records.map((record) => record.createdAt));
  return {
    description: changes.map((change) => change.description).join("; "),
    injectedAt,
    ledgerIds: result.records.map((record) => record.id),
    ...restoration(result.recovery),
  };
}

/** Who restored an attack's changes, and when: the last of its records to be restored decides. */
function restoration(
  recovery: readonly RecoverySummary[],
): Pick<Fired, "restoredAt" | "restoredBy" | "healer" | "detail"> {
  const open = recovery.find((summary) => summary.result === "left-open");
  if (open !== undefined || recovery.length === 0) {
    return { restoredAt: null, restoredBy: null, healer: "nobody", ...optional("detail", open?.detail) };
  }
  const last = recovery.reduce((latest, summary) => (summary.at > latest.at ? summary : latest));
  const by = last.result === "reverted" ? "broadside" : (last.by ?? null);
  return {
    restoredAt: last.at,
    restoredBy: by,
    healer: by === null ? "nobody" : classifyHealer(by),
    ...optional("detail", last.result === "reverted" ? undefined : last.detail),
  };
}

async function firePods(ctx: EngineContext, leg: DuelLeg, attack: PodAttack): Promise<Fired> {
  const injectedAt = ctx.clock.now();
  const result = await runPodChaos(ctx, {
    fault: podKill,
    scope: scopeOf(attack),
    selector: attack.selector,
    mode: attack.mode,
    dryRun: false,
    wait: true,
    timeout: leg.deadline,
  });
  const names = result.shots.map((shot) => `${shot.pod.namespace}/${shot.pod.name}`);
  const workloads = result.recovery?.workloads ?? [];
  const restored = workloads.length > 0 && workloads.every((workload) => workload.restoredAt !== undefined);
  const restoredAt = restored ? Math.max(...workloads.map((workload) => workload.restoredAt ?? 0)) : null;
  return {
    description: `pod kill ${names.join(", ")}`,
    injectedAt,
    restoredAt,
    // The replacement is the ReplicaSet's, a controller of kube-controller-manager.
    restoredBy: restoredAt === null ? null : "kube-controller-manager",
    healer: restoredAt === null ? "nobody" : "kubernetes",
    ledgerIds: result.shots.map((shot) => shot.ledgerId),
    ...optional("detail", restoredAt === null ? "not restored within the deadline" : undefined),
  };
}
