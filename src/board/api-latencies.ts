import type { ApiRequestObservation, ApiRequestObserver } from "../kube/api-request-observer.js";

/**
 * The latencies of the board's own API requests, for the scoreboard's p50 and p99: kube/ tells every
 * exchange with the API server (send to the answer's headers, on the injected clock) to an
 * ApiRequestObserver, as it tells the agent's metrics; this one keeps the latest `capacity` in a ring, so
 * a long GameDay's memory stays bounded and the figures follow what the board does now. Watch streams
 * are left out: they stay open for minutes by design.
 */
export class ApiLatencyRing implements ApiRequestObserver {
  private readonly samples: number[] = [];
  private next = 0;

  constructor(private readonly capacity = 10_000) {}

  requestEnded(observation: ApiRequestObservation): void {
    if (observation.verb === "watch") return;
    const ms = observation.seconds * 1000;
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
  }

  /** The kept latencies in ms, in no particular order. */
  values(): readonly number[] {
    return [...this.samples];
  }
}
