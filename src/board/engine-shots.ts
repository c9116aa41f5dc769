import { Duration } from "../core/duration.js";
import { recoverExpired } from "../core/ledger/recovery.js";
import { namespaceRailReason } from "../core/targeting/rails.js";
import type { EngineContext } from "../engine/context.js";
import { runPodChaos } from "../engine/pod-chaos.js";
import { apiErrorMessage, apiStatus } from "../kube/api-errors.js";
import { podEvict } from "../faults/pod-evict.js";
import { podKill } from "../faults/pod-kill.js";
import type { PodFault } from "../faults/types.js";
import { BoardDrifts, boardPlayerActor } from "./engine-drifts.js";
import {
  isDriftWeapon,
  type BoardEngine,
  type BoardShot,
  type BoardShotResult,
  type HaltResult,
  type PodWeapon,
} from "./ports.js";

/**
 * The board's shots through the engine's own kill path (engine/pod-chaos.ts): the pod is gathered (from
 * the informer cache when the context has one), planned through the rails (opt-in, protected namespaces,
 * the per-workload cap unless the game is unsafe, Broadside's own pods), held in the process's down cap,
 * and written to the ledger before its DELETE or eviction, which is conditional on the pod's uid. Fog and
 * anchor go through the engine's object-fault path instead (engine-drifts.ts, ADR 0028).
 */

const faults: Readonly<Record<PodWeapon, PodFault>> = { torpedo: podKill, mine: podEvict };

/** A shot's ledger record may be tidied up after this; a pod kill has nothing to revert. */
const recordDeadline = Duration.ofMilliseconds(5 * 60_000);

export function engineShots(ctx: EngineContext): BoardEngine {
  const drifts = new BoardDrifts(ctx);
  return {
    fire: (shot) => fire(ctx, drifts, shot),
    halt: (by, reason) => halt(ctx, drifts, by, reason),
    refuseNamespaces: (namespaces) => refuseNamespaces(ctx, namespaces),
    stop: () => drifts.revertAll(),
  };
}

async function fire(ctx: EngineContext, drifts: BoardDrifts, shot: BoardShot): Promise<BoardShotResult> {
  const shotCtx: EngineContext = {
    ...ctx,
    rails: { ...ctx.rails, unsafe: shot.unsafe },
    actor: { ...ctx.actor, user: `${ctx.actor.user}${boardPlayerActor}${shot.playerId}` },
  };
  const weapon = shot.weapon;
  if (isDriftWeapon(weapon)) return drifts.fire(shotCtx, { ...shot, weapon });
  const result = await runPodChaos(shotCtx, {
    fault: faults[weapon],
    scope: [shot.namespace],
    selector: { namespaces: [shot.namespace], pods: [{ namespace: shot.namespace, name: shot.pod.name }] },
    mode: { kind: "one" },
    dryRun: false,
    wait: false,
    timeout: recordDeadline,
  });
  const fired = result.shots[0];
  if (fired === undefined) {
    const excluded = result.plan.excluded.find((exclusion) => exclusion.pod.name === shot.pod.name);
    return { accepted: false, reason: excluded?.reason ?? `pod ${shot.pod.name} is no longer there` };
  }
  const outcome = fired.outcome;
  if (outcome.accepted) return { accepted: true, ledgerId: fired.ledgerId };
  return {
    accepted: false,
    reason: outcome.reason,
    ledgerId: fired.ledgerId,
    ...(outcome.budgets === undefined ? {} : { shield: outcome.budgets }),
  };
}

/**
 * As `broadside halt --hold`: the switch held first, so nothing new starts while everything is reverted;
 * the board's own drifts first (so each knows it was Broadside's revert), then every other open record.
 */
async function halt(
  ctx: EngineContext,
  drifts: BoardDrifts,
  by: string,
  reason: string,
): Promise<HaltResult> {
  const hold = await ctx.halt.hold({ since: ctx.clock.now(), by, reason });
  const ours = await drifts.revertAll();
  const reverted = await recoverExpired(ctx.ledger, ctx.targets, ctx.clock, { includeUnexpired: true });
  return { hold, reverted: ours + reverted.length };
}

/** Each namespace must exist, be opted in and not be protected: the engine's rails, asked before a game opens. */
async function refuseNamespaces(ctx: EngineContext, namespaces: readonly string[]): Promise<string[]> {
  const rails = { ...ctx.rails, optIn: true };
  const reasons = await Promise.all(
    namespaces.map(async (namespace) => {
      // Protected by name: refused without a read.
      const named = namespaceRailReason({ ...rails, optIn: false }, namespace, {});
      if (named !== undefined) return named;
      try {
        return namespaceRailReason(rails, namespace, await ctx.namespaces.annotations(namespace));
      } catch (error: unknown) {
        if (apiStatus(error) === 404) return `namespace ${namespace} does not exist`;
        return `namespace ${namespace} cannot be read: ${apiErrorMessage(error)}`;
      }
    }),
  );
  return reasons.filter((reason): reason is string => reason !== undefined);
}
