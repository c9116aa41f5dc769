import type { z } from "zod";
import type { Duration } from "../core/duration.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { describeHold } from "../core/halt.js";
import type { LedgerRecord, OpenRecord, RecordOwner } from "../core/ledger/record.js";
import type { RecoverySummary } from "../core/ledger/recovery.js";
import { decideRecovery } from "../core/ledger/state-machine.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { recoverOwn, runObjectChaos } from "../engine/object-chaos.js";
import { planObjectFault } from "../faults/object-registry.js";
import type { ObjectFaultKind, PlannedChange } from "../faults/types.js";
import type { EventRecorder } from "../kube/events.js";
import type { FinalizerWriter } from "../kube/finalizers.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { ResourceStatus } from "./crds/status.js";
import { pausedAnnotation, type ChaosObject } from "./chaos-object.js";
import type { ChaosResource } from "./pod-chaos-reconciler.js";
import type { ReconcileResult } from "./reconcile/workers.js";
import {
  conditionOf,
  reasonOf,
  setCondition,
  type Condition,
  type ConditionChange,
  type StatusTarget,
} from "./status.js";

/**
 * The reconciler of the object faults (ConfigDrift, ResourceSqueeze, Scale; ADR 0007, ADR 0012): one
 * injection per generation, claimed in the status before the first mutation, made through the engine
 * (ledger record first, the resource as the record's owner) with the spec's duration as the deadline,
 * without waiting: the ledger reconciler reverts at the deadline, as it does for `broadside drift
 * --no-wait`. The finalizer `broadside.dev/revert` is held only while one of the resource's records is
 * open: it is added before the injection and removed once the ledger has closed them all (reverted at the
 * deadline, by `broadside recover` or `halt`, healed by someone else, or the target gone). Deleting the
 * resource reverts at once. A new generation reverts the last one's change first, then injects its own.
 */

export const revertFinalizer = "broadside.dev/revert";

/** What every object fault's spec holds besides its parameters. */
export interface ObjectFaultSpec {
  readonly duration: Duration;
}

/** The ports of an object fault's reconciler, the same for every kind. */
export interface ObjectFaultPorts {
  readonly resource: ChaosResource;
  readonly ctx: EngineContext;
  /** The informer's cache of the kind's objects. */
  readonly get: (namespace: string, name: string) => ChaosObject | undefined;
  readonly status: StatusWriter;
  readonly finalizers: FinalizerWriter;
  readonly events: EventRecorder;
  /** While the kill switch is held, how often to look again. */
  readonly haltedRetryMs: number;
  /**
   * While a revert is pending, how often the targets are looked at: a target deleted or healed by someone
   * else closes its record then, so the finalizer never outlives the target for long.
   */
  readonly pendingCheckMs: number;
  /** Told of each record closed, once, when the resource reports Recovered (for the metrics). */
  readonly onClosed?: (record: LedgerRecord) => void;
}

/**
 * What a kind adds: how its resource becomes changes. `parse` checks the spec (every problem named by its
 * field); `plan` reads the cluster and plans every change before anything is written, and may hold
 * something (the blast-radius cap's admission) until the injection is over.
 */
export interface ObjectFaultPlanner {
  readonly parse: (object: ChaosObject) => ObjectFaultSpec | BroadsideError;
  readonly plan: (object: ChaosObject, ctx: EngineContext) => Promise<PlannedFault>;
}

export interface PlannedFault {
  readonly changes: readonly PlannedChange[];
  /** Called once the injection is over, made or not. */
  readonly release?: () => void;
}

/** A plan that found nothing to change (no pod selected): the resource fails NoTarget, nothing written. */
export class NothingToInject extends Error {}

export interface ObjectFaultReconcilerDeps extends ObjectFaultPorts {
  readonly planner: ObjectFaultPlanner;
}

/** The planner of ConfigDrift, ResourceSqueeze and Scale: the spec's schema, then the fault's own module. */
export function specPlanner(fault: ObjectFaultKind, spec: z.ZodType<ObjectFaultSpec>): ObjectFaultPlanner {
  return {
    parse: (object) => parseSpec(spec, object.spec),
    plan: async (object, ctx) => ({
      changes: await planObjectFault(fault, ctx.objects, paramsOf(object), specNames),
    }),
  };
}

/** A spec checked by the schema the CRD was generated from, every problem named by its field. */
export function parseSpec<Spec>(schema: z.ZodType<Spec>, spec: unknown): Spec | BroadsideError {
  const result = schema.safeParse(spec);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = ["spec", ...(issue?.path ?? []).map(String)].join(".");
  return new BroadsideError("BRD_USAGE", `${field}: ${issue?.message ?? "invalid"}`);
}

/** The fault's parameters: the spec without its duration, checked again by the fault's own schema. */
function paramsOf(object: ChaosObject): Record<string, unknown> {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(spec).filter(([field]) => field !== "duration"));
}

export function objectFaultReconciler(deps: ObjectFaultReconcilerDeps) {
  return async (key: string): Promise<ReconcileResult> => {
    const [namespace = "", name = ""] = key.split("/");
    const object = deps.get(namespace, name);
    // Gone: nothing holds it. Whatever it still had open in the ledger is reverted at its deadline.
    if (object?.metadata?.uid === undefined) return {};
    return new ObjectFaultRun(deps, { namespace, name }, object).reconcile();
  };
}

/** A promise that never settles: the injection does not wait, so there is nothing to stop early. */
const never = new Promise<void>(() => undefined);

class ObjectFaultRun {
  private readonly generation: number;
  private readonly uid: string;
  private conditions: Condition[];
  private resourceVersion: string;
  private finalizers: readonly string[];
  /** The status's targets: the records of this generation's injection. */
  private targets: readonly StatusTarget[];

  constructor(
    private readonly deps: ObjectFaultReconcilerDeps,
    private readonly ref: { readonly namespace: string; readonly name: string },
    private readonly object: ChaosObject,
  ) {
    const { metadata = {}, status } = object;
    this.generation = metadata.generation ?? 0;
    this.uid = metadata.uid ?? "";
    this.resourceVersion = metadata.resourceVersion ?? "";
    this.finalizers = metadata.finalizers ?? [];
    this.conditions = [...(status?.conditions ?? [])];
    this.targets = status?.targets ?? [];
  }

  async reconcile(): Promise<ReconcileResult> {
    const owned = await this.ownedOpenRecords();
    if (this.object.metadata?.deletionTimestamp !== undefined) return this.whileDeleting(owned);
    if (this.claimedThisGeneration()) return this.follow(owned);
    // A new generation while the last one's change holds: revert it first, as Chaos Mesh does on an update.
    if (owned.length > 0) await this.revertNow(owned, "Superseded", "the spec changed");
    return this.startGeneration();
  }

  // ---- a new generation ----

  private async startGeneration(): Promise<ReconcileResult> {
    const held = await this.heldBack();
    if (held !== undefined) return held;
    const spec = this.deps.planner.parse(this.object);
    if (spec instanceof BroadsideError) return this.refuse("InvalidSpec", spec.message);
    let planned: PlannedFault;
    try {
      planned = await this.deps.planner.plan(this.object, this.deps.ctx);
    } catch (error: unknown) {
      return this.refuse(planReasonOf(error), describeError(error));
    }
    try {
      if (!(await this.holdFinalizer())) return {};
      await this.claim();
      return await this.inject(spec, planned.changes);
    } finally {
      planned.release?.();
    }
  }

  /** The pause annotation and the kill switch hold a new generation back (a change in place stays). */
  private async heldBack(): Promise<ReconcileResult | undefined> {
    const paused = this.object.metadata?.annotations?.[pausedAnnotation] === "true";
    const hold = paused ? undefined : await this.deps.ctx.halt.read();
    if (!paused && hold === undefined) return undefined;
    // Nothing is pending (a last generation's change was reverted above): nothing to hold the object for.
    await this.releaseFinalizer();
    if (paused) {
      const message = `${pausedAnnotation} is "true"`;
      await this.reportWithEvent([{ type: "Paused", status: "True", reason: "Paused", message }], "Normal");
      return {};
    }
    const message = hold === undefined ? "" : describeHold(hold);
    await this.reportWithEvent([{ type: "Paused", status: "True", reason: "Halted", message }], "Normal");
    return { requeueAfterMs: this.deps.haltedRetryMs };
  }

  /** Refused before anything was written: Failed, no claim, no finalizer kept. */
  private async refuse(reason: string, message: string): Promise<ReconcileResult> {
    await this.releaseFinalizer();
    await this.reportWithEvent([{ type: "Failed", status: "True", reason, message }], "Warning");
    return {};
  }

  /** Adds the finalizer before the first mutation. False when the object is gone meanwhile. */
  private async holdFinalizer(): Promise<boolean> {
    if (this.finalizers.includes(revertFinalizer)) return true;
    const finalizers = [...this.finalizers, revertFinalizer];
    const version = await this.deps.finalizers.set(this.resourceRef(), this.resourceVersion, finalizers);
    if (version === undefined) return false;
    this.resourceVersion = version;
    this.finalizers = finalizers;
    return true;
  }

  /** The generation claimed in the status, conditional on the object's version: one injection per generation. */
  private async claim(): Promise<void> {
    const conditions = this.withChanges([
      { type: "Injected", status: "Unknown", reason: "Injecting", message: "the change is being made" },
      { type: "Recovered", status: "Unknown", reason: "Injecting", message: "" },
      { type: "Paused", status: "False", reason: "Running", message: "" },
      { type: "Failed", status: "False", reason: "Running", message: "" },
    ]);
    await this.deps.status.claim(this.resourceRef(), this.resourceVersion, {
      observedGeneration: this.generation,
      conditions,
      targets: [],
    });
  }

  private async inject(spec: ObjectFaultSpec, changes: readonly PlannedChange[]): Promise<ReconcileResult> {
    let records: readonly LedgerRecord[];
    try {
      const result = await runObjectChaos(this.deps.ctx, changes, {
        duration: spec.duration,
        dryRun: false,
        wait: false,
        stop: never,
        owner: this.owner(),
      });
      records = result.records;
    } catch (error: unknown) {
      // The engine reverted whatever it had applied; the next reconcile lets the finalizer go.
      const reason = error instanceof BroadsideError ? reasonOf(error.code) : "Error";
      const message = describeError(error);
      await this.reportWithEvent(
        [
          { type: "Injected", status: "False", reason, message },
          { type: "Recovered", status: "False", reason: "NothingToRecover", message: "" },
          { type: "Failed", status: "True", reason, message },
        ],
        "Warning",
      );
      return {};
    }
    const deadline = new Date(this.deps.ctx.clock.now() + spec.duration.milliseconds).toISOString();
    const injected = `${records.length} change(s) made; reverted at ${deadline} (${spec.duration.toString()})`;
    await this.reportWithEvent(
      [
        { type: "Injected", status: "True", reason: "Injected", message: injected },
        { type: "Recovered", status: "False", reason: "RevertPending", message: `reverts at ${deadline}` },
      ],
      "Normal",
      records.map(statusTargetOf),
    );
    return { requeueAfterMs: this.deps.pendingCheckMs };
  }

  // ---- a generation already claimed ----

  private claimedThisGeneration(): boolean {
    const status = this.object.status;
    return status?.observedGeneration === this.generation && conditionOf(status, "Injected") !== undefined;
  }

  private async follow(owned: readonly OpenRecord[]): Promise<ReconcileResult> {
    if (conditionOf(this.object.status, "Injected")?.status === "Unknown") {
      // Our own report after the injection may still be on its way to the cache: ask the API server.
      if (!(await this.stillUnknown())) return {};
      await this.reportInterrupted(owned);
    }
    if (owned.length > 0) return this.whilePending(owned);
    return this.settle();
  }

  private async stillUnknown(): Promise<boolean> {
    const fresh = await this.deps.status.read(this.resourceRef());
    const now = fresh?.status as ResourceStatus | undefined;
    return now?.observedGeneration === this.generation && conditionOf(now, "Injected")?.status === "Unknown";
  }

  /** A restart or a change of leader in mid-injection: never again, but what the ledger has is followed. */
  private async reportInterrupted(owned: readonly OpenRecord[]): Promise<void> {
    const message = "the agent stopped while this generation was being injected; not run again";
    const injected: ConditionChange =
      owned.length > 0
        ? {
            type: "Injected",
            status: "True",
            reason: "Interrupted",
            message: `${message}; its ledger records are followed`,
          }
        : { type: "Injected", status: "False", reason: "Interrupted", message };
    await this.reportWithEvent(
      [injected, { type: "Failed", status: "True", reason: "Interrupted", message }],
      "Warning",
      owned.map(statusTargetOf),
    );
  }

  /**
   * A revert is pending. Records whose target is gone are closed now (no need to wait for the deadline to
   * let the finalizer go); the rest wait for the ledger reconciler. A target holding the original value
   * is left to it too: at the deadline that may be the ledger reconciler's own revert, not yet recorded,
   * which a decision made here would call an external heal.
   */
  private async whilePending(owned: readonly OpenRecord[]): Promise<ReconcileResult> {
    let left = 0;
    for (const record of owned) {
      const decision = decideRecovery(record, await this.deps.ctx.targets.read(record));
      if (decision.action === "close" && decision.outcome === "target-gone")
        await recoverOwn(this.deps.ctx, [record]);
      else left += 1;
    }
    // The ledger reconciler reverts at the deadline, and the closed record requeues this object through
    // the ledger's informer; the targets are looked at again meanwhile.
    return left > 0 ? { requeueAfterMs: this.deps.pendingCheckMs } : this.settle();
  }

  /** Nothing of this generation is open: Recovered (once), and the finalizer goes. */
  private async settle(): Promise<ReconcileResult> {
    const status = this.object.status;
    const wasInjected = conditionOf(status, "Injected")?.status === "True";
    if (wasInjected && conditionOf(status, "Recovered")?.status !== "True") {
      const closed = await this.recordsOf(this.targets);
      for (const record of closed) this.deps.onClosed?.(record);
      await this.reportWithEvent([recoveredCondition(closed)], "Normal", closed.map(statusTargetOf));
      // The status write moves the resourceVersion: the finalizer goes on the next pass, from the cache.
      return {};
    }
    await this.releaseFinalizer();
    return {};
  }

  private async recordsOf(targets: readonly StatusTarget[]): Promise<LedgerRecord[]> {
    const records: LedgerRecord[] = [];
    for (const target of targets) {
      const record =
        target.ledgerRecord === undefined ? undefined : await this.deps.ctx.ledger.get(target.ledgerRecord);
      if (record !== undefined) records.push(record);
    }
    return records;
  }

  // ---- deletion ----

  /** Deleting the resource reverts what it injected, at once; then nothing holds it. */
  private async whileDeleting(owned: readonly OpenRecord[]): Promise<ReconcileResult> {
    if (owned.length > 0) await this.revertNow(owned, "Reverted", "the resource is being deleted");
    await this.releaseFinalizer();
    return {};
  }

  /** Recovers these records now (reverted, or closed as healed or gone); any left open is retried with backoff. */
  private async revertNow(owned: readonly OpenRecord[], reason: string, why: string): Promise<void> {
    const summaries = await recoverOwn(this.deps.ctx, owned);
    const left = summaries.filter((summary) => summary.result === "left-open");
    if (left.length > 0) {
      throw new Error(`${describeLeft(left)}; retrying`);
    }
    this.event("Normal", reason, `${why}: ${describeSummaries(summaries)}`);
  }

  private async releaseFinalizer(): Promise<void> {
    if (!this.finalizers.includes(revertFinalizer)) return;
    const finalizers = this.finalizers.filter((name) => name !== revertFinalizer);
    await this.deps.finalizers.set(this.resourceRef(), this.resourceVersion, finalizers);
    this.finalizers = finalizers;
  }

  // ---- the ledger, the status, events ----

  private owner(): RecordOwner {
    const { apiVersion, kind } = this.deps.resource;
    return { apiVersion, kind, ...this.ref, uid: this.uid };
  }

  private async ownedOpenRecords(): Promise<OpenRecord[]> {
    const open = await this.deps.ctx.ledger.list({ state: "open" });
    return open.filter(
      (record): record is OpenRecord => record.state !== "closed" && record.owner?.uid === this.uid,
    );
  }

  private resourceRef(): ResourceRef {
    const { apiVersion, plural } = this.deps.resource;
    return { apiVersion, plural, ...this.ref };
  }

  private withChanges(changes: readonly ConditionChange[]): Condition[] {
    const now = this.deps.ctx.clock.now();
    for (const change of changes)
      this.conditions = setCondition(this.conditions, change, this.generation, now);
    return this.conditions;
  }

  /** Reports the changes; the first one is told as an event when it is news (not a repeat of the status). */
  private async reportWithEvent(
    changes: readonly ConditionChange[],
    type: "Normal" | "Warning",
    targets?: StatusTarget[],
  ): Promise<void> {
    const [news] = changes;
    const before = this.conditions.find((condition) => condition.type === news?.type);
    if (news !== undefined && (before?.status !== news.status || before.reason !== news.reason))
      this.event(type, news.reason, news.message);
    await this.deps.status.report(this.resourceRef(), {
      observedGeneration: this.generation,
      conditions: this.withChanges(changes),
      ...(targets === undefined ? {} : { targets }),
    });
    if (targets !== undefined) this.targets = targets;
  }

  private event(type: "Normal" | "Warning", reason: string, message: string): void {
    const { apiVersion, kind } = this.deps.resource;
    const subject = { apiVersion, kind, ...this.ref, ...optional("uid", this.object.metadata?.uid) };
    this.deps.events.record(subject, type, reason, message);
  }
}

/** A fault's parameters are fields of the spec: `spec.key`, `spec.replicas`. */
const specNames = (param: string | undefined): string => (param === undefined ? "spec" : `spec.${param}`);

/** A plan refused by the parameters themselves (a missing key, nothing to change) is a bad spec too. */
function planReasonOf(error: unknown): string {
  if (error instanceof NothingToInject) return "NoTarget";
  if (!(error instanceof BroadsideError)) return "Error";
  return error.code === "BRD_USAGE" ? "InvalidSpec" : reasonOf(error.code);
}

const outcomes = {
  reverted: "reverted",
  "healed-externally": "healed",
  "target-gone": "gone",
  "never-applied": "refused",
  failed: "refused",
} as const satisfies Record<string, StatusTarget["outcome"]>;

/** One status record per ledger record: the target, its record, when it changed and how it ended. */
function statusTargetOf(record: LedgerRecord): StatusTarget {
  const { target } = record;
  const closed = record.state === "closed" ? record.outcome : undefined;
  return {
    kind: target.kind,
    namespace: target.namespace,
    name: target.name,
    uid: target.uid,
    outcome: closed === undefined ? "injected" : outcomes[closed.kind],
    ledgerRecord: record.id,
    injectedAt: new Date(record.createdAt).toISOString(),
    ...optional("recoveredAt", closed === undefined ? undefined : new Date(closed.at).toISOString()),
    ...optional("message", closed?.detail),
  };
}

/** Recovered=True, its reason the most telling outcome: a target gone, then a heal by someone else. */
function recoveredCondition(records: readonly LedgerRecord[]): ConditionChange {
  const count = (kind: string) => records.filter((record) => record.outcome?.kind === kind).length;
  const gone = count("target-gone");
  const healed = count("healed-externally");
  const reverted = count("reverted");
  const message = `${reverted} reverted, ${healed} healed by someone else, ${gone} target(s) gone`;
  const reason = gone > 0 ? "TargetGone" : healed > 0 ? "HealedExternally" : "Reverted";
  return { type: "Recovered", status: "True", reason, message };
}

function describeSummaries(summaries: readonly RecoverySummary[]): string {
  if (summaries.length === 0) return "nothing was open";
  return summaries.map((summary) => `${summary.path} ${summary.result}`).join(", ");
}

function describeLeft(left: readonly RecoverySummary[]): string {
  return left.map((summary) => `ledger record ${summary.id} left open: ${summary.detail ?? ""}`).join("; ");
}
