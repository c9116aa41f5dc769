import { capFor, workloadOf } from "../targeting/rails.js";
import { plural } from "../targeting/text.js";
import type { Exclusion, PodFacts, PodIndex, Rails } from "../targeting/types.js";

/**
 * The blast-radius cap across runs. planTargets caps one run at floor(fraction × ready) pods per workload,
 * from the pods it listed; two runs that list the same workload at the same time (two PodChaos, a
 * Schedule's children under Allow, a PodChaos beside a Schedule) would each take their share, and a run
 * just after another still sees the pods the first deleted as Ready while its cache lags. This is the
 * process-wide count that closes that gap: every pod a run shoots is held as down until that run has
 * watched its recovery (or given up), and a run is admitted only as many pods as keep the workload's
 * pods down within floor(fraction × healthy), healthy being its Ready pods not held plus those held.
 *
 * One per process (EngineContext.downCap), so every reconcile of the agent shares it. `admit` is
 * synchronous: no other run can come between the check and the hold.
 */

export interface Admission {
  /** The pods this run may shoot, in the plan's order. */
  readonly admitted: readonly PodFacts[];
  /** The pods left out because others are down, with the reason. */
  readonly dropped: readonly Exclusion[];
  /** Gives back what this admission holds; idempotent. Call it once the run's recovery is known. */
  release(): void;
}

export class WorkloadDownCap {
  /** Per workload, the uids of the pods held as down. */
  private readonly down = new Map<string, Set<string>>();

  /**
   * Admits `selected` in order while the workload stays within its cap, and holds each admitted pod.
   * `allPods` is every pod the run listed (the cap counts the workload's Ready pods among them). With
   * rails.unsafe every pod is admitted, and still held, so other runs see it down. `index`, when the caller
   * keeps one for `allPods` (the agent's pod cache), spares a walk over them per pod admitted.
   */
  admit(
    selected: readonly PodFacts[],
    allPods: readonly PodFacts[],
    rails: Rails,
    index?: PodIndex,
  ): Admission {
    const held: { readonly workload: string; readonly uid: string }[] = [];
    const admitted: PodFacts[] = [];
    const dropped: Exclusion[] = [];
    for (const pod of selected) {
      const workload = workloadOf(pod);
      const reason = rails.unsafe ? undefined : this.refusal(workload, allPods, rails, index);
      if (reason !== undefined) {
        dropped.push({ pod, by: "rail", reason });
        continue;
      }
      this.hold(workload, pod.uid);
      held.push({ workload, uid: pod.uid });
      admitted.push(pod);
    }
    let released = false;
    return {
      admitted,
      dropped,
      release: () => {
        if (released) return;
        released = true;
        for (const { workload, uid } of held) this.releaseOne(workload, uid);
      },
    };
  }

  /** Pods of the workload held as down now. */
  downCount(workload: string): number {
    return this.down.get(workload)?.size ?? 0;
  }

  private refusal(
    workload: string,
    allPods: readonly PodFacts[],
    rails: Rails,
    index: PodIndex | undefined,
  ): string | undefined {
    const held = this.down.get(workload) ?? new Set<string>();
    const readyNotHeld =
      index === undefined
        ? allPods.filter(
            (pod) => workloadOf(pod) === workload && pod.ready && !pod.deleting && !held.has(pod.uid),
          ).length
        : (index.readyPerWorkload.get(workload) ?? 0) -
          [...held].filter((uid) => index.readyWorkloadOf(uid) === workload).length;
    const healthy = readyNotHeld + held.size;
    const cap = capFor(rails, healthy);
    if (held.size < cap) return undefined;
    return `blast-radius cap across runs: ${plural(held.size, "pod")} of ${workload} already down from other shots (at most ${cap} of ${healthy} at once); --unsafe lifts it`;
  }

  private hold(workload: string, uid: string): void {
    const pods = this.down.get(workload) ?? new Set<string>();
    pods.add(uid);
    this.down.set(workload, pods);
  }

  private releaseOne(workload: string, uid: string): void {
    const pods = this.down.get(workload);
    if (pods === undefined) return;
    pods.delete(uid);
    if (pods.size === 0) this.down.delete(workload);
  }
}
