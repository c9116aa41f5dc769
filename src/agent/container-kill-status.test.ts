import { describe, expect, it } from "vitest";
import type { ContainerKill, ContainerKillResult } from "../engine/container-kill.js";
import { containerKillConditions, containerTargets } from "./container-kill-status.js";

const at = Date.parse("2026-12-07T20:00:00.000Z");

function kill(pod: string, accepted: boolean, ready = true): ContainerKill {
  return {
    target: {
      pod: { namespace: "shop", name: pod, uid: `uid-${pod}` },
      node: "kwok-node-0",
      container: "web",
      containerId: undefined,
      restartCount: 2,
    },
    ledgerId: `ledger-of-${pod}`,
    work: `nodework-of-${pod}`,
    outcome: accepted
      ? { accepted, at }
      : { accepted, at, reason: "no node daemon answered for node kwok-node-0" },
    status: undefined,
    milestones: accepted
      ? {
          readyLost: true,
          runningAgainAt: at + 771,
          ...(ready ? { readyAgainAt: at + 2897 } : {}),
          restartCount: 3,
          lastTerminated: { exitCode: 137, reason: "Error" },
        }
      : undefined,
  };
}

function resultOf(kills: ContainerKill[]): ContainerKillResult {
  return { plan: { selected: [], excluded: [], warnings: [] }, targets: kills.map((k) => k.target), kills };
}

const conditions = (result: ContainerKillResult) =>
  Object.fromEntries(containerKillConditions(result).map((c) => [c.type, `${c.status}/${c.reason}`]));

describe("a container-kill PodChaos's status", () => {
  it("records each kill: the container, its restart as the pod's status had it, and the milestones in ms", () => {
    const result = resultOf([kill("web-1", true)]);
    expect(conditions(result)).toEqual({
      Injected: "True/Killed",
      Recovered: "True/Recovered",
      Failed: "False/Ran",
    });
    expect(containerTargets(result)).toEqual([
      {
        kind: "Pod",
        namespace: "shop",
        name: "web-1",
        uid: "uid-web-1",
        container: "web",
        outcome: "recovered",
        ledgerRecord: "ledger-of-web-1",
        injectedAt: "2026-12-07T20:00:00.000Z",
        recoveredAt: "2026-12-07T20:00:02.897Z",
        restartCount: 3,
        message: "last terminated: exit code 137 (Error)",
        milestones: { runningAgainMs: 771, readyMs: 2897 },
      },
    ]);
  });

  it("says Recovered False, naming the container, when its pod was not seen Ready again in time", () => {
    const result = resultOf([kill("web-1", true, false)]);
    const recovered = containerKillConditions(result).find((c) => c.type === "Recovered");
    expect(recovered).toMatchObject({
      status: "False",
      reason: "NotRecovered",
      message: expect.stringContaining("web-1/web") as unknown,
    });
    expect(containerTargets(result)[0]).toMatchObject({
      outcome: "injected",
      milestones: { runningAgainMs: 771 },
    });
  });

  it("says Injected False with the daemon's refusal when no kill was answered Done", () => {
    const result = resultOf([kill("web-1", false)]);
    expect(conditions(result)).toMatchObject({
      Injected: "False/Refused",
      Recovered: "False/NothingToRecover",
    });
    expect(containerKillConditions(result)[0]?.message).toContain("no node daemon answered");
    expect(containerTargets(result)[0]).toMatchObject({
      outcome: "refused",
      message: expect.stringContaining("no node daemon") as unknown,
    });
    expect(conditions(resultOf([]))).toMatchObject({ Injected: "False/NoTarget" });
  });
});
