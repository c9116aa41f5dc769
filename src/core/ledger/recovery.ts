import { describeError } from "../errors.js";
import type { Clock } from "../clock.js";
import { optional } from "../objects.js";
import type { LedgerRecord, OpenRecord, Outcome, TargetRef, VolleyPod } from "./record.js";
import type { Observation, RecoveryDecision } from "./state-machine.js";
import { closeRecord, decideRecovery, markApplied } from "./state-machine.js";
import type { LedgerStore } from "./store.js";
import { ConflictError } from "./store.js";
import { memberRecord, volleyOutcome } from "./volley.js";

/** The two things recovery needs from the cluster; the kube adapter implements them per fault kind. */
export interface TargetAccess {
  /** What the record's target holds at the record's path now. */
  read(record: OpenRecord): Promise<Observation>;
  /**
   * Writes `record.original` back, conditionally: only if the object still has `record.target.uid` and
   * still holds exactly `record.injected` at the path (a JSON Patch `test` does this). Otherwise, or if the
   * object is gone, it throws ConflictError, and recovery reads again. A precondition on resourceVersion
   * would also work, but conflicts on every status update of a busy object.
   */
  revert(record: OpenRecord): Promise<void>;
}

export interface RecoveryOptions {
  /** True for `halt`: revert every open record now, not only those past their deadline. */
  readonly includeUnexpired: boolean;
  /** Reads-and-decides per record before giving up on a record that keeps conflicting. Default 3. */
  readonly maxAttempts?: number;
  /**
   * Records this process may act on; the others are left as they are, for a process that may. An agent
   * in namespaced mode has no rights outside its namespaces: trying there would only fail with 403 on
   * every pass. Default: every record.
   */
  readonly inScope?: (record: LedgerRecord) => boolean;
}

export type RecoveryResult =
  | Outcome["kind"]
  /** Another process closed the record first; nothing was written by this one. */
  | "closed-elsewhere"
  /** An error or endless conflicts: the record stays open, so the next run tries again. */
  | "left-open";

/** One line of the report: no values, so it is safe to print even for sensitive records. */
export interface RecoverySummary {
  readonly id: string;
  readonly faultKind: string;
  readonly target: TargetRef;
  readonly path: string;
  /** Epoch ms the record was written, just before its fault was applied. */
  readonly createdAt?: number;
  readonly result: RecoveryResult;
  /** Epoch ms of the outcome, or of giving up. */
  readonly at: number;
  readonly by?: string;
  readonly detail?: string;
  /** The error that left the record open, for the log. */
  readonly error?: unknown;
}

const defaultMaxAttempts = 3;

/**
 * Finishes what crashed or finished processes left behind: reverts every open record past its deadline
 * (or every open record, for halt), unless its target was healed, changed or replaced since, and closes
 * each record with its outcome. Records are handled one at a time, oldest deadline first; an error on one
 * leaves that record open and moves on. Running it again changes nothing: closed records are not listed.
 */
export async function recoverExpired(
  store: LedgerStore,
  targets: TargetAccess,
  clock: Pick<Clock, "now">,
  options: RecoveryOptions,
): Promise<readonly RecoverySummary[]> {
  const context: Context = {
    store,
    targets,
    clock,
    includeUnexpired: options.includeUnexpired,
    maxAttempts: options.maxAttempts ?? defaultMaxAttempts,
  };
  const now = clock.now();
  const open = await store.list({ state: "open" });
  const due = open
    .filter((record): record is OpenRecord => record.state !== "closed" && isDue(context, record, now))
    .filter((record) => options.inScope?.(record) ?? true)
    .sort((a, b) => a.deadline - b.deadline);
  const summaries: RecoverySummary[] = [];
  for (const record of due) summaries.push(await recoverSafely(context, record));
  return summaries;
}

interface Context {
  readonly store: LedgerStore;
  readonly targets: TargetAccess;
  readonly clock: Pick<Clock, "now">;
  readonly includeUnexpired: boolean;
  readonly maxAttempts: number;
}

function isDue(context: Context, record: LedgerRecord, now: number): boolean {
  return context.includeUnexpired || record.deadline <= now;
}

async function recoverSafely(context: Context, record: OpenRecord): Promise<RecoverySummary> {
  try {
    return record.volley === undefined
      ? await recoverRecord(context, record)
      : await recoverVolley(context, record, record.volley);
  } catch (error: unknown) {
    return leftOpen(record, context.clock.now(), describeError(error), error);
  }
}

/**
 * Decide, act, close; on a conflict, read again. Once this process has reverted the target it never
 * decides again: the target now holds the original because of us, and a fresh decision would call our
 * own revert an external heal.
 */
async function recoverRecord(context: Context, initial: OpenRecord): Promise<RecoverySummary> {
  let record = initial;
  let reverted: Outcome | undefined;
  for (let attempt = 1; attempt <= context.maxAttempts; attempt += 1) {
    const outcome = reverted ?? (await settleTarget(context, record));
    if (outcome === undefined) continue;
    if (outcome.kind === "reverted") reverted = outcome;
    const written = await writeOutcome(context, record, outcome);
    if (written.done !== undefined) return written.done;
    record = written.fresh;
    if (reverted === undefined && !isDue(context, record, context.clock.now())) {
      return leftOpen(record, context.clock.now(), "its deadline was moved by another writer");
    }
  }
  const detail = `still conflicting after ${context.maxAttempts} attempts${reverted ? "; target reverted" : ""}`;
  return leftOpen(record, context.clock.now(), detail);
}

/**
 * A volley (ADR 0016): each pod is read and decided on as a record of its own would be, and the record is
 * closed once, with every pod's outcome. A pending volley may have been cut short by a crash: pods still
 * there with their uid were never shot.
 */
async function recoverVolley(
  context: Context,
  initial: OpenRecord,
  pods: readonly VolleyPod[],
): Promise<RecoverySummary> {
  let record = initial;
  for (let attempt = 1; attempt <= context.maxAttempts; attempt += 1) {
    const settled = await settleVolley(context, record, pods);
    if (settled === undefined) continue;
    const closing = volleyOutcome(settled, context.clock.now(), "volley found open");
    const written = await writeOutcome(context, { ...record, volley: settled }, closing);
    if (written.done !== undefined) return written.done;
    record = written.fresh;
    if (!isDue(context, record, context.clock.now())) {
      return leftOpen(record, context.clock.now(), "its deadline was moved by another writer");
    }
  }
  return leftOpen(record, context.clock.now(), `still conflicting after ${context.maxAttempts} attempts`);
}

/** Every pod of the volley settled; undefined when one changed under its revert. */
async function settleVolley(
  context: Context,
  record: OpenRecord,
  pods: readonly VolleyPod[],
): Promise<VolleyPod[] | undefined> {
  const settled: VolleyPod[] = [];
  for (const pod of pods) {
    const outcome = await settleTarget(context, memberRecord(record, pod));
    if (outcome === undefined) return undefined;
    settled.push({ name: pod.name, uid: pod.uid, outcome });
  }
  return settled;
}

/** Reads the target and acts on it. Undefined when the target changed under the revert. */
async function settleTarget(context: Context, record: OpenRecord): Promise<Outcome | undefined> {
  const decision = decideRecovery(record, await context.targets.read(record));
  if (decision.action === "close") return outcomeOf(decision, context.clock.now());
  try {
    await context.targets.revert(record);
  } catch (error: unknown) {
    if (error instanceof ConflictError) return undefined;
    throw error;
  }
  return { kind: "reverted", at: context.clock.now() };
}

function outcomeOf(decision: RecoveryDecision & { action: "close" }, now: number): Outcome {
  return {
    kind: decision.outcome,
    at: decision.at ?? now,
    detail: decision.detail,
    ...optional("by", decision.by),
  };
}

type Written = { readonly done: RecoverySummary } | { readonly done?: undefined; readonly fresh: OpenRecord };

/** Closes the record; on a conflict returns the fresh record, or done if someone else closed it. */
async function writeOutcome(context: Context, record: OpenRecord, outcome: Outcome): Promise<Written> {
  // A pending record found holding the injected value was applied after all: say so before closing it.
  const applied = outcome.kind === "reverted" && record.state === "pending" ? markApplied(record) : record;
  try {
    const closed = await context.store.update(closeRecord(applied, outcome));
    return { done: summarize(closed, outcome.kind, outcome) };
  } catch (error: unknown) {
    if (!(error instanceof ConflictError)) throw error;
  }
  const fresh = await context.store.get(record.id);
  if (fresh === undefined || fresh.state === "closed") {
    return { done: closedElsewhere(record, fresh, outcome.at) };
  }
  return { fresh };
}

function closedElsewhere(record: OpenRecord, fresh: LedgerRecord | undefined, now: number): RecoverySummary {
  const other = fresh?.outcome;
  if (other === undefined) {
    return summarize(record, "closed-elsewhere", { at: now, detail: "record deleted" });
  }
  return summarize(record, "closed-elsewhere", { at: other.at, detail: `closed as ${other.kind}` });
}

function leftOpen(record: OpenRecord, at: number, detail: string, error?: unknown): RecoverySummary {
  const summary = summarize(record, "left-open", { at, detail });
  return error === undefined ? summary : { ...summary, error };
}

function summarize(
  record: LedgerRecord,
  result: RecoveryResult,
  facts: { readonly at: number; readonly by?: string; readonly detail?: string },
): RecoverySummary {
  return {
    id: record.id,
    faultKind: record.faultKind,
    target: record.target,
    path: record.path,
    createdAt: record.createdAt,
    result,
    at: facts.at,
    ...optional("by", facts.by),
    ...optional("detail", facts.detail),
  };
}
