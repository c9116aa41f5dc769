import type { SecretKeyRef, SinkType } from "./config.js";

/**
 * The seams of the notifier: reading a Secret's key, counting what became of notifications, and logging.
 * The agent implements them with the kube client, prom-client and pino; tests with the small in-memory
 * classes below.
 */

/** Reads Secrets of the agent's own namespace (the only ones its RBAC lets it get). */
export interface SecretKeyReader {
  /** The value of `ref.key` in Secret `ref.name`; undefined when the Secret or the key does not exist. */
  read(ref: SecretKeyRef): Promise<string | undefined>;
}

/** The labels of one sink: its configured name and its type. */
export interface SinkLabels {
  readonly sink: string;
  readonly type: SinkType;
}

/**
 * What became of notifications, per sink. delivered: the receiver answered 2xx. failed: given up (a 4xx
 * other than 429, every attempt used, a Secret or URL unusable). dropped: never sent (the queue was full,
 * or the notifier closed first). retried: one more attempt after a failed one.
 */
export interface NotificationCounters {
  delivered(sink: SinkLabels): void;
  failed(sink: SinkLabels): void;
  dropped(sink: SinkLabels): void;
  retried(sink: SinkLabels): void;
}

/** The subset of a pino logger the notifier writes through: constant messages, context as an object. */
export interface NotifyLog {
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

/** Secrets held in memory, `{ secretName: { key: value } }`: for tests and a local run. */
export class MemorySecretKeyReader implements SecretKeyReader {
  /** How many reads were made, to show that a value is read per delivery, not cached. */
  reads = 0;

  constructor(private readonly secrets: Record<string, Record<string, string>>) {}

  read(ref: SecretKeyRef): Promise<string | undefined> {
    this.reads += 1;
    return Promise.resolve(this.secrets[ref.name]?.[ref.key]);
  }

  /** Changes a value, as `kubectl apply` of the Secret would. */
  set(name: string, key: string, value: string): void {
    this.secrets[name] = { ...this.secrets[name], [key]: value };
  }
}

export interface SinkCounts {
  delivered: number;
  failed: number;
  dropped: number;
  retried: number;
}

/** Counts in memory, per sink name. */
export class MemoryNotificationCounters implements NotificationCounters {
  private readonly counts = new Map<string, SinkCounts>();

  of(sink: string): Readonly<SinkCounts> {
    return this.counts.get(sink) ?? { delivered: 0, failed: 0, dropped: 0, retried: 0 };
  }

  delivered(sink: SinkLabels): void {
    this.entry(sink).delivered += 1;
  }

  failed(sink: SinkLabels): void {
    this.entry(sink).failed += 1;
  }

  dropped(sink: SinkLabels): void {
    this.entry(sink).dropped += 1;
  }

  retried(sink: SinkLabels): void {
    this.entry(sink).retried += 1;
  }

  private entry(sink: SinkLabels): SinkCounts {
    let counts = this.counts.get(sink.sink);
    if (counts === undefined) {
      counts = { delivered: 0, failed: 0, dropped: 0, retried: 0 };
      this.counts.set(sink.sink, counts);
    }
    return counts;
  }
}
