import type { V1ContainerStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { terminationOf } from "./pod-bodies.js";
import { restartedStatuses } from "./status.js";

const started = Date.parse("2026-12-07T10:40:08Z");
const died = Date.parse("2026-12-07T10:40:20Z");

describe("a body's restart in the pod's status, as the kubelet writes it", () => {
  it("words a run's end: SIGKILL is Error with 137, an OOM kill is OOMKilled, a clean exit is Completed", () => {
    expect(terminationOf({ code: null, signal: "SIGKILL" }, false, started, died)).toEqual({
      exitCode: 137,
      reason: "Error",
      signal: 9,
      startedAt: "2026-12-07T10:40:08.000Z",
      finishedAt: "2026-12-07T10:40:20.000Z",
    });
    expect(terminationOf({ code: null, signal: "SIGKILL" }, true, started, died)).toMatchObject({
      exitCode: 137,
      reason: "OOMKilled",
    });
    expect(terminationOf({ code: 3, signal: null }, false, started, died)).toMatchObject({
      exitCode: 3,
      reason: "Error",
      signal: undefined,
    });
    expect(terminationOf({ code: 0, signal: null }, false, started, died)).toMatchObject({
      exitCode: 0,
      reason: "Completed",
    });
  });

  it("adds one restart to the container, with how the last run ended, and leaves its neighbours alone", () => {
    const web: V1ContainerStatus = {
      name: "web",
      image: "nginx",
      imageID: "",
      ready: true,
      restartCount: 2,
      containerID: "kwok://web",
    };
    const sidecar: V1ContainerStatus = {
      name: "log",
      image: "busybox",
      imageID: "",
      ready: true,
      restartCount: 0,
    };
    const termination = terminationOf({ code: null, signal: "SIGKILL" }, true, started, died);
    const statuses = restartedStatuses([web, sidecar], "web", termination, "2026-12-07T10:40:21Z");
    expect(statuses?.[0]).toMatchObject({
      name: "web",
      restartCount: 3,
      ready: true,
      started: true,
      lastState: { terminated: { exitCode: 137, reason: "OOMKilled", signal: 9, containerID: "kwok://web" } },
      state: { running: { startedAt: new Date("2026-12-07T10:40:21Z") } },
    });
    expect(statuses?.[1]).toEqual(sidecar);
    expect(restartedStatuses([sidecar], "web", termination, "2026-12-07T10:40:21Z")).toBeUndefined();
  });
});
