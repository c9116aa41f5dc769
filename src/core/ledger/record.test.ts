import { describe, expect, it } from "vitest";
import type { LedgerRecord, RecordedValue } from "./record.js";
import { ABSENT, REDACTED, describeTarget, isAbsent, jsonEqual, redact } from "./record.js";

const secretRecord: LedgerRecord = {
  id: "rec-1",
  faultKind: "config-drift",
  target: { apiVersion: "v1", kind: "Secret", namespace: "shop", name: "db", uid: "uid-1" },
  path: "data.PASSWORD",
  original: "aHVudGVyMg==",
  injected: "d3Jvbmc=",
  sensitive: true,
  createdAt: 1000,
  deadline: 2000,
  actor: { user: "alice", host: "laptop", pid: 42 },
  state: "closed",
  outcome: { kind: "reverted", at: 2000 },
  version: "7",
};

describe("jsonEqual", () => {
  it.each<[string, RecordedValue, RecordedValue, boolean]>([
    ["equal strings", "info", "info", true],
    ["different strings", "info", "debug", false],
    ["a number and its string", 3, "3", false],
    ["null and absent", null, ABSENT, false],
    ["absent and absent", ABSENT, { absent: true }, true],
    ["objects with keys in another order", { cpu: "1", memory: "1Gi" }, { memory: "1Gi", cpu: "1" }, true],
    ["objects with a key more", { cpu: "1" }, { cpu: "1", memory: "1Gi" }, false],
    ["nested objects that differ deep down", { limits: { cpu: "1" } }, { limits: { cpu: "2" } }, false],
    ["arrays in the same order", ["a", { b: 1 }], ["a", { b: 1 }], true],
    ["arrays in another order", ["a", "b"], ["b", "a"], false],
    ["an array and an object", [], {}, false],
    ["an empty string and null", "", null, false],
  ])("%s: %j vs %j is %s", (_name, a, b, expected) => {
    expect(jsonEqual(a, b)).toBe(expected);
    expect(jsonEqual(b, a)).toBe(expected);
  });
});

describe("isAbsent", () => {
  it("recognizes only the exact marker", () => {
    expect(isAbsent(ABSENT)).toBe(true);
    expect(isAbsent({ absent: true, other: 1 })).toBe(false);
    expect(isAbsent({ absent: false })).toBe(false);
    expect(isAbsent(null)).toBe(false);
  });
});

describe("redact", () => {
  it("hides both values of a sensitive record, and nothing else", () => {
    const printable = redact(secretRecord);
    expect(printable.original).toBe(REDACTED);
    expect(printable.injected).toBe(REDACTED);
    expect(printable.path).toBe("data.PASSWORD");
    expect(printable.outcome).toEqual({ kind: "reverted", at: 2000 });
    const printed = JSON.stringify(printable);
    expect(printed).not.toContain("aHVudGVyMg==");
    expect(printed).not.toContain("d3Jvbmc=");
  });

  it("shows the values of a record that is not sensitive", () => {
    const printable = redact({ ...secretRecord, sensitive: false });
    expect(printable.original).toBe("aHVudGVyMg==");
    expect(printable.injected).toBe("d3Jvbmc=");
  });

  it("drops the version, so a printable record cannot be written back", () => {
    expect(redact(secretRecord)).not.toHaveProperty("version");
  });
});

describe("describeTarget", () => {
  it("names the object as kubectl users read it", () => {
    expect(describeTarget(secretRecord.target)).toBe("Secret shop/db");
  });
});
