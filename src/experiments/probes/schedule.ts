import type { Clock } from "../../core/clock.js";

/**
 * Fixed-rate scheduling for probes. Instant k is `start + k * period`, computed from the start every
 * time and never from when the previous request finished, so neither slow answers nor timer lateness
 * accumulate into drift: at 50 Hz for ten minutes the 30,000th request is still due at start + 600 s.
 */

export function periodMsOf(frequencyHz: number): number {
  return 1000 / frequencyHz;
}

export function instantOf(startMs: number, periodMs: number, k: number): number {
  return startMs + k * periodMs;
}

/** What the loop should do now: wait until the next instant, or fire one (and how many it let pass). */
export type Step = { readonly wait: number } | { readonly fire: number; readonly missed: number };

/**
 * Given the next instant index not yet handled and the time now: wait when it is not due yet (a timer
 * may fire a little early); otherwise fire the latest instant already reached. Instants before that one
 * were wholly overtaken (the event loop was blocked for more than a period): they are reported as missed
 * rather than sent late in a burst, so that a sample's sentAt is always about its own instant.
 */
export function nextStep(startMs: number, periodMs: number, nextK: number, nowMs: number): Step {
  const target = instantOf(startMs, periodMs, nextK);
  if (nowMs < target) return { wait: target - nowMs };
  // The epsilon keeps float rounding (k * p / p = k - 1e-15) from reading instant k as k - 1.
  const due = Math.max(nextK, Math.floor((nowMs - startMs) / periodMs + 1e-9));
  return { fire: due, missed: due - nextK };
}

export interface TickerStats {
  /** Instants at which work was started. */
  readonly fired: number;
  /** Instants not fired because maxInFlight tasks were still running. */
  readonly skippedAtCap: number;
  /** Instants overtaken while the event loop was busy (see nextStep). */
  readonly missed: number;
  readonly inFlight: number;
}

export interface TickerOptions {
  readonly clock: Clock;
  readonly frequencyHz: number;
  /**
   * Tasks allowed to overlap. A task still running at the next instant does not delay it: a real client
   * population keeps sending whether or not earlier requests were answered. The cap only bounds the
   * sockets a hung target can make us hold.
   */
  readonly maxInFlight: number;
  /** Started at each instant; its rejection is the task's own business (tasks should not reject). */
  readonly task: () => Promise<void>;
}

/** Runs `task` at every instant from start() until stop(); stop() waits for running tasks to finish. */
export class FixedRateTicker {
  private stopped = false;
  /**
   * Cuts the current sleep short on stop(). One per sleep: Clock.sleep adds an abort listener it never
   * removes, so a single long-lived signal would collect one listener per instant.
   */
  private wake: AbortController | undefined;
  private readonly running = new Set<Promise<void>>();
  private counts = { fired: 0, skippedAtCap: 0, missed: 0 };
  private loop: Promise<void> | undefined;

  constructor(private readonly options: TickerOptions) {}

  /** The first instant is now. Returns the start time (epoch ms). */
  start(): number {
    const startMs = this.options.clock.now();
    this.loop ??= this.run(startMs);
    return startMs;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.abort();
    if (this.loop !== undefined) await this.loop;
    await Promise.all([...this.running]);
  }

  get stats(): TickerStats {
    return { ...this.counts, inFlight: this.running.size };
  }

  private async run(startMs: number): Promise<void> {
    const { clock, frequencyHz } = this.options;
    const periodMs = periodMsOf(frequencyHz);
    let nextK = 0;
    while (!this.stopped) {
      const step = nextStep(startMs, periodMs, nextK, clock.now());
      if ("wait" in step) {
        this.wake = new AbortController();
        await clock.sleep(step.wait, this.wake.signal);
        continue;
      }
      this.counts.missed += step.missed;
      nextK = step.fire + 1;
      this.fire();
    }
  }

  private fire(): void {
    if (this.running.size >= this.options.maxInFlight) {
      this.counts.skippedAtCap += 1;
      return;
    }
    this.counts.fired += 1;
    const task = this.options.task().catch(() => undefined);
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }
}
