import { describe, expect, it } from "vitest";
import { isSignallablePid, liveStartTime, systemProcessTable } from "./proc.js";

describe("the node's process table", () => {
  it("signals one process only: never init, and never a group (pid 0 or negative)", () => {
    expect([0, -1, -4242, 1, 1.5, Number.NaN].map(isSignallablePid)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(isSignallablePid(2)).toBe(true);
    // Signal 0 would reach this test's own process group if pid 0 got through.
    expect(systemProcessTable.signal(0, "SIGCONT")).toBe(false);
    expect(systemProcessTable.signal(-process.pid, "SIGCONT")).toBe(false);
  });

  it("reads the start time after the last ')' of the command name, and none for a zombie", () => {
    const fields = (state: string): string =>
      `4242 (a (b) c) ${state} 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 10`;
    expect(liveStartTime(fields("S"))).toBe("987654");
    expect(liveStartTime(fields("Z"))).toBeUndefined();
    expect(liveStartTime("garbage")).toBeUndefined();
  });
});
