import { setTimer, type Clock } from "../../core/clock.js";
import { deferred } from "../../core/deferred.js";
import { describeError } from "../../core/errors.js";
import { KubeStatusError, asStatus, isGoneStatus, statusOf } from "./source.js";
import type { WatchHandle, WatchSource } from "./source.js";

/** Why one watch connection ended. */
export type WatchEnd =
  /** The server closed the stream cleanly: its timeoutSeconds ran out, or it is shutting down. */
  | { readonly kind: "ended" }
  | { readonly kind: "error"; readonly error: unknown }
  /** 410: the resourceVersion is too old to resume from; only a new LIST helps. */
  | { readonly kind: "gone"; readonly message: string }
  /** Nothing arrived, not even a bookmark, for the no-event timeout: the stream is presumed dead. */
  | { readonly kind: "watchdog"; readonly silentMs: number }
  | { readonly kind: "stopped" };

export interface WatchOutcome {
  readonly end: WatchEnd;
  /** When the source said the watch was established; undefined when it never was. */
  readonly connectedAt: number | undefined;
  readonly endedAt: number;
}

export interface WatchAttemptOptions {
  readonly source: WatchSource;
  readonly clock: Clock;
  readonly resourceVersion: string;
  readonly noEventTimeoutMs: number;
  /** Every event but ERROR, with its arrival time; ERROR events end the attempt instead. */
  readonly onEvent: (type: string, object: unknown, receivedAt: number) => void;
  /** The source said the watch is established (before any event of it). */
  readonly onConnected?: () => void;
}

/**
 * One watch connection, from opening to its end, whatever ends it. It settles exactly once; events and
 * callbacks that arrive after that (client-node calls `done` again when we abort it) are ignored, so a
 * late message from an old connection can never touch the cache.
 */
export class WatchAttempt {
  private readonly outcome = deferred<WatchOutcome>();
  private settled = false;
  private handle: WatchHandle | undefined;
  private connectedAt: number | undefined;
  private lastActivity: number;
  private cancelWatchdog: () => void = () => undefined;

  constructor(private readonly options: WatchAttemptOptions) {
    this.lastActivity = options.clock.now();
  }

  /** Opens the watch; resolves when it has ended. Never rejects. */
  run(): Promise<WatchOutcome> {
    // Armed before opening: a connection that hangs before its first byte is as dead as a silent one.
    this.armWatchdog(this.options.noEventTimeoutMs);
    try {
      this.options.source
        .watch(
          this.options.resourceVersion,
          (type, object) => {
            this.onEvent(type, object);
          },
          (error) => {
            this.onDone(error);
          },
        )
        .then(
          (handle) => {
            this.onConnected(handle);
          },
          (error: unknown) => {
            this.finish({ kind: "error", error });
          },
        );
    } catch (error: unknown) {
      this.finish({ kind: "error", error });
    }
    return this.outcome.promise;
  }

  stop(): void {
    this.finish({ kind: "stopped" });
  }

  private onConnected(handle: WatchHandle): void {
    if (this.settled) {
      abortQuietly(handle);
      return;
    }
    this.handle = handle;
    this.connectedAt = this.options.clock.now();
    this.options.onConnected?.();
  }

  private onEvent(type: string, object: unknown): void {
    if (this.settled) return;
    const receivedAt = this.options.clock.now();
    this.lastActivity = receivedAt;
    if (type === "ERROR") {
      this.onErrorEvent(object);
      return;
    }
    try {
      this.options.onEvent(type, object, receivedAt);
    } catch (error: unknown) {
      // client-node's Watch swallows what its callback throws; end the attempt so it is reported.
      this.finish({ kind: "error", error });
    }
  }

  private onErrorEvent(object: unknown): void {
    const status = asStatus(object);
    const message = status.message ?? "no message";
    if (isGoneStatus(status)) {
      this.finish({ kind: "gone", message });
      return;
    }
    const error = new KubeStatusError(status.code ?? 0, `the watch sent an ERROR event: ${message}`);
    this.finish({ kind: "error", error });
  }

  private onDone(error: unknown): void {
    if (error === null || error === undefined) this.finish({ kind: "ended" });
    else if (statusOf(error) === 410) this.finish({ kind: "gone", message: describeError(error) });
    else this.finish({ kind: "error", error });
  }

  private armWatchdog(ms: number): void {
    this.cancelWatchdog = setTimer(this.options.clock, ms, () => {
      this.onWatchdog();
    });
  }

  /** Re-arms for the rest of the quiet period instead of re-arming on every event, which is cheaper. */
  private onWatchdog(): void {
    const silentMs = this.options.clock.now() - this.lastActivity;
    const timeout = this.options.noEventTimeoutMs;
    if (silentMs >= timeout) this.finish({ kind: "watchdog", silentMs });
    else this.armWatchdog(timeout - silentMs);
  }

  private finish(end: WatchEnd): void {
    if (this.settled) return;
    this.settled = true;
    this.cancelWatchdog();
    if (this.handle !== undefined) abortQuietly(this.handle);
    const endedAt = this.options.clock.now();
    this.outcome.resolve({ end, connectedAt: this.connectedAt, endedAt });
  }
}

function abortQuietly(handle: WatchHandle): void {
  try {
    handle.abort();
  } catch {
    // Aborting a connection that is already gone may throw; it is gone either way.
  }
}
