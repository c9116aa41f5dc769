import type { V1Pod } from "@kubernetes/client-node";
import { optional } from "../core/objects.js";

/*
 * What a container kill is measured by, folded from the pod's watch events, each stamped when it
 * arrived: the container running again (its restartCount above the count before the kill, state
 * running) and the pod Ready again after that. Pure, so the unit tests feed it events by hand.
 */

export interface ContainerMilestones {
  /** Epoch ms: the event that showed the container running again after a restart. */
  readonly runningAgainAt?: number | undefined;
  /** Epoch ms: the first event, at or after running again, with the pod's Ready condition True. */
  readonly readyAgainAt?: number | undefined;
  /**
   * The pod's resourceVersion in each of those two events: equal when one event showed both (a kubelet
   * without a readiness probe reports the container running and ready at once), else two distinct events.
   */
  readonly runningAgainVersion?: string | undefined;
  readonly readyAgainVersion?: string | undefined;
  /** The pod's Ready condition was seen False in between. */
  readonly readyLost: boolean;
  readonly restartCount?: number | undefined;
  /** lastState.terminated of the restarted container, as the status reports it. */
  readonly lastTerminated?: { readonly exitCode?: number; readonly reason?: string } | undefined;
}

export class ContainerRecoveryFold {
  private state: ContainerMilestones = { readyLost: false };

  constructor(
    private readonly container: string,
    private readonly restartCountBefore: number,
  ) {}

  get milestones(): ContainerMilestones {
    return this.state;
  }

  /** Both milestones are in. */
  get complete(): boolean {
    return this.state.readyAgainAt !== undefined;
  }

  observe(pod: V1Pod, receivedAt: number): void {
    const ready = pod.status?.conditions?.find((condition) => condition.type === "Ready")?.status;
    let next = this.state;
    if (ready === "False" && next.readyAgainAt === undefined) next = { ...next, readyLost: true };
    if (next.runningAgainAt === undefined) next = { ...next, ...this.runningAgain(pod, receivedAt) };
    if (next.runningAgainAt !== undefined && next.readyAgainAt === undefined && ready === "True")
      next = { ...next, readyAgainAt: receivedAt, readyAgainVersion: versionOf(pod) };
    this.state = next;
  }

  /** The running-again milestone, when this event shows the container restarted and running. */
  private runningAgain(pod: V1Pod, receivedAt: number): Partial<ContainerMilestones> {
    const status = pod.status?.containerStatuses?.find((each) => each.name === this.container);
    if (status === undefined || status.restartCount <= this.restartCountBefore) return {};
    if (status.state?.running === undefined) return {};
    return {
      runningAgainAt: receivedAt,
      runningAgainVersion: versionOf(pod),
      restartCount: status.restartCount,
      lastTerminated: terminatedOf(status.lastState?.terminated),
    };
  }
}

function versionOf(pod: V1Pod): string | undefined {
  return pod.metadata?.resourceVersion;
}

function terminatedOf(
  terminated: { readonly exitCode?: number; readonly reason?: string } | undefined,
): ContainerMilestones["lastTerminated"] {
  if (terminated === undefined) return undefined;
  return {
    ...optional("exitCode", terminated.exitCode),
    ...optional("reason", terminated.reason),
  };
}
