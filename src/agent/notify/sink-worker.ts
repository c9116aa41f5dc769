import type { Clock } from "../../core/clock.js";
import { describeError } from "../../core/errors.js";
import type { NotificationEvent } from "../../core/notify/event.js";
import { sendOnce, withinTimeout, type AttemptResult } from "./attempt.js";
import type { DeliveryPolicy, SinkConfig } from "./config.js";
import type { NotificationCounters, NotifyLog, SecretKeyReader, SinkLabels } from "./ports.js";
import { requestFor, type QueuedNotification } from "./requests.js";
import { deliverWithRetries, type DeliveryOutcome } from "./retry.js";

/**
 * One sink's bounded queue and the loop that empties it, one notification at a time, so a sink receives
 * them in the order they happened (injected before recovered). When the queue is full the oldest waiting
 * notification is dropped, as Prometheus' notifier does: the newest say what the cluster is like now.
 */

export interface WorkerDeps {
  readonly clock: Clock;
  readonly secrets: SecretKeyReader;
  readonly counters: NotificationCounters;
  readonly log: NotifyLog;
  readonly random: () => number;
}

/** An object as logs name it. */
function targetOf(event: NotificationEvent): object {
  return { kind: event.target.kind, namespace: event.target.namespace, name: event.target.name };
}

export class SinkWorker {
  private readonly queue: QueuedNotification[] = [];
  private busy = false;
  private done: Promise<void> = Promise.resolve();
  readonly labels: SinkLabels;

  constructor(
    private readonly sink: SinkConfig,
    private readonly policy: DeliveryPolicy,
    private readonly deps: WorkerDeps,
    private readonly stop: AbortSignal,
  ) {
    this.labels = { sink: sink.name, type: sink.type };
  }

  /** Queues `notification` and returns at once; starts the loop when it is not running. */
  offer(notification: QueuedNotification): void {
    if (this.queue.length >= this.policy.queueSize) this.dropOldest();
    this.queue.push(notification);
    if (this.busy) return;
    this.busy = true;
    this.done = this.drain().catch((error: unknown) => {
      this.busy = false;
      this.deps.log.error({ ...this.labels, err: describeError(error) }, "notification loop failed");
    });
  }

  /** Resolves when the queue is empty and nothing is in flight. */
  idle(): Promise<void> {
    return this.done;
  }

  /** Counts and logs what is still queued as dropped: the notifier stopped before it could be sent. */
  dropQueued(): void {
    const left = this.queue.splice(0);
    if (left.length === 0) return;
    for (let index = 0; index < left.length; index += 1) this.deps.counters.dropped(this.labels);
    this.deps.log.warn(
      { ...this.labels, dropped: left.length },
      "notifier closed, dropped queued notifications",
    );
  }

  private dropOldest(): void {
    const oldest = this.queue.shift();
    this.deps.counters.dropped(this.labels);
    if (oldest === undefined) return;
    this.deps.log.warn(
      {
        ...this.labels,
        event: oldest.event.type,
        target: targetOf(oldest.event),
        queueSize: this.policy.queueSize,
      },
      "notification queue full, dropped the oldest notification",
    );
  }

  private async drain(): Promise<void> {
    for (let next = this.nextUnlessStopped(); next !== undefined; next = this.nextUnlessStopped()) {
      this.settle(next, await this.deliver(next));
    }
    // In the same turn as the empty check: an offer() from now on starts a new loop.
    this.busy = false;
  }

  /** The next notification to send; none once the notifier stopped (dropQueued counts the rest). */
  private nextUnlessStopped(): QueuedNotification | undefined {
    return this.stop.aborted ? undefined : this.queue.shift();
  }

  private deliver(notification: QueuedNotification): Promise<DeliveryOutcome> {
    const context = { ...this.labels, event: notification.event.type, target: targetOf(notification.event) };
    return deliverWithRetries(() => this.attempt(notification), {
      clock: this.deps.clock,
      policy: this.policy,
      random: this.deps.random,
      stop: this.stop,
      retrying: (result, delayMs, attempt) => {
        this.deps.counters.retried(this.labels);
        this.deps.log.info(
          { ...context, attempt, delayMs, status: result.status, problem: result.problem },
          "notification attempt failed, retrying",
        );
      },
    });
  }

  private async attempt(notification: QueuedNotification): Promise<AttemptResult> {
    const timeoutMs = this.policy.attemptTimeoutMs;
    const reading = requestFor(this.sink, notification, this.deps.secrets);
    // The Secret read counts against the attempt's timeout: an API server that never answers must not
    // hold the sink's queue forever.
    const request = await withinTimeout(reading, this.deps.clock, timeoutMs, this.stop);
    if (request === undefined) return { outcome: "retry", problem: `no Secret within ${timeoutMs} ms` };
    if (!("url" in request)) {
      return request.retry
        ? { outcome: "retry", problem: request.problem }
        : { outcome: "fail", problem: request.problem };
    }
    return sendOnce(request, { clock: this.deps.clock, timeoutMs, stop: this.stop });
  }

  private settle(notification: QueuedNotification, outcome: DeliveryOutcome): void {
    const context = { ...this.labels, event: notification.event.type, target: targetOf(notification.event) };
    if (outcome.outcome === "delivered") {
      this.deps.counters.delivered(this.labels);
      this.deps.log.info(
        { ...context, attempts: outcome.attempts, status: outcome.status },
        "notification delivered",
      );
    } else if (outcome.outcome === "failed") {
      this.deps.counters.failed(this.labels);
      this.deps.log.warn(
        { ...context, attempts: outcome.attempts, status: outcome.status, problem: outcome.problem },
        "notification failed",
      );
    } else {
      this.deps.counters.dropped(this.labels);
      this.deps.log.warn(
        { ...context, attempts: outcome.attempts },
        "notifier closed, dropped a notification in flight",
      );
    }
  }
}
