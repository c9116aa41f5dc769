import { describe, expect, it } from "vitest";
import type { LedgerRecord, OpenRecord, OutcomeKind, RecordedValue, RecordState } from "./record.js";
import { ABSENT } from "./record.js";
import type { PresentObservation } from "./state-machine.js";
import { IllegalTransitionError, closeRecord, decideRecovery, markApplied } from "./state-machine.js";

const base = {
  id: "rec-1",
  faultKind: "config-drift",
  target: { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "web", uid: "uid-1" },
  path: "data.LOG_LEVEL",
  original: "info",
  injected: "debug",
  sensitive: false,
  createdAt: 1000,
  deadline: 61_000,
  actor: { user: "alice", host: "laptop", pid: 42 },
  version: "1",
} as const;

const pending: OpenRecord = { ...base, state: "pending" };
const active: OpenRecord = { ...base, state: "active" };
const closed: LedgerRecord = { ...base, state: "closed", outcome: { kind: "reverted", at: 61_000 } };
const byState: Record<RecordState, LedgerRecord> = { pending, active, closed };

function holding(value: RecordedValue): PresentObservation {
  return { exists: true, uid: "uid-1", value };
}

describe("markApplied", () => {
  it("turns a pending record active", () => {
    expect(markApplied(pending)).toEqual({ ...pending, state: "active" });
  });

  it.each<RecordState>(["active", "closed"])("refuses a record that is %s", (state) => {
    expect(() => markApplied(byState[state])).toThrow(IllegalTransitionError);
    expect(() => markApplied(byState[state])).toThrow(`cannot go from ${state} to active`);
  });
});

describe("closeRecord", () => {
  it.each<[RecordState, OutcomeKind, boolean]>([
    ["pending", "never-applied", true],
    ["pending", "target-gone", true],
    ["pending", "healed-externally", true],
    ["pending", "failed", true],
    ["pending", "reverted", false],
    ["active", "reverted", true],
    ["active", "healed-externally", true],
    ["active", "target-gone", true],
    ["active", "failed", true],
    ["active", "never-applied", false],
    ["closed", "reverted", false],
    ["closed", "failed", false],
  ])("from %s with %s: allowed is %s", (state, kind, allowed) => {
    const close = () => closeRecord(byState[state], { kind, at: 70_000 });
    if (allowed) {
      expect(close()).toMatchObject({ state: "closed", outcome: { kind, at: 70_000 }, version: "1" });
    } else {
      expect(close).toThrow(IllegalTransitionError);
    }
  });
});

describe("decideRecovery", () => {
  it("reverts when the target still holds exactly the injected value", () => {
    expect(decideRecovery(active, holding("debug"))).toEqual({ action: "revert" });
  });

  it("compares values deeply, ignoring key order", () => {
    const squeeze: OpenRecord = {
      ...active,
      path: "spec.template.spec.containers[app].resources",
      original: { limits: { cpu: "1", memory: "1Gi" } },
      injected: { limits: { cpu: "50m", memory: "64Mi" } },
    };
    const observed = holding({ limits: { memory: "64Mi", cpu: "50m" } });
    expect(decideRecovery(squeeze, observed)).toEqual({ action: "revert" });
  });

  it("calls it an external heal when the original came back, and says so", () => {
    expect(decideRecovery(active, holding("info"))).toEqual({
      action: "close",
      outcome: "healed-externally",
      detail: "data.LOG_LEVEL was restored to the original value by someone else",
    });
  });

  it("calls it an external heal when a third value appeared, without printing the value", () => {
    const decision = decideRecovery(active, holding("warn"));
    expect(decision).toMatchObject({ action: "close", outcome: "healed-externally" });
    expect(JSON.stringify(decision)).not.toContain("warn");
  });

  it("takes the time and author of the heal from the observation when it has them", () => {
    const observed = { ...holding("info"), lastChange: { at: 30_000, by: "kustomize-controller" } };
    expect(decideRecovery(active, observed)).toMatchObject({ at: 30_000, by: "kustomize-controller" });
  });

  it("calls a missing target gone", () => {
    expect(decideRecovery(active, { exists: false })).toMatchObject({
      action: "close",
      outcome: "target-gone",
    });
  });

  it("calls a target recreated under the same name gone, even if it holds the injected value", () => {
    const recreated = { exists: true, uid: "uid-2", value: "debug" } as const;
    expect(decideRecovery(active, recreated)).toEqual({
      action: "close",
      outcome: "target-gone",
      detail: "ConfigMap default/web was recreated (uid uid-2)",
    });
  });

  it("closes a pending record never-applied when the target still holds the original", () => {
    expect(decideRecovery(pending, holding("info"))).toMatchObject({
      action: "close",
      outcome: "never-applied",
    });
  });

  it("reverts a pending record whose target holds the injected value: the process died after applying", () => {
    expect(decideRecovery(pending, holding("debug"))).toEqual({ action: "revert" });
  });

  it("treats an absent field as a value of its own", () => {
    const added: OpenRecord = { ...active, original: ABSENT };
    expect(decideRecovery(added, holding("debug"))).toEqual({ action: "revert" });
    expect(decideRecovery(added, holding(ABSENT))).toMatchObject({ outcome: "healed-externally" });
    expect(decideRecovery({ ...added, state: "pending" }, holding(ABSENT))).toMatchObject({
      outcome: "never-applied",
    });
  });
});
