import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ContainerRecoveryFold } from "./container-recovery.js";

function event(restartCount: number, running: boolean, ready: "True" | "False", version = "1"): V1Pod {
  return {
    metadata: { resourceVersion: version },
    status: {
      conditions: [{ type: "Ready", status: ready }],
      containerStatuses: [
        {
          name: "web",
          restartCount,
          image: "",
          imageID: "",
          ready: ready === "True",
          state: running ? { running: {} } : { terminated: { exitCode: 137 } },
          ...(restartCount > 0 ? { lastState: { terminated: { exitCode: 137, reason: "Error" } } } : {}),
        },
      ],
    },
  };
}

describe("a container kill's milestones, from the pod's watch events", () => {
  it("stamps running again at the restart's event and Ready again at the first Ready event after it", () => {
    const fold = new ContainerRecoveryFold("web", 0);
    fold.observe(event(0, true, "True"), 100);
    fold.observe(event(0, false, "False"), 120);
    expect(fold.complete).toBe(false);
    fold.observe(event(1, true, "False", "41"), 400);
    fold.observe(event(1, true, "True", "42"), 650);
    expect(fold.milestones).toEqual({
      readyLost: true,
      runningAgainAt: 400,
      runningAgainVersion: "41",
      readyAgainAt: 650,
      readyAgainVersion: "42",
      restartCount: 1,
      lastTerminated: { exitCode: 137, reason: "Error" },
    });
    expect(fold.complete).toBe(true);
  });

  it("takes one event as both milestones when the restart is reported Ready at once", () => {
    const fold = new ContainerRecoveryFold("web", 3);
    fold.observe(event(3, true, "True"), 50);
    fold.observe(event(4, true, "True", "77"), 300);
    expect(fold.milestones).toMatchObject({
      readyLost: false,
      runningAgainAt: 300,
      readyAgainAt: 300,
      // One event: the report can tell (the same resourceVersion), and a test of two milestones must not pass.
      runningAgainVersion: "77",
      readyAgainVersion: "77",
      restartCount: 4,
    });
  });
});
