import { systemClock } from "../../core/clock.js";
import type { Clock } from "../../core/clock.js";
import { BroadsideError } from "../../core/errors.js";
import { optional } from "../../core/objects.js";
import type { HttpProbe, StatusRange } from "../files/model.js";
import { isLoopback } from "../files/probes.js";
import type { Sample } from "../report/samples.js";
import { send } from "./request.js";
import type { ProbeOutcome } from "./request.js";
import { FixedRateTicker } from "./schedule.js";
import type { TickerStats } from "./schedule.js";

export interface ProbeOptions {
  /** Epoch ms for sentAt and the schedule; latencies always come from performance.now(). */
  readonly clock?: Clock;
  /** Called with each sample as it completes (completion order, not sentAt order). */
  readonly onSample?: (sample: Sample) => void;
  /**
   * Refuse a URL that is not on this machine. The runner sets it against the sandbox, whose traffic must
   * stay on loopback.
   */
  readonly loopbackOnly: boolean;
  /** Requests allowed in flight at once; default: what the timeout allows at this rate, plus slack. */
  readonly maxInFlight?: number;
}

export interface RunningProbe {
  /** Stops scheduling, waits for requests in flight (each bounded by its timeout), returns every sample. */
  stop(): Promise<Sample[]>;
  readonly stats: TickerStats;
}

/** A latency over the threshold is this kind of failure, so reports do not group it as "HTTP 200". */
export const slowError = "slow";

export function statusExpected(status: number, expected: readonly StatusRange[]): boolean {
  return expected.some((range) => status >= range.from && status <= range.to);
}

/** The sample of one request: ok only with an expected status within the latency threshold. */
export function httpSample(probe: HttpProbe, sentAt: number, outcome: ProbeOutcome): Sample {
  const base = { probe: probe.name, sentAt, latencyMs: outcome.latencyMs };
  if ("error" in outcome) return { ...base, ok: false, error: outcome.error };
  const { status } = outcome;
  if (!statusExpected(status, probe.expectStatus)) return { ...base, ok: false, status };
  const threshold = probe.latencyThreshold?.milliseconds;
  if (threshold !== undefined && outcome.latencyMs > threshold)
    return { ...base, ok: false, status, error: slowError };
  return { ...base, ok: true, status };
}

/** Throws a BRD_REFUSED_BY_RAIL error when loopbackOnly is set and `url` leaves this machine. */
export function guardLoopback(probe: string, url: string, loopbackOnly: boolean): URL {
  const parsed = new URL(url);
  if (loopbackOnly && !isLoopback(parsed)) {
    throw new BroadsideError(
      "BRD_REFUSED_BY_RAIL",
      `probe ${probe}: ${url} is not a loopback address; against the sandbox, probes may only reach 127.0.0.1`,
    );
  }
  return parsed;
}

/**
 * The default cap: a request lives at most `timeout`, so about frequency * timeout overlap at worst;
 * twice that plus a few leaves room for timer jitter without ever skipping on a healthy target.
 */
export function defaultMaxInFlight(frequencyHz: number, timeoutMs: number): number {
  return Math.ceil((frequencyHz * timeoutMs) / 1000) * 2 + 4;
}

/**
 * Starts sending `probe`'s request at its frequency, on fixed instants (see schedule.ts). Every request
 * is its own connection (see request.ts for why). Throws at once for a URL the loopback guard refuses.
 */
export function startHttpProbe(probe: HttpProbe, options: ProbeOptions): RunningProbe {
  const url = guardLoopback(probe.name, probe.url, options.loopbackOnly);
  const clock = options.clock ?? systemClock;
  const request = {
    url,
    method: probe.method,
    headers: probe.headers,
    ...optional("body", probe.body),
    timeoutMs: probe.timeout.milliseconds,
    // The probe judges the status and latency only; the body is read (so latency covers it) and dropped.
    keepBodyBytes: 0,
  };
  const maxInFlight =
    options.maxInFlight ?? defaultMaxInFlight(probe.frequencyHz, probe.timeout.milliseconds);
  return sampleAtFixedRate(clock, probe.frequencyHz, maxInFlight, options, async (sentAt) =>
    httpSample(probe, sentAt, await send(request)),
  );
}

/**
 * The loop every request-based probe shares: take a sample on each fixed instant (see schedule.ts),
 * keep it, and hand it to `onSample`; stop() waits for requests in flight and returns every sample.
 */
export function sampleAtFixedRate(
  clock: Clock,
  frequencyHz: number,
  maxInFlight: number,
  options: Pick<ProbeOptions, "onSample">,
  takeSample: (sentAt: number) => Promise<Sample>,
): RunningProbe {
  const samples: Sample[] = [];
  const ticker = new FixedRateTicker({
    clock,
    frequencyHz,
    maxInFlight,
    task: async () => {
      const sample = await takeSample(clock.now());
      samples.push(sample);
      options.onSample?.(sample);
    },
  });
  ticker.start();
  return {
    stop: async () => {
      await ticker.stop();
      return [...samples];
    },
    get stats() {
      return ticker.stats;
    },
  };
}
