import type { Clock } from "../core/clock.js";
import { describeError } from "../core/errors.js";
import type { PodLabels } from "../kube/pod-labels.js";

/**
 * The label that routes the board's Service to the leader (docs/board.md, "In the cluster"; ADR 0036):
 * the chart's Service `broadside-agent-board` selects the agent's pods that carry it, and only the replica
 * that serves the board puts it on its own pod.
 */
export const boardLeaderLabel = { key: "broadside.dev/board", value: "leader" } as const;

/** What the leader's board does to be found (board/leader-board.ts): marked while it serves, unmarked after. */
export interface LeaderMark {
  /** Marks this replica as the one serving, tried again until done or `leading` ends; never rejects. */
  claim(leading: AbortSignal): Promise<void>;
  /** Removes this replica's mark, once; never rejects (a failure is logged: the next leader removes it). */
  release(): Promise<void>;
}

export interface LeaderPodLabelLog {
  info(context: object, message: string): void;
  error(context: object, message: string): void;
}

export interface LeaderPodLabelOptions {
  readonly pods: PodLabels;
  /** The agent's own pod (BROADSIDE_POD_NAME and BROADSIDE_POD_NAMESPACE, from the Downward API). */
  readonly self: { readonly namespace: string; readonly name: string };
  readonly clock: Clock;
  readonly log: LeaderPodLabelLog;
  /** ms between tries while the label could not be put on (the API server unreachable, say). */
  readonly retryMs?: number;
}

/**
 * The leader's mark as a pod label. Claiming first removes the label from every other pod of the namespace
 * that carries it (a previous leader that hung, or lost the Lease without cleaning up), then puts it on the
 * replica's own pod: with one Lease holder at a time, the Service ends with one endpoint, the leader's.
 */
export class LeaderPodLabel implements LeaderMark {
  constructor(private readonly options: LeaderPodLabelOptions) {}

  async claim(leading: AbortSignal): Promise<void> {
    const { clock, log, retryMs } = this.options;
    while (!leading.aborted) {
      try {
        const unlabelled = await this.claimOnce();
        log.info({ pod: this.pod(), unlabelled }, "board pod labelled: leader");
        return;
      } catch (error: unknown) {
        log.error(
          { pod: this.pod(), err: describeError(error) },
          "could not label the board's pod; retrying",
        );
        await clock.sleep(retryMs ?? 5_000, leading);
      }
    }
  }

  async release(): Promise<void> {
    const { pods, self, log } = this.options;
    try {
      await pods.label(self.namespace, self.name, boardLeaderLabel.key, null);
      log.info({ pod: this.pod() }, "board pod unlabelled");
    } catch (error: unknown) {
      log.error(
        { pod: this.pod(), err: describeError(error) },
        "could not unlabel the board's pod; the next leader removes the label",
      );
    }
  }

  /** The label off every other pod, then on this one; the names of the pods it was taken from. */
  private async claimOnce(): Promise<string[]> {
    const { pods, self } = this.options;
    const { key, value } = boardLeaderLabel;
    const others = (await pods.carrying(self.namespace, key, value)).filter((name) => name !== self.name);
    for (const other of others) await pods.label(self.namespace, other, key, null);
    await pods.label(self.namespace, self.name, key, value);
    return others;
  }

  private pod() {
    return { kind: "Pod", namespace: this.options.self.namespace, name: this.options.self.name };
  }
}
