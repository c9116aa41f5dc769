import type { Clock } from "../../core/clock.js";
import type { NotificationEvent } from "../../core/notify/event.js";
import { describeError } from "../../core/errors.js";
import type { NotificationConfig, SinkConfig } from "./config.js";
import type { NotificationCounters, NotifyLog, SecretKeyReader } from "./ports.js";
import { messageFor } from "./requests.js";
import { withinTimeout } from "./attempt.js";
import { SinkWorker } from "./sink-worker.js";

/**
 * The agent's notifier: notify(event) queues the event's message for each sink that wants it and returns
 * at once; delivery happens behind it, one loop per sink. Nothing it does is awaited by, or raised into,
 * the engine: a full queue, a failed delivery or a missing Secret is counted and logged.
 */
export interface Notifier {
  /** Queues `event` for every sink that wants it; never blocks, never throws. */
  notify(event: NotificationEvent): void;
  /**
   * Stops taking events, keeps delivering what is queued until every queue is empty or the drain timeout
   * passes, then aborts what is in flight and drops (counts) the rest. Resolves when every loop stopped.
   */
  close(): Promise<void>;
}

export interface NotifierDeps {
  readonly clock: Clock;
  readonly secrets: SecretKeyReader;
  readonly counters: NotificationCounters;
  readonly log: NotifyLog;
  /** In [0, 1), like Math.random: the jitter of the backoff. */
  readonly random: () => number;
}

export function createNotifier(config: NotificationConfig, deps: NotifierDeps): Notifier {
  const stop = new AbortController();
  const workers = config.sinks.map((sink) => ({
    sink,
    worker: new SinkWorker(sink, config.delivery, deps, stop.signal),
  }));
  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    const idle = Promise.all(workers.map(({ worker }) => worker.idle()));
    await withinTimeout(idle, deps.clock, config.delivery.drainTimeoutMs);
    stop.abort();
    await idle;
    for (const { worker } of workers) worker.dropQueued();
  };
  return {
    notify(event) {
      for (const { sink, worker } of workers) {
        if (!sink.events.has(event.type)) continue;
        if (closing === undefined) offer(sink, worker, event, deps);
        else deps.counters.dropped(worker.labels);
      }
    },
    close() {
      closing ??= close();
      return closing;
    },
  };
}

/**
 * Renders and queues; a message that cannot be rendered (an event object not of the declared shape) is
 * counted failed and logged, because notify must never throw into the engine.
 */
function offer(sink: SinkConfig, worker: SinkWorker, event: NotificationEvent, deps: NotifierDeps): void {
  try {
    worker.offer({ event, text: messageFor(sink, event) });
  } catch (error: unknown) {
    deps.counters.failed(worker.labels);
    deps.log.error(
      { ...worker.labels, event: event.type, err: describeError(error) },
      "notification could not be rendered",
    );
  }
}
