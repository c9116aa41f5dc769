import { describe, expect, it } from "vitest";
import { Duration } from "../duration.js";
import { FakeClock } from "../fake-clock.js";
import { defaultJoinLimits, JoinGate } from "./join-limits.js";

/*
 * Anyone may try to join, so each address gets a bucket: a phone joins at once, a script walking the
 * codes is slowed to 5 tries in 10 s, and the gate's memory stays bounded however many addresses come.
 */

describe("the join gate", () => {
  it("admits 5 joins from an address at once, then one every 2 s, with the wait in whole seconds", async () => {
    const clock = new FakeClock();
    const gate = new JoinGate(defaultJoinLimits, clock);
    for (let index = 0; index < 5; index += 1) expect(gate.admit("192.0.2.1").admitted).toBe(true);
    expect(gate.admit("192.0.2.1")).toEqual({
      admitted: false,
      limit: "join",
      status: 429,
      retryAfterSeconds: 2,
      reason: "too many joins from your address: wait a moment",
      detail: "5 joins per 10s per address; next in 2000 ms",
    });
    expect(gate.admit("192.0.2.2").admitted).toBe(true);
    await clock.advance(2_000);
    expect(gate.admit("192.0.2.1").admitted).toBe(true);
    expect(gate.admit("192.0.2.1").admitted).toBe(false);
  });

  it("forgets addresses whose bucket is full again, and never tracks more than 20,000, cheaply", async () => {
    const clock = new FakeClock();
    const gate = new JoinGate(defaultJoinLimits, clock);
    for (let index = 0; index < 1_500; index += 1) gate.admit(`10.1.${index >> 8}.${index & 255}`);
    expect(gate.trackedAddresses).toBe(1_500);
    await clock.advance(10_000);
    // Their buckets are full again: the next sweep (at 2,000, twice what the last one kept) lets them go.
    for (let index = 0; index < 600; index += 1) gate.admit(`10.2.${index >> 8}.${index & 255}`);
    expect(gate.trackedAddresses).toBe(600);
    // A flood of fresh addresses within one window: the oldest are let go, so memory stays bounded.
    for (let index = 0; index < 25_000; index += 1) gate.admit(`fd00::${index.toString(16)}`);
    expect(gate.trackedAddresses).toBe(20_000);
  });

  it("refuses a rate that is not one", () => {
    expect(
      () => new JoinGate({ perAddress: { shots: 0, per: Duration.ofMilliseconds(1_000) } }, new FakeClock()),
    ).toThrow("not a rate");
  });
});
