import { describe, expect, it } from "vitest";
import { computeScoreboard } from "../core/board/scoreboard.js";
import { ApiLatencyRing } from "./api-latencies.js";

/*
 * The scoreboard's "latency of Broadside's API requests": every exchange kube/ reports, watches left out,
 * the latest few thousand kept.
 */

describe("the board's API latencies", () => {
  it("keeps each request's time in ms, leaves watch streams out, and forgets the oldest past its capacity", () => {
    const ring = new ApiLatencyRing(3);
    ring.requestEnded({ verb: "delete", code: 200, seconds: 0.012 });
    ring.requestEnded({ verb: "watch", code: 200, seconds: 300 });
    ring.requestEnded({ verb: "create", code: 201, seconds: 0.004 });
    ring.requestEnded({ verb: "patch", code: 200, seconds: 0.008 });
    expect([...ring.values()].sort((a, b) => a - b)).toEqual([4, 8, 12]);
    ring.requestEnded({ verb: "get", code: 200, seconds: 0.002 });
    expect([...ring.values()].sort((a, b) => a - b)).toEqual([2, 4, 8]);
    expect(computeScoreboard({ shots: [], kills: [], now: 0, apiLatenciesMs: ring.values() }).api).toEqual({
      requests: 3,
      p50Ms: 4,
      p99Ms: 8,
    });
  });
});
