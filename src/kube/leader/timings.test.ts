import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { defaultLeaderTimings, leaderTimings } from "./timings.js";

describe("leader election timings", () => {
  it("default to client-go's: lease 15 s, renew deadline 10 s, retry 2 s", () => {
    expect(leaderTimings()).toEqual({
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
    });
    expect(leaderTimings()).toEqual(defaultLeaderTimings);
  });

  it("take what is given over the defaults", () => {
    expect(leaderTimings({ leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 })).toEqual({
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 500,
    });
  });

  const refusals: [string, Parameters<typeof leaderTimings>[0], RegExp][] = [
    [
      "a lease in fractions of a second",
      { leaseDurationMs: 15_500 },
      /^leaseDuration: must be whole seconds/,
    ],
    [
      "a lease under a second",
      { leaseDurationMs: 0 },
      /^leaseDuration: must be between 1s and 604800s, got 0s/,
    ],
    ["a lease over a week", { leaseDurationMs: 8 * 86_400_000 }, /^leaseDuration: must be between/],
    [
      "a renew deadline as long as the lease",
      { renewDeadlineMs: 15_000 },
      /^renewDeadline: must be shorter than leaseDuration \(15s\)/,
    ],
    [
      "a renew deadline that leaves no room for a jittered retry",
      { renewDeadlineMs: 2_400 },
      /^renewDeadline: must be longer than 1.2 x retryPeriod \(2s\)/,
    ],
    ["a retry period under 100 ms", { retryPeriodMs: 50 }, /^retryPeriod: must be at least 100ms/],
    [
      "a retry period that is not a number",
      { retryPeriodMs: Number.NaN },
      /^retryPeriod: must be at least 100ms/,
    ],
    [
      "a renew deadline that is not a number",
      { renewDeadlineMs: Number.NaN },
      /^renewDeadline: must be shorter/,
    ],
  ];

  it.each(refusals)("refuse %s, naming the option", (_what, given, message) => {
    const attempt = () => leaderTimings(given);
    expect(attempt).toThrow(BroadsideError);
    expect(attempt).toThrow(message);
  });

  it("name the options as the caller knows them (its flags)", () => {
    const flags = {
      leaseDurationMs: "--leader-elect-lease-duration",
      renewDeadlineMs: "--leader-elect-renew-deadline",
      retryPeriodMs: "--leader-elect-retry-period",
    };
    expect(() => leaderTimings({ renewDeadlineMs: 20_000 }, flags)).toThrow(
      "--leader-elect-renew-deadline: must be shorter than --leader-elect-lease-duration (15s), got 20s",
    );
  });
});
