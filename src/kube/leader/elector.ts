import type { Clock } from "../../core/clock.js";
import { BroadsideError, describeError } from "../../core/errors.js";
import { LeaseConflictError, type LeaseRecord, type LeaseStore, type ObservedLease } from "./lease-store.js";
import { jitterFactor, type LeaderTimings } from "./timings.js";

/*
 * Leader election on one Lease, with client-go's semantics (tools/leaderelection): every write is
 * conditional on the resourceVersion read, so of two candidates at most one wins a round; a candidate
 * takes over only when the record it observes has not changed for the lease's duration by its own clock,
 * so the holder's timestamps (another machine's clock) are never trusted; the leader renews every retry
 * period and steps down when it has not renewed for the renew deadline, which is shorter than the lease,
 * so it stops before anybody may start.
 */

export interface LeaderCallbacks {
  /**
   * This process leads from now until `signal` aborts (leadership lost, or the election stopped). The work
   * may return a promise: on a graceful stop, the lease is released only once it settles. A rejected
   * promise ends the leadership, so a leader whose work died does not keep the lease from the others.
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Leadership ended; called once after each onStartedLeading, after its signal aborted. */
  readonly onStoppedLeading?: () => void;
  /** The lease is held by someone new (this process included); not called when nobody holds it. */
  readonly onNewLeader?: (identity: string) => void;
}

/** The subset of a pino logger the elector writes through: constant messages, context as an object. */
export interface LeaderLog {
  debug(context: object, message: string): void;
  info(context: object, message: string): void;
  warn(context: object, message: string): void;
  error(context: object, message: string): void;
}

export interface ElectorOptions {
  readonly store: LeaseStore;
  /** Unique per process (a pod name and a random suffix): two processes with one identity both lead. */
  readonly identity: string;
  readonly clock: Clock;
  /** Checked already: see leaderTimings(). */
  readonly timings: LeaderTimings;
  readonly callbacks: LeaderCallbacks;
  readonly log: LeaderLog;
  /** On a graceful stop, clear the holder so another candidate takes over at once, not a lease later. */
  readonly releaseOnCancel?: boolean;
  /** Uniform in [0, 1), for the candidates' jitter; Math.random when not given. */
  readonly random?: () => number;
}

/** Why run() returned: stopped by its signal, leadership lost, or the leading work failed. */
export type ElectionEnd = "stopped" | "lost" | "failed";

type RenewOutcome = "renewed" | "retry" | "lost";

const timedOut: unique symbol = Symbol("timed out");

/**
 * `work`, or `timedOut` if `ms` pass on `clock` first. The timer goes when the work settles, so no sleep
 * is left behind on the clock.
 */
async function within<T>(clock: Clock, ms: number, work: Promise<T>): Promise<T | typeof timedOut> {
  const timer = new AbortController();
  const timeout = clock.sleep(ms, timer.signal).then((): typeof timedOut => timedOut);
  try {
    return await Promise.race([work, timeout]);
  } finally {
    timer.abort();
  }
}

export class LeaderElector {
  private observed: ObservedLease | undefined;
  /** When, by our clock, the observed record last changed: the start of its lease as we count it. */
  private observedAt = 0;
  /** When our last successful write was sent: the lease is ours until renewedAt + the renew deadline. */
  private renewedAt = 0;
  private reportedLeader = "";
  private leading = false;
  private running = false;

  constructor(private readonly options: ElectorOptions) {
    if (options.identity === "")
      throw new BroadsideError("BRD_INTERNAL", "a leader elector needs an identity");
  }

  /** Whether this process leads now. */
  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * Until when, by this process's clock, its last acquisition or renewal lets it act as leader: that
   * write's sending time plus the renew deadline (after a leadership, when it ended at the latest). A
   * leader whose event loop stalled past it learns only when it wakes that it lost; work that must not
   * overlap the next leader's checks this before it acts.
   */
  get mayLeadUntil(): number {
    return this.renewedAt === 0 ? 0 : this.renewedAt + this.options.timings.renewDeadlineMs;
  }

  /** The holder last observed, "" when none. */
  get leader(): string {
    return this.observed?.record.holderIdentity ?? "";
  }

  /**
   * Campaigns until this process leads, then leads until leadership is lost or `stop` aborts, as
   * client-go's Run. Run it again to stand again: a lost leadership is not retried here, so the caller
   * decides whether a process that lost the lease goes on as a candidate or exits.
   */
  async run(stop: AbortSignal): Promise<ElectionEnd> {
    if (this.running) throw new BroadsideError("BRD_INTERNAL", "this leader elector is running already");
    this.running = true;
    try {
      if (!(await this.acquire(stop))) return "stopped";
      // Won as the election was being stopped: nothing was started, so there is nothing to wind down.
      if (stop.aborted) {
        if (this.options.releaseOnCancel === true) await this.release();
        return "stopped";
      }
      return await this.lead(stop);
    } finally {
      this.running = false;
    }
  }

  private get context(): object {
    return { lease: this.options.store.describe, identity: this.options.identity };
  }

  private async acquire(stop: AbortSignal): Promise<boolean> {
    this.options.log.info(this.context, "trying to acquire the leader lease");
    while (!stop.aborted) {
      // An attempt that hangs is given up, as client-go's request timeout does; it wrote nothing or won
      // the lease fair and square, which the next attempt reads.
      const acquired = await within(
        this.options.clock,
        this.options.timings.renewDeadlineMs,
        this.tryAcquireOrRenew(),
      );
      this.reportLeader();
      if (acquired === true) return true;
      await this.options.clock.sleep(this.jitteredRetry(), stop);
    }
    return false;
  }

  private jitteredRetry(): number {
    const random = this.options.random ?? Math.random;
    return this.options.timings.retryPeriodMs * (1 + random() * jitterFactor);
  }

  private async lead(stop: AbortSignal): Promise<ElectionEnd> {
    this.leading = true;
    this.options.log.info(this.context, "became leader");
    const leadership = new AbortController();
    const workFailed = new AbortController();
    const work = this.startWork(leadership.signal, workFailed);
    const end = await this.renewWhileLeading(AbortSignal.any([stop, workFailed.signal]), workFailed.signal);
    leadership.abort();
    this.leading = false;
    if (end !== "lost" && this.options.releaseOnCancel === true) await this.releaseAfter(work);
    this.options.log.info({ ...this.context, end }, "stopped leading");
    this.safely("onStoppedLeading", () => this.options.callbacks.onStoppedLeading?.());
    return end;
  }

  /** The leading work, which never rejects: a failure is logged and ends the leadership. */
  private startWork(signal: AbortSignal, failed: AbortController): Promise<void> {
    return Promise.resolve()
      .then(() => this.options.callbacks.onStartedLeading(signal))
      .catch((error: unknown) => {
        this.options.log.error({ ...this.context, err: describeError(error) }, "the leading work failed");
        failed.abort();
      });
  }

  private async renewWhileLeading(stop: AbortSignal, workFailed: AbortSignal): Promise<ElectionEnd> {
    const { clock, timings } = this.options;
    for (;;) {
      await clock.sleep(timings.retryPeriodMs, stop);
      if (workFailed.aborted) return "failed";
      if (stop.aborted) return "stopped";
      const outcome = await this.renewBefore(this.renewedAt + timings.renewDeadlineMs);
      this.reportLeader();
      if (outcome === "lost") return "lost";
    }
  }

  /** One renewal, given up at `deadline` (by our clock) whether or not the API server has answered. */
  private async renewBefore(deadline: number): Promise<RenewOutcome> {
    const left = deadline - this.options.clock.now();
    const renewed = left > 0 ? await within(this.options.clock, left, this.tryAcquireOrRenew()) : timedOut;
    if (renewed === true) return "renewed";
    if (renewed === timedOut || this.options.clock.now() >= deadline) {
      this.options.log.warn(this.context, "could not renew the leader lease before the renew deadline");
      return "lost";
    }
    // Someone else holds it: client-go would keep trying until the deadline, but nothing can come of it.
    if (this.leader !== this.options.identity) {
      this.options.log.warn({ ...this.context, holder: this.leader }, "the leader lease was taken over");
      return "lost";
    }
    return "retry";
  }

  /**
   * client-go's tryAcquireOrRenew: the leader first writes against the version it holds (one request);
   * everyone else, and the leader when that fails, reads the lease and writes only when it may.
   */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.options.clock.now();
    const observed = this.observed;
    if (this.leading && observed?.record.holderIdentity === this.options.identity) {
      const record = this.nextRecord(observed.record, now);
      if (await this.write(now, () => this.options.store.update(record, observed.version))) return true;
    }
    return this.readThenWrite(now);
  }

  private async readThenWrite(now: number): Promise<boolean> {
    const { store } = this.options;
    let current: ObservedLease | undefined;
    try {
      current = await store.get();
    } catch (error: unknown) {
      this.options.log.warn(
        { ...this.context, err: describeError(error) },
        "could not read the leader lease",
      );
      return false;
    }
    if (current === undefined) return this.write(now, () => store.create(this.nextRecord(undefined, now)));
    this.observe(current);
    if (this.heldByAnother(current.record)) return false;
    const { version } = current;
    const record = this.nextRecord(current.record, now);
    return this.write(now, () => store.update(record, version));
  }

  /** A write; true when it landed. A conflict means another candidate wrote first: no leadership. */
  private async write(sentAt: number, send: () => Promise<ObservedLease>): Promise<boolean> {
    try {
      this.observe(await send());
      // A write given up on may still land later; it never moves the deadline back.
      this.renewedAt = Math.max(this.renewedAt, sentAt);
      return true;
    } catch (error: unknown) {
      const conflict = error instanceof LeaseConflictError;
      const context = { ...this.context, err: describeError(error) };
      if (conflict) this.options.log.debug(context, "another candidate wrote the leader lease first");
      else this.options.log.warn(context, "could not write the leader lease");
      return false;
    }
  }

  /** Records what was read or written; the clock of the lease restarts only when the record changed. */
  private observe(lease: ObservedLease): void {
    if (this.observed?.version === lease.version) return;
    this.observed = lease;
    this.observedAt = this.options.clock.now();
  }

  /**
   * Whether another holds the lease still: it changed less than its duration ago by our clock. Its
   * renewTime, written by the holder's clock, plays no part (client-go's observedTime rule).
   */
  private heldByAnother(record: LeaseRecord): boolean {
    const holder = record.holderIdentity;
    if (holder === "" || holder === this.options.identity) return false;
    return this.options.clock.now() < this.observedAt + this.leaseMs(record);
  }

  /** The duration the holder announced; ours when the record has none. */
  private leaseMs(record: LeaseRecord): number {
    const announced = record.leaseDurationSeconds * 1000;
    return announced > 0 ? announced : this.options.timings.leaseDurationMs;
  }

  /** The record this process writes over `previous`: a renewal of its own, or a takeover. */
  private nextRecord(previous: LeaseRecord | undefined, now: number): LeaseRecord {
    const { identity, timings } = this.options;
    const leaseDurationSeconds = timings.leaseDurationMs / 1000;
    if (previous?.holderIdentity === identity) {
      return { ...previous, leaseDurationSeconds, acquireTime: previous.acquireTime ?? now, renewTime: now };
    }
    const leaseTransitions = previous === undefined ? 0 : previous.leaseTransitions + 1;
    return {
      holderIdentity: identity,
      leaseDurationSeconds,
      acquireTime: now,
      renewTime: now,
      leaseTransitions,
    };
  }

  /**
   * Gives the lease up once the leading work has wound down, so nothing it still does overlaps the next
   * leader. Work still running at the renew deadline keeps the lease: it expires as a killed leader's would.
   */
  private async releaseAfter(work: Promise<void>): Promise<void> {
    const { clock, timings, log } = this.options;
    const left = this.renewedAt + timings.renewDeadlineMs - clock.now();
    if (left <= 0 || (await within(clock, left, work)) === timedOut) {
      log.warn(this.context, "the leading work outlived the renew deadline; the lease is left to expire");
      return;
    }
    await this.release();
  }

  /** client-go's release: no holder, a one-second lease, the transitions kept. */
  private async release(): Promise<void> {
    const observed = this.observed;
    if (observed?.record.holderIdentity !== this.options.identity) return;
    const now = this.options.clock.now();
    const record: LeaseRecord = {
      holderIdentity: "",
      leaseDurationSeconds: 1,
      acquireTime: undefined,
      renewTime: now,
      leaseTransitions: observed.record.leaseTransitions,
    };
    try {
      this.observe(await this.options.store.update(record, observed.version));
      this.options.log.info(this.context, "released the leader lease");
    } catch (error: unknown) {
      // The lease expires on its own: the next leader waits it out.
      this.options.log.warn(
        { ...this.context, err: describeError(error) },
        "could not release the leader lease",
      );
    }
  }

  private reportLeader(): void {
    const holder = this.leader;
    if (holder === "" || holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    this.options.log.info({ ...this.context, holder }, "new leader observed");
    this.safely("onNewLeader", () => this.options.callbacks.onNewLeader?.(holder));
  }

  /** A callback that throws is logged: it must not stop the election. */
  private safely(name: string, callback: () => void): void {
    try {
      callback();
    } catch (error: unknown) {
      this.options.log.error(
        { ...this.context, callback: name, err: describeError(error) },
        "a callback failed",
      );
    }
  }
}
