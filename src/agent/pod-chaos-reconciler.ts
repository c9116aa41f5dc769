import { BroadsideError, describeError } from "../core/errors.js";
import type { Duration } from "../core/duration.js";
import { describeHold } from "../core/halt.js";
import { optional } from "../core/objects.js";
import type { EngineContext } from "../engine/context.js";
import { runContainerKill } from "../engine/container-kill.js";
import { runPodChaos, type PodChaosResult } from "../engine/pod-chaos.js";
import type { ChaosMeshPodChaos } from "../experiments/files/model.js";
import { scopeOf } from "../experiments/run/runner.js";
import { podFaults } from "../faults/pod-registry.js";
import type { EventRecorder } from "../kube/events.js";
import type { ResourceRef, StatusWriter } from "../kube/resource-status.js";
import type { TargetPlan } from "../core/targeting/types.js";
import type { ResourceStatus } from "./crds/status.js";
import { containerKillConditions, containerTargets } from "./container-kill-status.js";
import { loadAsFile, pausedAnnotation, type ChaosObject } from "./chaos-object.js";
import type { ReconcileResult } from "./reconcile/workers.js";
import {
  conditionOf,
  podTargets,
  reasonOf,
  setCondition,
  type Condition,
  type ConditionChange,
} from "./status.js";
import { noNodeDaemons } from "./manifest-run.js";

/**
 * The PodChaos reconciler (ADR 0007). Chaos Mesh's pod-kill and container-kill are one-shot: each
 * generation of a PodChaos kills its selection (pods, or the named containers in them) once. Before the shot, the generation is claimed in the status, conditional on the
 * object's resourceVersion: a replica that restarts or takes over sees the claim and never shoots the
 * same generation twice (it reports the run as interrupted instead; the ledger has what was done).
 */

export interface PodChaosReconcilerDeps {
  readonly resource: ChaosResource;
  readonly ctx: EngineContext;
  /** The informer's cache of PodChaos objects. */
  readonly get: (namespace: string, name: string) => ChaosObject | undefined;
  readonly status: StatusWriter;
  /** How long a shot's recovery is watched for its milestones. */
  readonly recoveryTimeout: Duration;
  /** While the kill switch is held, how often to look again. */
  readonly haltedRetryMs: number;
  /** Told of every finished run, for the metrics. */
  readonly onResult?: (result: PodChaosResult) => void;
  /** Events on the PodChaos, for `kubectl describe`. */
  readonly events: EventRecorder;
  /**
   * --node-daemons: a node daemon (`broadside daemon`) runs on the nodes of the pods, so container-kill is
   * handed to it (ADR 0029). Without it a container-kill PodChaos is refused at once, nothing written.
   */
  readonly nodeDaemons: boolean;
}

/** Why a container-kill PodChaos is refused by an agent started without --node-daemons. */
export const noNodeDaemonsMessage = noNodeDaemons("action container-kill").message;

/** Which resource this reconciler serves: broadside.dev's PodChaos, or chaos-mesh.org's (a drop-in). */
export interface ChaosResource {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
}

export function podChaosReconciler(deps: PodChaosReconcilerDeps) {
  return async (key: string): Promise<ReconcileResult> => {
    const [namespace = "", name = ""] = key.split("/");
    const object = deps.get(namespace, name);
    // Gone or going: a pod kill leaves nothing to revert, so no finalizer holds it.
    if (object?.metadata === undefined || object.metadata.deletionTimestamp !== undefined) return {};
    const run = new Run(deps, { namespace, name }, object);
    return run.reconcile();
  };
}

class Run {
  private readonly generation: number;
  private conditions: Condition[];

  constructor(
    private readonly deps: PodChaosReconcilerDeps,
    private readonly ref: { readonly namespace: string; readonly name: string },
    private readonly object: ChaosObject,
  ) {
    this.generation = object.metadata?.generation ?? 0;
    this.conditions = [...(object.status?.conditions ?? [])];
  }

  async reconcile(): Promise<ReconcileResult> {
    const status = this.object.status;
    const claimed =
      status?.observedGeneration === this.generation ? conditionOf(status, "Injected") : undefined;
    if (claimed !== undefined) return this.alreadyClaimed();
    if (this.object.metadata?.annotations?.[pausedAnnotation] === "true") {
      await this.report([
        { type: "Paused", status: "True", reason: "Paused", message: `${pausedAnnotation} is "true"` },
      ]);
      return {};
    }
    const hold = await this.deps.ctx.halt.read();
    if (hold !== undefined) {
      await this.report([{ type: "Paused", status: "True", reason: "Halted", message: describeHold(hold) }]);
      return { requeueAfterMs: this.deps.haltedRetryMs };
    }
    return this.runSpec();
  }

  /** The spec read; refused when invalid, or a container-kill with no node daemons; else claimed and run. */
  private async runSpec(): Promise<ReconcileResult> {
    const spec = this.parse();
    if (spec instanceof BroadsideError) {
      await this.report([{ type: "Failed", status: "True", reason: "InvalidSpec", message: spec.message }]);
      return {};
    }
    if (spec.action === "container-kill" && !this.deps.nodeDaemons) {
      await this.report([
        { type: "Injected", status: "False", reason: "NoNodeDaemons", message: "nothing was done" },
        { type: "Failed", status: "True", reason: "NoNodeDaemons", message: noNodeDaemonsMessage },
      ]);
      return {};
    }
    await this.claim();
    await this.shoot(spec);
    return {};
  }

  /**
   * The generation was claimed before: done, or interrupted by a restart or a change of leader, either
   * while shooting (Injected Unknown) or while timing recovery (Injected True, Recovered Unknown). The
   * cache may lag this process's own last write (its final report), so an unfinished run is read again
   * from the API server before it is called interrupted.
   */
  private async alreadyClaimed(): Promise<ReconcileResult> {
    if (unfinishedStage(this.object.status) === undefined) return {};
    const fresh = await this.deps.status.read(this.resourceRef());
    const now = fresh?.status as ResourceStatus | undefined;
    const stage = now?.observedGeneration === this.generation ? unfinishedStage(now) : undefined;
    if (stage === "shooting") {
      await this.report([
        {
          type: "Failed",
          status: "True",
          reason: "Interrupted",
          message:
            "the agent stopped while this generation was being injected; `broadside status` and the ledger show what was done",
        },
        {
          type: "Injected",
          status: "False",
          reason: "Interrupted",
          message: "not run again: one shot per generation",
        },
      ]);
    } else if (stage === "recovering") {
      // The shots are in the status already; only the timing of their recovery was lost.
      await this.report([
        {
          type: "Failed",
          status: "True",
          reason: "Interrupted",
          message: "the agent stopped while timing the recovery; the shots are in the status and the ledger",
        },
        {
          type: "Recovered",
          status: "False",
          reason: "Interrupted",
          message: "recovery was not timed to the end: one shot per generation",
        },
      ]);
    }
    return {};
  }

  /** The spec read as `broadside run` reads a PodChaos file, with the object's namespace as the default. */
  private parse(): ChaosMeshPodChaos | BroadsideError {
    try {
      const { loaded, source } = loadAsFile("broadside.dev/v1alpha1", "PodChaos", this.ref, this.object.spec);
      if (loaded.kind !== "PodChaos")
        return new BroadsideError("BRD_USAGE", `${source}: read as ${loaded.kind}`);
      if (!loaded.runnable) return new BroadsideError("BRD_NOT_RUNNABLE", `${source}: ${loaded.reason}`);
      // pod-failure goes to its own reconciler (pod-failure-reconciler.ts).
      if (loaded.action === "pod-failure") {
        return new BroadsideError(
          "BRD_INTERNAL",
          `${source}: action pod-failure reached the pod-kill reconciler; it is pod-failure-reconciler's`,
        );
      }
      return loaded;
    } catch (error: unknown) {
      return error instanceof BroadsideError ? error : new BroadsideError("BRD_USAGE", describeError(error));
    }
  }

  private resourceRef(): ResourceRef {
    const { apiVersion, plural } = this.deps.resource;
    return { apiVersion, plural, ...this.ref };
  }

  private async claim(): Promise<void> {
    const injecting: ConditionChange = {
      type: "Injected",
      status: "Unknown",
      reason: "Injecting",
      message: "the pods are being selected and shot",
    };
    const conditions = this.withChanges([
      injecting,
      { type: "Paused", status: "False", reason: "Running", message: "" },
    ]);
    await this.deps.status.claim(this.resourceRef(), this.object.metadata?.resourceVersion ?? "", {
      observedGeneration: this.generation,
      conditions,
      targets: [],
    });
  }

  private async shoot(spec: ChaosMeshPodChaos): Promise<void> {
    if (spec.action === "container-kill") {
      await this.killContainers(spec);
      return;
    }
    let result: PodChaosResult;
    try {
      result = await runPodChaos(this.deps.ctx, {
        fault: podFaults["pod-kill"],
        scope: scopeOf({ selector: spec.selector }),
        selector: spec.selector,
        mode: spec.mode,
        gracePeriodSeconds: spec.gracePeriodSeconds,
        dryRun: false,
        wait: true,
        timeout: this.deps.recoveryTimeout,
        onShots: (plan, shots) => this.reportShots({ plan, shots, recovery: undefined, apiRequests: 0 }),
      });
    } catch (error: unknown) {
      await this.reportError(error);
      return;
    }
    this.deps.onResult?.(result);
    await this.report(resultConditions(result), podTargets(result));
  }

  /**
   * container-kill through the node daemons, as `kill --container` runs it: every named container checked
   * on every chosen pod before the first write (a missing one fails the run naming the pod and the
   * containers it has), then per container a ledger record, the node work and the daemon's answer, and
   * the restart timed from the pod's watch events.
   */
  private async killContainers(spec: ChaosMeshPodChaos): Promise<void> {
    try {
      const result = await runContainerKill(this.deps.ctx, {
        scope: scopeOf({ selector: spec.selector }),
        selector: spec.selector,
        mode: spec.mode,
        containers: spec.containerNames,
        containersField: "spec.containerNames",
        dryRun: false,
        wait: true,
        timeout: this.deps.recoveryTimeout,
      });
      await this.report(
        [selectedCondition(result), ...containerKillConditions(result)],
        containerTargets(result),
      );
    } catch (error: unknown) {
      await this.reportError(error);
    }
  }

  private async reportError(error: unknown): Promise<void> {
    const reason = error instanceof BroadsideError ? reasonOf(error.code) : "Error";
    await this.report([
      { type: "Injected", status: "False", reason, message: describeError(error) },
      { type: "Failed", status: "True", reason, message: describeError(error) },
    ]);
  }

  /** The shots are answered and recovery is still to come: Selected and Injected, each target injected. */
  private async reportShots(shot: PodChaosResult): Promise<void> {
    const accepted = shot.shots.filter((one) => one.outcome.accepted).length;
    // Recovered Unknown, not what a previous generation left: a Schedule counts this child as running.
    const recovering: ConditionChange = {
      type: "Recovered",
      status: "Unknown",
      reason: "Recovering",
      message: "waiting for the replacements to be Ready",
    };
    await this.report(
      [selectedCondition(shot), injectedCondition(shot, accepted), recovering],
      podTargets(shot),
    );
  }

  private withChanges(changes: readonly ConditionChange[]): Condition[] {
    const now = this.deps.ctx.clock.now();
    for (const change of changes)
      this.conditions = setCondition(this.conditions, change, this.generation, now);
    return this.conditions;
  }

  /** An event for each condition that changed to something a person should hear about. */
  private recordEvents(changes: readonly ConditionChange[]): void {
    const subject = {
      apiVersion: this.deps.resource.apiVersion,
      kind: this.deps.resource.kind,
      ...this.ref,
      ...optional("uid", this.object.metadata?.uid),
    };
    for (const change of changes) {
      const before = this.conditions.find((condition) => condition.type === change.type);
      if (before?.status === change.status && before.reason === change.reason) continue;
      const type = eventTypeOf(change);
      if (type !== undefined) this.deps.events.record(subject, type, change.reason, change.message);
    }
  }

  private async report(
    changes: readonly ConditionChange[],
    targets?: ResourceStatus["targets"],
  ): Promise<void> {
    this.recordEvents(changes);
    const conditions = this.withChanges(changes);
    await this.deps.status.report(this.resourceRef(), {
      observedGeneration: this.generation,
      conditions,
      ...(targets === undefined ? {} : { targets }),
    });
  }
}

/**
 * Which condition changes are events: what went wrong is a Warning; a pause, a shot and a recovery are
 * Normal; the bookkeeping (Failed=False after a run, Paused=False, the claim) is none.
 */
function eventTypeOf(change: ConditionChange): "Normal" | "Warning" | undefined {
  const key = `${change.type}/${change.status}`;
  if (silent.has(`${change.type}/${change.reason}`)) return undefined;
  return eventTypes[key];
}

/** Condition and status that make an event, and of which type. */
const eventTypes: Readonly<Record<string, "Normal" | "Warning">> = {
  "Failed/True": "Warning",
  "Paused/True": "Normal",
  "Selected/False": "Warning",
  "Injected/True": "Normal",
  "Injected/False": "Warning",
  "Recovered/True": "Normal",
  "Recovered/False": "Warning",
};

/** Told by another event of the same change (Failed says Interrupted), or nothing to tell. */
const silent = new Set(["Injected/Interrupted", "Recovered/NothingToRecover"]);

/** Where a claimed run stands if it has not ended: shooting, timing recovery, or undefined when ended. */
function unfinishedStage(status: ResourceStatus | undefined): "shooting" | "recovering" | undefined {
  const injected = conditionOf(status, "Injected")?.status;
  if (injected === "Unknown") return "shooting";
  if (injected === "True" && conditionOf(status, "Recovered")?.status === "Unknown") return "recovering";
  return undefined;
}

function resultConditions(result: PodChaosResult): ConditionChange[] {
  const accepted = result.shots.filter((shot) => shot.outcome.accepted).length;
  const failed: ConditionChange = { type: "Failed", status: "False", reason: "Ran", message: "" };
  return [
    selectedCondition(result),
    injectedCondition(result, accepted),
    recoveredCondition(result, accepted),
    failed,
  ];
}

function selectedCondition(result: { readonly plan: TargetPlan }): ConditionChange {
  const selected = result.plan.selected.length;
  const left = result.plan.excluded.length;
  if (selected === 0) {
    // The reasons themselves, as `kill --dry-run` gives them: a user reading `kubectl describe` learns why.
    const reasons = [...new Set(result.plan.excluded.map((exclusion) => exclusion.reason))].slice(0, 3);
    const message = `no pod selected; ${left} left out: ${reasons.join("; ")}`;
    return { type: "Selected", status: "False", reason: "NoTarget", message };
  }
  return {
    type: "Selected",
    status: "True",
    reason: "Selected",
    message: `${selected} selected, ${left} left out`,
  };
}

function injectedCondition(result: PodChaosResult, accepted: number): ConditionChange {
  if (accepted > 0) {
    const message = `${accepted} of ${result.shots.length} shots accepted`;
    return { type: "Injected", status: "True", reason: "Shot", message };
  }
  const reason = result.plan.selected.length === 0 ? "NoTarget" : "Refused";
  return { type: "Injected", status: "False", reason, message: "no shot was accepted" };
}

function recoveredCondition(result: PodChaosResult, accepted: number): ConditionChange {
  if (accepted === 0) return { type: "Recovered", status: "False", reason: "NothingToRecover", message: "" };
  if (result.recovery?.complete === true) {
    return { type: "Recovered", status: "True", reason: "Recovered", message: "every milestone was seen" };
  }
  const message = result.recovery?.watchFailure ?? "not every milestone was seen in time";
  return { type: "Recovered", status: "False", reason: "NotRecovered", message };
}
