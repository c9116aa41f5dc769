import { describeError, BroadsideError } from "../core/errors.js";
import { deferred, type Deferred } from "../core/deferred.js";
import { broadsideManager } from "../core/board/field-managers.js";
import {
  anchorLimits,
  fogKey,
  fogValueFor,
  mountedConfigs,
  noConfigReason,
  type MountedConfig,
} from "../core/board/weapons.js";
import type { LedgerRecord } from "../core/ledger/record.js";
import { recoverExpired, type RecoverySummary } from "../core/ledger/recovery.js";
import type { EngineContext } from "../engine/context.js";
import { HealWatch } from "../engine/heal-watch.js";
import { recoverOwn, runObjectChaos } from "../engine/object-chaos.js";
import { configDrift } from "../faults/config-drift.js";
import { resourceSqueeze } from "../faults/resource-squeeze.js";
import type { ParamNamer, PlannedChange } from "../faults/types.js";
import { formatPointer, getAtPointer } from "../kube/field-access.js";
import type { BoardShot, BoardShotResult, DriftEnd, DriftRecordHandle, DriftWeapon } from "./ports.js";

/**
 * The board's fog and anchor (ADR 0028) through the engine's object-fault path (engine/object-chaos.ts):
 * the fault module plans the change from a read (faults/config-drift.ts, faults/resource-squeeze.ts), the
 * engine checks the namespace's rails and the kill switch, writes the ledger record, applies the change
 * conditionally and marks it active. The board then keeps each drift until its deadline: the engine's
 * HealWatch watches the object, so a GitOps controller's (or a person's) heal ends it early with the
 * heal's time and field manager; at the deadline, on halt or when the board stops, the engine's recovery
 * reverts it, conditionally on the object still holding Broadside's value. A crash leaves the records
 * open in the ledger, with their deadline: any Broadside process reverts them (recoverBoardLeftovers).
 */

export type DriftShot = BoardShot & { readonly weapon: DriftWeapon };

/** The engine's own parameter names in a plan's refusal are not the player's business: they read "shot". */
const shotNames: ParamNamer = () => "shot";

/** The actor of every record a board shot writes contains this, then the player's id. */
export const boardPlayerActor = ", board player ";

type Planned = { readonly changes: readonly PlannedChange[] } | { readonly refused: BoardShotResult };

export class BoardDrifts {
  private readonly kept = new Set<KeptDrift>();

  constructor(private readonly ctx: EngineContext) {}

  /** Plans, applies (ledger record first) and keeps the drift; `shotCtx` carries the player as the actor. */
  async fire(shotCtx: EngineContext, shot: DriftShot): Promise<BoardShotResult> {
    const planned = await this.plan(shot);
    if ("refused" in planned) return planned.refused;
    let records: readonly LedgerRecord[];
    try {
      const result = await runObjectChaos(shotCtx, planned.changes, {
        duration: shot.revertAfter,
        dryRun: false,
        wait: false,
        stop: new Promise<void>(() => undefined),
      });
      records = result.records;
    } catch (error: unknown) {
      return { accepted: false, reason: deflection(error) };
    }
    const driftedAt = this.ctx.clock.now();
    const kept = await KeptDrift.start(this.ctx, records, driftedAt + shot.revertAfter.milliseconds);
    this.kept.add(kept);
    void kept.done.finally(() => this.kept.delete(kept));
    // Never the values: a ConfigMap's data is not for the audience's screens.
    const handles = records.map((record): DriftRecordHandle => ({
      id: record.id,
      object: `${record.target.kind}/${record.target.name} ${record.path}`,
      driftedAt,
      restored: kept.restored(record.id),
    }));
    const first = records[0];
    if (first === undefined) throw new BroadsideError("BRD_INTERNAL", "a drift wrote no ledger record");
    return { accepted: true, ledgerId: first.id, drift: { records: handles } };
  }

  /** Reverts every drift this board keeps, now (halt, or the board is going); resolves when all are. */
  async revertAll(): Promise<number> {
    const all = [...this.kept];
    const summaries = await Promise.all(all.map((kept) => kept.revertNow()));
    return summaries.flat().filter((summary) => summary.result !== "left-open").length;
  }

  private async plan(shot: DriftShot): Promise<Planned> {
    try {
      return shot.weapon === "fog" ? await this.planFog(shot) : await this.planAnchor(shot);
    } catch (error: unknown) {
      // A plan refuses with a usage error (the object is gone, nothing would change): the shot is deflected.
      if (error instanceof BroadsideError && error.code === "BRD_USAGE") {
        return { refused: { accepted: false, reason: error.message.replace(/^shot: /, "") } };
      }
      throw error;
    }
  }

  /** The first ConfigMap the ship mounts with a text key to drift; a miss when it carries none. */
  private async planFog(shot: DriftShot): Promise<Planned> {
    const configs = mountedConfigs(await this.template(shot));
    for (const config of configs) {
      const changes = await this.planFogOn(shot.namespace, config);
      if (changes !== undefined) return { changes };
    }
    return { refused: { accepted: false, missed: true, reason: noConfigReason } };
  }

  private async planFogOn(namespace: string, config: MountedConfig): Promise<PlannedChange[] | undefined> {
    const ref = { apiVersion: "v1", kind: "ConfigMap", namespace, name: config.name };
    const configMap = await this.ctx.objects.read(ref);
    const key = fogKey(configMap, config.key);
    if (configMap === undefined || key === undefined) return undefined;
    const original = getAtPointer(configMap, formatPointer(["data", key]));
    const params = {
      namespace,
      kind: "configmap" as const,
      name: config.name,
      key,
      value: fogValueFor(original),
    };
    return configDrift.plan(this.ctx.objects, params, shotNames);
  }

  private async planAnchor(shot: DriftShot): Promise<Planned> {
    const kind = shot.ship.kind.toLowerCase() as "deployment" | "statefulset" | "daemonset";
    const params = { namespace: shot.namespace, kind, name: shot.ship.name, ...anchorLimits };
    return { changes: await resourceSqueeze.plan(this.ctx.objects, params, shotNames) };
  }

  /** The ship's pod template, read from its workload now. */
  private async template(shot: DriftShot): Promise<unknown> {
    const { kind, name } = shot.ship;
    const workload = await this.ctx.objects.read({
      apiVersion: "apps/v1",
      kind,
      namespace: shot.namespace,
      name,
    });
    if (workload === undefined) {
      throw new BroadsideError("BRD_USAGE", `shot: ${kind} ${shot.namespace}/${name} is no longer there`);
    }
    return getAtPointer(workload, "/spec/template");
  }
}

/** Why the engine refused to apply a drift, as the player reads it; the record says the rest. */
function deflection(error: unknown): string {
  if (error instanceof BroadsideError) {
    if (error.code === "BRD_CONFLICT") return "the object changed meanwhile; nothing was written";
    if (error.code === "BRD_REFUSED_BY_RAIL") return error.message.replace(/^--namespace: /, "");
    if (error.code === "BRD_USAGE") return error.message;
  }
  throw error;
}

/**
 * One shot's drift kept until its deadline, a heal by someone else, or revertNow: the engine's HealWatch
 * stamps heals as their watch events arrive, and recoverOwn reverts (or records the heal) and closes
 * exactly these records.
 */
class KeptDrift {
  private readonly stopNow = deferred<undefined>();
  private readonly ends = new Map<string, Deferred<DriftEnd>>();
  readonly done: Promise<readonly RecoverySummary[]>;

  private constructor(
    private readonly ctx: EngineContext,
    private readonly records: readonly LedgerRecord[],
    heals: HealWatch,
    deadline: number,
  ) {
    for (const record of records) this.ends.set(record.id, deferred<DriftEnd>());
    this.done = this.keep(heals, deadline);
  }

  static async start(
    ctx: EngineContext,
    records: readonly LedgerRecord[],
    deadline: number,
  ): Promise<KeptDrift> {
    const heals = await HealWatch.start(ctx, ctx.targets, records);
    return new KeptDrift(ctx, records, heals, deadline);
  }

  restored(id: string): Promise<DriftEnd> {
    return (
      this.ends.get(id)?.promise ?? Promise.resolve({ restoredAt: this.ctx.clock.now(), leftOpen: true })
    );
  }

  revertNow(): Promise<readonly RecoverySummary[]> {
    this.stopNow.resolve(undefined);
    return this.done;
  }

  private async keep(heals: HealWatch, deadline: number): Promise<readonly RecoverySummary[]> {
    const deadlineWait = new AbortController();
    try {
      const untilDeadline = this.ctx.clock.sleep(
        Math.max(0, deadline - this.ctx.clock.now()),
        deadlineWait.signal,
      );
      await Promise.race([untilDeadline, this.stopNow.promise, heals.allHealed]);
      const summaries = await recoverOwn({ ...this.ctx, targets: heals }, this.records);
      await this.settle(summaries);
      return summaries;
    } catch (error: unknown) {
      this.ctx.progress(`a drift's recovery failed, its records stay open: ${describeError(error)}`);
      this.settleAll({ restoredAt: this.ctx.clock.now(), leftOpen: true });
      return [];
    } finally {
      deadlineWait.abort();
      await heals.stop();
    }
  }

  private async settle(summaries: readonly RecoverySummary[]): Promise<void> {
    for (const summary of summaries) {
      this.ends.get(summary.id)?.resolve(await this.endOf(summary));
    }
    // A record closed before recovery listed it (another process's halt) was not summarised.
    for (const record of this.records) {
      if (!summaries.some((summary) => summary.id === record.id)) {
        this.ends.get(record.id)?.resolve(await this.closedElsewhere(record.id));
      }
    }
  }

  private settleAll(end: DriftEnd): void {
    for (const pending of this.ends.values()) pending.resolve(end);
  }

  private async endOf(summary: RecoverySummary): Promise<DriftEnd> {
    if (summary.result === "closed-elsewhere") return this.closedElsewhere(summary.id);
    return endFromOutcome(summary.result, summary.at, summary.by);
  }

  /** Another Broadside process closed the record (its halt, the agent's ledger reconciler): its outcome says how. */
  private async closedElsewhere(id: string): Promise<DriftEnd> {
    const record = await this.ctx.ledger.get(id).catch(() => undefined);
    const outcome = record?.state === "closed" ? record.outcome : undefined;
    if (outcome === undefined) return { restoredAt: this.ctx.clock.now(), leftOpen: true };
    return endFromOutcome(outcome.kind, outcome.at, outcome.by);
  }
}

function endFromOutcome(result: string, at: number, by: string | undefined): DriftEnd {
  switch (result) {
    case "reverted":
      return { restoredAt: at, restoredBy: broadsideManager };
    case "healed-externally":
      return by === undefined ? { restoredAt: at } : { restoredAt: at, restoredBy: by };
    case "target-gone":
      return { restoredAt: at, gone: true };
    default:
      return { restoredAt: at, leftOpen: true };
  }
}

/**
 * After a crash: a board that starts again keeps no game and watches no drift, so every open fog and
 * anchor a board wrote (its actor names a board player) is reverted now, deadline or not; other records
 * are left to their deadline, as every command leaves them (cli/engine-context.ts recoverLeftovers).
 */
export async function recoverBoardLeftovers(ctx: EngineContext): Promise<readonly RecoverySummary[]> {
  return recoverExpired(ctx.ledger, ctx.targets, ctx.clock, {
    includeUnexpired: true,
    inScope: (record) =>
      record.actor.user.includes(boardPlayerActor) &&
      (record.faultKind === "config-drift" || record.faultKind === "resource-squeeze"),
  });
}
