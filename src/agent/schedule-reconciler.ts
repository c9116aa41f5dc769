import { stringify } from "yaml";
import type { Clock } from "../core/clock.js";
import { BroadsideError, describeError } from "../core/errors.js";
import { describeHold, type HaltSwitch } from "../core/halt.js";
import { ConflictError } from "../core/ledger/store.js";
import { optional } from "../core/objects.js";
import { parseExperimentFile } from "../experiments/files/load.js";
import type { ChaosMeshSchedule } from "../experiments/files/model.js";
import { defaultHistoryLimit } from "../experiments/run/plan.js";
import { retirable } from "../experiments/schedule/history.js";
import { allDue, dueInstants, nextInstant, type DueInstants } from "../experiments/schedule/instants.js";
import { maxSleepMs } from "../experiments/schedule/runner.js";
import type { ChildObjects } from "../kube/chaos-children.js";
import type { EventRecorder } from "../kube/events.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import { pausedAnnotation, type ChaosObject } from "./chaos-object.js";
import type { ScheduleStatus } from "./crds/status.js";
import type { ChaosResource } from "./pod-chaos-reconciler.js";
import type { ReconcileResult } from "./reconcile/workers.js";
import {
  childName,
  childrenOf,
  instantLabel,
  scheduleNameAnnotation,
  scheduleUidLabel,
  type Child,
} from "./schedule-children.js";
import { setCondition, type Condition, type ConditionChange } from "./status.js";

/**
 * The Schedule reconciler (ADR 0007): at each cron instant, a child PodChaos of the Schedule's own group in
 * its namespace, owned by it (so deleting the Schedule deletes them), which the PodChaos reconciler runs.
 * The instants come from experiments/schedule/instants.ts, as `broadside run` computes them.
 *
 * At most once per instant, across restarts and leader changes: the instant is written to
 * status.lastScheduleTime, conditional on the object's resourceVersion, BEFORE the child is created, with
 * the child to create in status.pending. A replica that lost the race gets a conflict and fires nothing; one
 * that died between the claim and the create finds `pending` and creates that child, whose name comes from
 * the instant, so a create that had in fact gone through meets AlreadyExists instead of making a second one.
 *
 * As the in-process runner (experiments/schedule/runner.ts), an instant skipped by Forbid or missed past
 * startingDeadlineSeconds is done with (recorded in lastScheduleTime), never started late.
 */

export interface ScheduleReconcilerDeps {
  /** The Schedule kind served: broadside.dev's, or chaos-mesh.org's. */
  readonly resource: ChaosResource;
  /** The PodChaos kind of the same group, which the children are. */
  readonly child: ChaosResource;
  readonly clock: Clock;
  readonly halt: HaltSwitch;
  /** The informer's cache of Schedule objects. */
  readonly get: (namespace: string, name: string) => ChaosObject | undefined;
  readonly status: StatusWriter;
  readonly children: ChildObjects;
  readonly events: EventRecorder;
  /** While the kill switch is held, how often to look again. */
  readonly haltedRetryMs: number;
  /** While children run, how often to look at them again (status.active, history, Forbid). */
  readonly activeRetryMs?: number;
}

/** A Schedule object: a ChaosObject with the time it was created (the cron counts from it). */
type ScheduleObject = ChaosObject & {
  readonly metadata?: { readonly creationTimestamp?: string | Date };
  readonly status?: ScheduleStatus;
};

const defaultActiveRetryMs = 5_000;

export function scheduleReconciler(deps: ScheduleReconcilerDeps) {
  return async (key: string): Promise<ReconcileResult> => {
    const [namespace = "", name = ""] = key.split("/");
    const object = deps.get(namespace, name) as ScheduleObject | undefined;
    // Gone or going: its children go with it (their ownerReference), and a Schedule holds no finalizer.
    if (object?.metadata === undefined || object.metadata.deletionTimestamp !== undefined) return {};
    return new ScheduleRun(deps, { namespace, name }, object).reconcile();
  };
}

/** What the status should say besides the conditions: set on the way through a reconcile. */
interface View {
  lastScheduleTime: string | undefined;
  active: Child[];
  pending: { readonly name: string; readonly instant: string } | undefined;
}

class ScheduleRun {
  private readonly generation: number;
  private conditions: Condition[];
  private readonly view: View;

  constructor(
    private readonly deps: ScheduleReconcilerDeps,
    private readonly ref: { readonly namespace: string; readonly name: string },
    private readonly object: ScheduleObject,
  ) {
    this.generation = object.metadata?.generation ?? 0;
    this.conditions = [...(object.status?.conditions ?? [])];
    this.view = {
      lastScheduleTime: object.status?.lastScheduleTime,
      active: [],
      pending: object.status?.pending,
    };
  }

  async reconcile(): Promise<ReconcileResult> {
    const spec = this.parse();
    if (spec instanceof BroadsideError) {
      await this.write([{ type: "Failed", status: "True", reason: "InvalidSpec", message: spec.message }]);
      return {};
    }
    const children = await this.listChildren();
    this.view.active = children.filter((child) => !child.finished);
    if (this.object.metadata?.annotations?.[pausedAnnotation] === "true") {
      const message = `${pausedAnnotation} is "true"`;
      await this.write([{ type: "Paused", status: "True", reason: "Paused", message }, notFailed]);
      return this.lookAgain(undefined);
    }
    const hold = await this.deps.halt.read();
    if (hold !== undefined) {
      const message = describeHold(hold);
      await this.write([{ type: "Paused", status: "True", reason: "Halted", message }, notFailed]);
      return { requeueAfterMs: this.deps.haltedRetryMs };
    }
    await this.createPending();
    await this.retire(spec, children);
    return this.schedule(spec);
  }

  /** The instants due since the last one dealt with (or since the Schedule was created). */
  private async schedule(spec: ChaosMeshSchedule): Promise<ReconcileResult> {
    const now = this.deps.clock.now();
    const due = dueInstants(spec.cron, this.after(), now);
    if (due.kind === "wait") {
      await this.write([running, notFailed]);
      return this.lookAgain(due.next);
    }
    const claimed = await this.deal(spec, due, now);
    if (!claimed) return { requeueAfterMs: 1_000 };
    return this.lookAgain(nextInstant(spec.cron, due.latest));
  }

  /** Fires, skips or misses the latest due instant; false when another writer moved the object first. */
  private async deal(
    spec: ChaosMeshSchedule,
    due: Extract<DueInstants, { kind: "due" }>,
    now: number,
  ): Promise<boolean> {
    const instant = new Date(due.latest).toISOString();
    const deadline = spec.startingDeadlineSeconds;
    if (deadline !== undefined && now - due.latest > deadline * 1000) {
      const missed = allDue(due);
      const message = `${missed.count} instant(s) up to ${instant} missed: more than startingDeadlineSeconds (${deadline}) late`;
      return this.claimInstant(instant, undefined, ["Warning", "Missed", message]);
    }
    if (spec.concurrencyPolicy === "Forbid" && this.view.active.length > 0) {
      const names = this.view.active.map((child) => child.name).join(", ");
      const message = `instant ${instant} skipped: concurrencyPolicy Forbid and ${names} still running`;
      return this.claimInstant(instant, undefined, ["Normal", "Skipped", message]);
    }
    const name = childName(this.ref.name, due.latest);
    if (!(await this.claimInstant(instant, { name, instant }, undefined))) return false;
    await this.createPending();
    return true;
  }

  /**
   * Writes the instant to lastScheduleTime (with the child to create, if any) on condition that the object
   * is still at the version this reconcile read: the step that makes each instant happen at most once.
   */
  private async claimInstant(
    instant: string,
    pending: View["pending"],
    event: readonly ["Normal" | "Warning", string, string] | undefined,
  ): Promise<boolean> {
    this.view.lastScheduleTime = instant;
    this.view.pending = pending;
    this.withChanges([running, notFailed]);
    try {
      await this.deps.status.claim(
        this.resourceRef(),
        this.object.metadata?.resourceVersion ?? "",
        this.statusBody(),
      );
    } catch (error: unknown) {
      // Another replica, or this one's write that the cache has not seen yet: that writer dealt with it.
      if (error instanceof ConflictError) return false;
      throw error;
    }
    if (event !== undefined) this.deps.events.record(this.subject(), ...event);
    return true;
  }

  /** The child claimed and not created yet, created now (again, if the claim's create did go through). */
  private async createPending(): Promise<void> {
    const pending = this.view.pending;
    if (pending === undefined) return;
    const instant = Date.parse(pending.instant);
    const created = await this.deps.children.create(this.deps.child, this.ref.namespace, {
      apiVersion: this.deps.child.apiVersion,
      kind: this.deps.child.kind,
      metadata: this.childMetadata(pending.name, instant),
      spec: this.podChaosSpec(),
    });
    this.view.pending = undefined;
    if (!this.view.active.some((child) => child.name === pending.name))
      this.view.active.push({ name: pending.name, instant, finished: false });
    if (created === "created") {
      const message = `created ${this.deps.child.kind} ${pending.name} for the instant ${pending.instant}`;
      this.deps.events.record(this.subject(), "Normal", "Spawned", message);
    }
    await this.write([running, notFailed]);
  }

  private childMetadata(name: string, instant: number) {
    const { apiVersion, kind } = this.deps.resource;
    return {
      name,
      namespace: this.ref.namespace,
      labels: {
        [scheduleUidLabel]: this.object.metadata?.uid ?? "",
        [instantLabel]: String(Math.floor(instant / 1000)),
      },
      annotations: { [scheduleNameAnnotation]: this.ref.name },
      ownerReferences: [
        { apiVersion, kind, name: this.ref.name, uid: this.object.metadata?.uid ?? "", controller: true },
      ],
    };
  }

  /** The PodChaos spec as the Schedule's manifest wrote it: the child is what a user would have applied. */
  private podChaosSpec(): unknown {
    const spec = this.object.spec as { readonly podChaos?: unknown } | undefined;
    return spec?.podChaos;
  }

  /** The oldest finished children beyond historyLimit are deleted, as Chaos Mesh's schedule gc does. */
  private async retire(spec: ChaosMeshSchedule, children: readonly Child[]): Promise<void> {
    const old = retirable(children, spec.historyLimit ?? defaultHistoryLimit, (child) => child.finished);
    for (const child of old) await this.deps.children.delete(this.deps.child, this.ref.namespace, child.name);
  }

  private async listChildren(): Promise<Child[]> {
    const uid = this.object.metadata?.uid ?? "";
    const objects = await this.deps.children.list(this.deps.child, this.ref.namespace, {
      [scheduleUidLabel]: uid,
    });
    return childrenOf(objects, uid);
  }

  /** The last instant dealt with; before the first, the Schedule's creation (Chaos Mesh counts from it). */
  private after(): number {
    const last = this.view.lastScheduleTime;
    if (last !== undefined) return Date.parse(last);
    const created = this.object.metadata?.creationTimestamp;
    return created === undefined ? this.deps.clock.now() : new Date(created).getTime();
  }

  /** At the next instant, sooner while children run (to see them finish), and at least every minute. */
  private lookAgain(next: number | undefined): ReconcileResult {
    const now = this.deps.clock.now();
    const untilNext = next === undefined ? maxSleepMs : Math.max(0, next - now);
    const whileActive =
      this.view.active.length > 0 ? (this.deps.activeRetryMs ?? defaultActiveRetryMs) : maxSleepMs;
    return { requeueAfterMs: Math.min(untilNext, whileActive, maxSleepMs) };
  }

  /** The spec read as `broadside run` reads a Schedule file, with the object's namespace as the default. */
  private parse(): ChaosMeshSchedule | BroadsideError {
    const source = `schedule ${this.ref.namespace}/${this.ref.name}`;
    const document = {
      apiVersion: "broadside.dev/v1alpha1",
      kind: "Schedule",
      metadata: { name: this.ref.name, namespace: this.ref.namespace },
      spec: this.object.spec,
    };
    try {
      const loaded = parseExperimentFile(stringify(document), source, {
        defaultNamespace: this.ref.namespace,
      });
      if (loaded.kind !== "Schedule")
        return new BroadsideError("BRD_USAGE", `${source}: read as ${loaded.kind}`);
      if (loaded.chaos.kind !== "PodChaos")
        return new BroadsideError("BRD_USAGE", `${source}: spec.type: the agent schedules PodChaos only`);
      if (!loaded.runnable) return new BroadsideError("BRD_NOT_RUNNABLE", `${source}: ${loaded.reason}`);
      return loaded;
    } catch (error: unknown) {
      return error instanceof BroadsideError ? error : new BroadsideError("BRD_USAGE", describeError(error));
    }
  }

  private withChanges(changes: readonly ConditionChange[]): void {
    const now = this.deps.clock.now();
    for (const change of changes) {
      const before = this.conditions.find((condition) => condition.type === change.type);
      const type = eventTypes[`${change.type}/${change.status}`];
      if (type !== undefined && (before?.status !== change.status || before.reason !== change.reason))
        this.deps.events.record(this.subject(), type, change.reason, change.message);
      this.conditions = setCondition(this.conditions, change, this.generation, now);
    }
  }

  /** The status this reconcile arrived at, as a merge patch (null removes `pending`). */
  private statusBody(): object {
    return {
      observedGeneration: this.generation,
      conditions: this.conditions,
      ...optional("lastScheduleTime", this.view.lastScheduleTime),
      active: this.view.active.map((child) => ({
        name: child.name,
        instant: new Date(child.instant).toISOString(),
      })),
      pending: this.view.pending ?? null,
    };
  }

  /** Reports the status, unless it says what the object already says (no write, no new version, no event loop). */
  private async write(changes: readonly ConditionChange[]): Promise<void> {
    this.withChanges(changes);
    const body = this.statusBody();
    if (sameStatus(this.object.status, body)) return;
    await this.deps.status.report(this.resourceRef(), body);
  }

  private resourceRef(): ResourceRef {
    const { apiVersion, plural } = this.deps.resource;
    return { apiVersion, plural, ...this.ref };
  }

  private subject() {
    const { apiVersion, kind } = this.deps.resource;
    return { apiVersion, kind, ...this.ref, ...optional("uid", this.object.metadata?.uid) };
  }
}

const running: ConditionChange = { type: "Paused", status: "False", reason: "Running", message: "" };
const notFailed: ConditionChange = { type: "Failed", status: "False", reason: "Valid", message: "" };

/** Condition changes that are events: a pause is Normal, a spec refused is a Warning. */
const eventTypes: Readonly<Record<string, "Normal" | "Warning">> = {
  "Paused/True": "Normal",
  "Failed/True": "Warning",
};

function sameStatus(current: ScheduleStatus | undefined, body: object): boolean {
  const next = { ...(current ?? {}), ...body } as Record<string, unknown>;
  if (next.pending === null) delete next.pending;
  const before = { ...(current ?? {}) } as Record<string, unknown>;
  return JSON.stringify(sorted(before)) === JSON.stringify(sorted(next));
}

function sorted(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => a.localeCompare(b)));
}
