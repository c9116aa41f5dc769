import type { KubernetesObject } from "@kubernetes/client-node";
import { setTimer, systemClock, type Clock } from "../../core/clock.js";
import { deferred } from "../../core/deferred.js";
import { Duration } from "../../core/duration.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import { JitteredBackoff } from "../../core/limits/jittered-backoff.js";
import { optional } from "../../core/objects.js";
import { diffList, isChangeType, isNamedObject, objectKey, resourceVersionOf } from "./object-cache.js";
import type { Change } from "./object-cache.js";
import { statusOf } from "./source.js";
import type { ListResult, WatchSource } from "./source.js";
import { WatchAttempt } from "./watch-attempt.js";
import type { WatchEnd, WatchOutcome } from "./watch-attempt.js";

/** One change delivered to subscribers. */
export interface InformerEvent<T> extends Change<T> {
  /** Epoch milliseconds when the event (or the LIST it was derived from) arrived: recovery is timed from it. */
  readonly receivedAt: number;
  /**
   * "watch": a WATCH event, as the server sent it. "list": the first LIST (everything is ADDED; none
   * when the informer starts from a LIST the caller made, see InformerOptions.startFrom).
   * "relist": derived by comparing a LIST after 410 Gone with the cache, so the consumer's view is
   * corrected for whatever happened while the informer could not watch.
   */
  readonly origin: "watch" | "list" | "relist";
}

export type InformerListener<T> = (event: InformerEvent<T>) => void;

/** Why the informer is about to retry, and after how long. */
export interface InformerRetry {
  readonly reason: "list-failed" | Exclude<WatchEnd["kind"], "stopped">;
  readonly delayMs: number;
  /** Failures since the backoff was last reset (by a watch that stayed healthy long enough). */
  readonly consecutiveFailures: number;
}

export interface InformerOptions<T extends KubernetesObject = KubernetesObject> {
  readonly source: WatchSource;
  /** Names the collection in error messages, e.g. "pods in namespace shop". */
  readonly description?: string;
  /** Stamps events and drives the backoff, the watchdog and the LIST timeout. Default: systemClock. */
  readonly clock?: Clock;
  /**
   * A LIST the caller already made: the cache starts with its items and the first watch from its
   * resourceVersion, without a LIST of the informer's own and without events for those items. So objects
   * that existed before never appear as ADDED, not even after a 410 Gone: the relist is compared with
   * this cache, and reports only what changed since (DELETED, MODIFIED, ADDED with origin "relist").
   */
  readonly startFrom?: ListResult;
  /** In [0, 1), like Math.random: draws the backoff jitter. */
  readonly random?: () => number;
  /** Default 100 ms. */
  readonly minBackoffMs?: number;
  /** Default 10 s. */
  readonly maxBackoffMs?: number;
  /** A watch that lasted this long resets the backoff when it ends. Default 30 s. */
  readonly healthyAfterMs?: number;
  /**
   * With no event at all (bookmarks count) for this long, the watch is presumed dead and restarted.
   * Default 90 s: kube-apiserver sends a quiet watch a bookmark only about once a minute (60.5 s after
   * the watch opened, measured on the sandbox), so a timeout of a minute would cut healthy quiet watches.
   */
  readonly noEventTimeoutMs?: number;
  /** A LIST that takes longer (all its pages together) is abandoned and retried. Default 60 s. */
  readonly listTimeoutMs?: number;
  /**
   * Objects asked for per LIST page (the API server's `limit` and `continue`). Default 500, client-go's
   * pager's page size. Each page is transformed as it arrives, so with a transform the untrimmed LIST
   * never lives whole: 10,000 pods come as 20 bodies of about 1.2 MB rather than one of 25 MB.
   */
  readonly listPageSize?: number;
  /** Every failure, as it happens; the informer itself carries on. */
  readonly onError?: (error: BroadsideError) => void;
  readonly onRetry?: (retry: InformerRetry) => void;
  /**
   * Applied to every object as it arrives (LIST, relist, startFrom and watch events alike), before it is
   * cached or delivered: client-go's SetTransform. A cache of pods keeps only the fields its readers use
   * (kube/pod-cache.ts), so 10,000 pods fit in a small resident set. It must keep metadata.name and
   * metadata.namespace (the cache key) and metadata.resourceVersion (where a watch resumes).
   */
  readonly transform?: (object: T) => T;
}

export interface InformerStats {
  /** The first LIST has been applied. */
  readonly synced: boolean;
  /** The last resourceVersion seen: from a LIST, an object in an event, or a bookmark. */
  readonly resourceVersion: string;
  /** Successful LISTs, the first included. */
  readonly lists: number;
  /** LISTs after 410 Gone. */
  readonly relists: number;
  /** Watches that ended (for any reason but stop()) and were opened again. */
  readonly restarts: number;
  /** Failures reported to onError. */
  readonly errors: number;
  readonly watchdogFirings: number;
  /** Arrival time of the last watch event, bookmarks included. */
  readonly lastEventAt: number | undefined;
}

type Step = "list" | "watch";

interface Settings {
  readonly description: string;
  readonly clock: Clock;
  readonly healthyAfterMs: number;
  readonly noEventTimeoutMs: number;
  readonly listTimeoutMs: number;
  readonly listPageSize: number;
}

/** A whole LIST, every page of it, its objects transformed. */
interface Listed<T> {
  readonly items: T[];
  readonly resourceVersion: string;
}

/**
 * A cache of one collection kept current by LIST then WATCH, and kept running whatever happens to the
 * connection: client-node's own informer stops for good on many errors (its issues #364, #596, #958,
 * #1496, #1933). Every watch end restarts the watch with jittered exponential backoff from the last
 * resourceVersion seen; 410 Gone relists and reports the difference as events; a watchdog restarts a
 * watch that has gone silent.
 */
export class Informer<T extends KubernetesObject> {
  private cache = new Map<string, T>();
  private readonly listeners = new Set<InformerListener<T>>();
  private readonly backoff: JitteredBackoff;
  private readonly settings: Settings;
  private readonly synced = deferred<undefined>();
  private readonly watching = deferred<undefined>();
  private readonly counters = { lists: 0, relists: 0, restarts: 0, errors: 0, watchdogFirings: 0 };
  private resourceVersion = "";
  private lastEventAt: number | undefined;
  private isSynced = false;
  private stopping = false;
  private loop: Promise<void> | undefined;
  /** Cuts short whatever the loop is waiting on: a LIST, a watch, or a backoff pause. */
  private interrupt: (() => void) | undefined;

  constructor(private readonly options: InformerOptions<T>) {
    this.settings = {
      description: options.description ?? "the watched collection",
      clock: options.clock ?? systemClock,
      healthyAfterMs: options.healthyAfterMs ?? 30_000,
      noEventTimeoutMs: options.noEventTimeoutMs ?? 90_000,
      listTimeoutMs: options.listTimeoutMs ?? 60_000,
      listPageSize: options.listPageSize ?? 500,
    };
    this.backoff = new JitteredBackoff(
      {
        min: Duration.ofMilliseconds(options.minBackoffMs ?? 100),
        max: Duration.ofMilliseconds(options.maxBackoffMs ?? 10_000),
      },
      options.random ?? Math.random,
    );
    // A caller that never awaits start() must not get an unhandled rejection when it stops early.
    void this.synced.promise.catch(() => undefined);
    void this.watching.promise.catch(() => undefined);
  }

  /**
   * Starts listing and watching. Resolves once the first LIST is in the cache (retrying until it
   * succeeds), at once with startFrom; rejects only if stop() comes first.
   */
  start(): Promise<void> {
    if (this.stopping) {
      return Promise.reject(new BroadsideError("BRD_INTERNAL", "an informer cannot be started after stop()"));
    }
    this.loop ??= this.run();
    return this.synced.promise;
  }

  /**
   * Resolves once a watch has been established for the first time: from then on, changes are stamped as
   * they happen rather than replayed late. Rejects only if stop() comes first.
   */
  whenWatching(): Promise<void> {
    return this.watching.promise;
  }

  /** Aborts the LIST or watch in flight and any pending retry; resolves when nothing is left running. */
  async stop(): Promise<void> {
    if (!this.stopping) {
      this.stopping = true;
      this.interrupt?.();
      const message = `the informer for ${this.settings.description} was stopped before its first list`;
      if (!this.isSynced) this.synced.reject(new BroadsideError("BRD_KUBE_API", message));
      const unwatched = `the informer for ${this.settings.description} was stopped before it watched`;
      this.watching.reject(new BroadsideError("BRD_KUBE_API", unwatched));
    }
    if (this.loop !== undefined) await this.loop;
  }

  /** Calls `listener` for every change from now on; returns the unsubscribe function. */
  subscribe(listener: InformerListener<T>): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Pass "" as the namespace for a cluster-scoped object. */
  get(namespace: string, name: string): T | undefined {
    return this.cache.get(`${namespace}/${name}`);
  }

  list(): T[] {
    return [...this.cache.values()];
  }

  get stats(): InformerStats {
    return {
      ...this.counters,
      synced: this.isSynced,
      resourceVersion: this.resourceVersion,
      lastEventAt: this.lastEventAt,
    };
  }

  private async run(): Promise<void> {
    let step: Step = "list";
    if (this.options.startFrom !== undefined) {
      this.prime(this.options.startFrom);
      step = "watch";
    }
    while (!this.stopping) {
      try {
        step = step === "list" ? await this.listOnce() : await this.watchOnce();
      } catch (error: unknown) {
        // Only a bug gets here; keep the informer alive, and start over from a LIST.
        this.report(
          new BroadsideError("BRD_INTERNAL", `informer loop: ${describeError(error)}`, { cause: error }),
        );
        step = "list";
        await this.pause("list-failed");
      }
    }
  }

  private async listOnce(): Promise<Step> {
    const relist = this.isSynced;
    try {
      const result = await this.listWithTimeout();
      this.applyList(result, relist ? "relist" : "list");
      return "watch";
    } catch (error: unknown) {
      if (this.stopping) return "list";
      this.report(kubeError(`listing ${this.settings.description} failed`, error));
      await this.pause("list-failed");
      return "list";
    }
  }

  private async listWithTimeout(): Promise<Listed<T>> {
    const controller = new AbortController();
    this.interrupt = () => {
      controller.abort(new BroadsideError("BRD_INTERNAL", "the informer was stopped"));
    };
    const cancelTimer = setTimer(this.settings.clock, this.settings.listTimeoutMs, () => {
      controller.abort(new BroadsideError("BRD_TIMEOUT", `no answer in ${this.settings.listTimeoutMs} ms`));
    });
    try {
      return await untilAborted(this.listPages(controller.signal), controller.signal);
    } finally {
      cancelTimer();
      this.interrupt = undefined;
    }
  }

  /**
   * The LIST, page by page, as client-go's pager reads it. Each page is transformed before the next is
   * asked for. A continue token that expired before the last page (410: the snapshot the pages come from
   * was compacted) starts the LIST over from its first page, at a newer snapshot, as the API server asks;
   * client-go falls back to one unpaged LIST there, which would bring back the whole body at once.
   */
  private async listPages(signal: AbortSignal): Promise<Listed<T>> {
    let items: T[] = [];
    let token: string | undefined;
    for (;;) {
      if (signal.aborted) throw abortReason(signal);
      const page = await this.listPage(signal, token);
      if (page === "expired") {
        items = [];
        token = undefined;
        continue;
      }
      items.push(...this.itemsOf(page));
      if (page.continue === undefined) return { items, resourceVersion: page.resourceVersion };
      token = page.continue;
    }
  }

  /** One page; "expired" when a continue token is refused with 410 (reported, so the restart is seen). */
  private async listPage(signal: AbortSignal, token: string | undefined): Promise<ListResult | "expired"> {
    const page = { limit: this.settings.listPageSize, ...optional("continue", token) };
    try {
      return await this.options.source.list(signal, page);
    } catch (error: unknown) {
      if (token === undefined || statusOf(error) !== 410) throw error;
      this.report(
        kubeError(`listing ${this.settings.description}: the continue token expired; listing again`, error),
      );
      return "expired";
    }
  }

  /** startFrom: the caller's LIST becomes the cache, silently, as if it had always been there. */
  private prime(result: ListResult): void {
    for (const item of this.itemsOf(result)) this.cache.set(objectKey(item), item);
    this.resourceVersion = result.resourceVersion;
    this.isSynced = true;
    this.synced.resolve(undefined);
  }

  private itemsOf(result: ListResult): T[] {
    const items: T[] = [];
    for (const value of result.items) {
      const item = this.asItem(value);
      if (item === undefined)
        this.report(new BroadsideError("BRD_KUBE_API", "the LIST held an object with no name"));
      else items.push(item);
    }
    return items;
  }

  private applyList(result: Listed<T>, origin: "list" | "relist"): void {
    const receivedAt = this.settings.clock.now();
    const { next, changes } = diffList(this.cache, result.items);
    this.cache = next;
    this.resourceVersion = result.resourceVersion;
    this.counters.lists += 1;
    if (origin === "relist") this.counters.relists += 1;
    this.isSynced = true;
    this.synced.resolve(undefined);
    for (const change of changes) this.emit({ ...change, receivedAt, origin });
  }

  private async watchOnce(): Promise<Step> {
    const attempt = new WatchAttempt({
      source: this.options.source,
      clock: this.settings.clock,
      resourceVersion: this.resourceVersion,
      noEventTimeoutMs: this.settings.noEventTimeoutMs,
      onEvent: (type, object, receivedAt) => {
        this.onWatchEvent(type, object, receivedAt);
      },
      onConnected: () => {
        this.watching.resolve(undefined);
      },
    });
    this.interrupt = () => {
      attempt.stop();
    };
    const outcome = await attempt.run();
    this.interrupt = undefined;
    if (this.stopping || outcome.end.kind === "stopped") return "watch";
    this.counters.restarts += 1;
    this.reportEnd(outcome.end);
    if (ranHealthy(outcome, this.settings.healthyAfterMs)) this.backoff.reset();
    await this.pause(outcome.end.kind);
    return outcome.end.kind === "gone" ? "list" : "watch";
  }

  private onWatchEvent(type: string, object: unknown, receivedAt: number): void {
    this.lastEventAt = receivedAt;
    if (type === "BOOKMARK") {
      this.resourceVersion = resourceVersionOf(object) ?? this.resourceVersion;
      return;
    }
    const item = this.asItem(object);
    if (item === undefined || !isChangeType(type)) {
      this.report(new BroadsideError("BRD_KUBE_API", `ignored a malformed watch event of type "${type}"`));
      return;
    }
    this.resourceVersion = resourceVersionOf(item) ?? this.resourceVersion;
    if (type === "DELETED") this.cache.delete(objectKey(item));
    else this.cache.set(objectKey(item), item);
    this.emit({ type, object: item, receivedAt, origin: "watch" });
  }

  private reportEnd(end: WatchEnd): void {
    const what = `the watch of ${this.settings.description}`;
    if (end.kind === "error") this.report(kubeError(`${what} failed`, end.error));
    else if (end.kind === "gone") {
      this.report(
        new BroadsideError("BRD_KUBE_API", `${what} expired (410 Gone: ${end.message}); relisting`),
      );
    } else if (end.kind === "watchdog") {
      this.counters.watchdogFirings += 1;
      const message = `${what} was silent for ${end.silentMs} ms (no event, no bookmark); restarting it`;
      this.report(new BroadsideError("BRD_TIMEOUT", message));
    }
  }

  /** Waits out the next backoff delay, or until stop(). */
  private pause(reason: InformerRetry["reason"]): Promise<void> {
    const delayMs = this.backoff.next();
    this.notify(reason, delayMs);
    return new Promise<void>((resolve) => {
      const cancel = setTimer(this.settings.clock, delayMs, () => {
        this.interrupt = undefined;
        resolve();
      });
      this.interrupt = () => {
        cancel();
        resolve();
      };
    });
  }

  private notify(reason: InformerRetry["reason"], delayMs: number): void {
    try {
      this.options.onRetry?.({ reason, delayMs, consecutiveFailures: this.backoff.attempts });
    } catch (error: unknown) {
      this.report(
        new BroadsideError("BRD_INTERNAL", `onRetry threw: ${describeError(error)}`, { cause: error }),
      );
    }
  }

  private emit(event: InformerEvent<T>): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error: unknown) {
        // One failing subscriber must neither stop the others nor the informer.
        this.report(
          new BroadsideError("BRD_INTERNAL", `a subscriber threw: ${describeError(error)}`, { cause: error }),
        );
      }
    }
  }

  /**
   * The cast is the boundary where wire JSON becomes the collection's type, as in client-node's own
   * Watch, which hands its callback `any`.
   */
  private asItem(value: unknown): T | undefined {
    if (!isNamedObject(value)) return undefined;
    const transform = this.options.transform;
    return transform === undefined ? (value as T) : transform(value as T);
  }

  private report(error: BroadsideError): void {
    this.counters.errors += 1;
    try {
      this.options.onError?.(error);
    } catch {
      // Nowhere left to report a failing error handler; the count above still records the error.
    }
  }
}

function kubeError(what: string, cause: unknown): BroadsideError {
  return new BroadsideError("BRD_KUBE_API", `${what}: ${describeError(cause)}`, { cause });
}

function ranHealthy(outcome: WatchOutcome, healthyAfterMs: number): boolean {
  return outcome.connectedAt !== undefined && outcome.endedAt - outcome.connectedAt >= healthyAfterMs;
}

/** `work`, or a rejection as soon as `signal` aborts, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortReason(signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new BroadsideError("BRD_KUBE_API", describeError(error)));
      },
    );
  });
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new BroadsideError("BRD_INTERNAL", "aborted");
}
