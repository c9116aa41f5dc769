import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { ContainerRecoveryFold } from "./container-recovery.js";

function event(restartCount: number, running: boolean, ready: "True" | "False"): V1Pod {
  return {
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
    fold.observe(event(1, true, "False"), 400);
    fold.observe(event(1, true, "True"), 650);
    expect(fold.milestones).toEqual({
      readyLost: true,
      runningAgainAt: 400,
      readyAgainAt: 650,
      restartCount: 1,
      lastTerminated: { exitCode: 137, reason: "Error" },
    });
    expect(fold.complete).toBe(true);
  });

  it("takes one event as both milestones when the restart is reported Ready at once", () => {
    const fold = new ContainerRecoveryFold("web", 3);
    fold.observe(event(3, true, "True"), 50);
    fold.observe(event(4, true, "True"), 300);
    expect(fold.milestones).toMatchObject({
      readyLost: false,
      runningAgainAt: 300,
      readyAgainAt: 300,
      restartCount: 4,
    });
  });
});
