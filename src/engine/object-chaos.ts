import type { Duration } from "../core/duration.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { refuseWhileHalted } from "../core/halt.js";
import type { Actor, LedgerDraft, LedgerRecord, OpenRecord, RecordOwner } from "../core/ledger/record.js";
import { recoverExpired, type RecoverySummary } from "../core/ledger/recovery.js";
import { closeRecord, markApplied } from "../core/ledger/state-machine.js";
import { ConflictError, type LedgerStore } from "../core/ledger/store.js";
import { optional } from "../core/objects.js";
import { namespaceRailReason } from "../core/targeting/rails.js";
import type { PlannedChange } from "../faults/types.js";
import { kubeFailure } from "../kube/api-errors.js";
import { newRecordId } from "../kube/ledger-store.js";
import type { EngineContext } from "./context.js";
import { HealWatch } from "./heal-watch.js";

export interface ObjectChaosOptions {
  readonly duration: Duration;
  readonly dryRun: boolean;
  /** Stay until the deadline (or `stop`), then revert; otherwise leave the revert to the ledger. */
  readonly wait: boolean;
  /** Resolves when the user asks to stop early (Ctrl-C): revert now. */
  readonly stop: Promise<void>;
  /** The in-cluster resource making the change (the agent's object faults), written into each record. */
  readonly owner?: RecordOwner;
}

export interface ObjectChaosResult {
  readonly changes: readonly PlannedChange[];
  readonly records: readonly LedgerRecord[];
  readonly recovery: readonly RecoverySummary[];
}

/** Refuses changes to protected or (in opt-in mode) unannotated namespaces, before anything is written. */
export async function checkNamespaceRails(
  ctx: EngineContext,
  changes: readonly PlannedChange[],
): Promise<void> {
  for (const namespace of new Set(changes.map((change) => change.target.namespace))) {
    const reason = namespaceRailReason(ctx.rails, namespace, await ctx.namespaces.annotations(namespace));
    if (reason !== undefined) throw new BroadsideError("BRD_REFUSED_BY_RAIL", `--namespace: ${reason}`);
  }
}

/**
 * The life of an object fault: rails, a ledger record per change written before the change, the
 * change (conditional on the target still holding the original), then at the deadline or on stop the
 * revert (conditional on the target still holding our value; otherwise an external heal is recorded).
 */
export async function runObjectChaos(
  ctx: EngineContext,
  changes: readonly PlannedChange[],
  options: ObjectChaosOptions,
): Promise<ObjectChaosResult> {
  await checkNamespaceRails(ctx, changes);
  if (options.dryRun) return { changes, records: [], recovery: [] };
  await refuseWhileHalted(ctx.halt);
  const deadline = ctx.clock.now() + options.duration.milliseconds;
  const records: LedgerRecord[] = [];
  try {
    for (const change of changes) records.push(await inject(ctx, change, deadline, options.owner));
  } catch (error: unknown) {
    // Never leave half an experiment behind: what was applied is reverted at once.
    await recoverOwn(ctx, records);
    throw error;
  }
  ctx.failpoint("injected");
  if (!options.wait) return { changes, records, recovery: [] };
  return { changes, records, recovery: await waitThenRecover(ctx, records, deadline, options.stop) };
}

/**
 * Waits for the deadline, Ctrl-C, or every change healed by someone else, watching the targets so a
 * heal is recorded at the moment it happened; then recovers these records.
 */
async function waitThenRecover(
  ctx: EngineContext,
  records: readonly LedgerRecord[],
  deadline: number,
  stop: Promise<void>,
): Promise<readonly RecoverySummary[]> {
  const heals = await HealWatch.start(ctx, ctx.targets, records);
  const deadlineWait = new AbortController();
  try {
    ctx.progress(`injected; reverting at ${new Date(deadline).toISOString()} (Ctrl-C reverts now)`);
    const untilDeadline = ctx.clock.sleep(Math.max(0, deadline - ctx.clock.now()), deadlineWait.signal);
    await Promise.race([untilDeadline, stop, heals.allHealed]);
    return await recoverOwn({ ...ctx, targets: heals }, records);
  } finally {
    deadlineWait.abort();
    await heals.stop();
  }
}

/** The record written before a planned change is applied. */
export function ledgerDraft(
  change: PlannedChange,
  now: number,
  deadline: number,
  actor: Actor,
  owner?: RecordOwner,
): LedgerDraft {
  return {
    id: newRecordId(now),
    faultKind: change.faultKind,
    target: change.target,
    path: change.path,
    original: change.original,
    injected: change.injected,
    sensitive: change.sensitive,
    createdAt: now,
    deadline,
    actor,
    ...optional("owner", owner),
    state: "pending",
  };
}

async function inject(
  ctx: EngineContext,
  change: PlannedChange,
  deadline: number,
  owner: RecordOwner | undefined,
): Promise<LedgerRecord> {
  const pending = await ctx.ledger.create(ledgerDraft(change, ctx.clock.now(), deadline, ctx.actor, owner));
  ctx.failpoint("record-written");
  try {
    await ctx.targets.apply(asOpen(pending));
  } catch (error: unknown) {
    await ctx.ledger.update(
      closeRecord(pending, { kind: "never-applied", at: ctx.clock.now(), detail: describeError(error) }),
    );
    throw notApplied(change, error);
  }
  ctx.failpoint("applied");
  ctx.progress(`  ${change.description} (ledger ${pending.id})`);
  return ctx.ledger.update(markApplied(pending));
}

/**
 * Why a change was not applied: BRD_CONFLICT only when its precondition failed (the object changed
 * meanwhile); any other failure keeps its own code (the API refused the value, the server did not answer).
 */
function notApplied(change: PlannedChange, error: unknown): BroadsideError {
  if (error instanceof ConflictError) {
    return new BroadsideError(
      "BRD_CONFLICT",
      `${change.description}: not applied, the object changed meanwhile; nothing was written`,
      { cause: error },
    );
  }
  return kubeFailure(`${change.description}: not applied, nothing was written`, error);
}

/** A record the store just created is pending; the type says it may be any state. */
function asOpen(record: LedgerRecord): OpenRecord {
  if (record.state === "closed")
    throw new BroadsideError("BRD_INTERNAL", `ledger record ${record.id} is closed already`);
  return record;
}

/** Reverts (or closes as healed/gone) exactly these records, deadline or not. */
export async function recoverOwn(
  ctx: EngineContext,
  records: readonly LedgerRecord[],
): Promise<readonly RecoverySummary[]> {
  const ids = new Set(records.map((record) => record.id));
  return recoverExpired(onlyRecords(ctx.ledger, ids), ctx.targets, ctx.clock, { includeUnexpired: true });
}

/** A view of the ledger that lists only the given records, so recovering them leaves others alone. */
function onlyRecords(ledger: LedgerStore, ids: ReadonlySet<string>): LedgerStore {
  return {
    create: (draft) => ledger.create(draft),
    update: (record) => ledger.update(record),
    get: (id) => ledger.get(id),
    list: async (filter) => (await ledger.list(filter)).filter((record) => ids.has(record.id)),
    prune: (options) => ledger.prune(options),
  };
}
