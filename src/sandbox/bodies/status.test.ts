import type { V1ContainerStatus } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { terminationOf } from "./pod-bodies.js";
import { exitedStatuses, podStatusWith, readyStatuses, restartedStatuses } from "./status.js";

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

  it("takes the pod out of Ready while the container is down, and puts it back once every container runs", () => {
    const web: V1ContainerStatus = {
      name: "web",
      image: "nginx",
      imageID: "",
      ready: true,
      restartCount: 2,
      started: true,
      state: { running: { startedAt: new Date(started) } },
    };
    const sidecar: V1ContainerStatus = {
      name: "log",
      image: "busybox",
      imageID: "",
      ready: true,
      restartCount: 0,
    };
    const readySince = new Date("2026-12-07T10:00:00Z");
    const pod = {
      phase: "Running",
      conditions: [
        { type: "PodScheduled", status: "True" },
        { type: "ContainersReady", status: "True", lastTransitionTime: readySince },
        { type: "Ready", status: "True", lastTransitionTime: readySince },
      ],
      containerStatuses: [web, sidecar],
    };
    const termination = terminationOf({ code: null, signal: "SIGKILL" }, false, started, died);
    const exited = exitedStatuses([web, sidecar], "web", termination) ?? [];
    expect(exited[0]).toMatchObject({
      ready: false,
      started: false,
      restartCount: 2,
      state: { terminated: { exitCode: 137, reason: "Error", signal: 9 } },
    });
    expect(exited[1]).toEqual(sidecar);
    const down = podStatusWith(pod, exited, new Date(died));
    expect(down.conditions).toEqual([
      { type: "PodScheduled", status: "True" },
      ...["ContainersReady", "Ready"].map((type) => ({
        type,
        status: "False",
        lastTransitionTime: new Date(died),
        reason: "ContainersNotReady",
        message: "containers with unready status: [web]",
      })),
    ]);
    const again = restartedStatuses(exited, "web", termination, "2026-12-07T10:40:21Z") ?? [];
    const up = podStatusWith(down, again, new Date("2026-12-07T10:40:21Z"));
    expect(up.conditions?.find((condition) => condition.type === "Ready")).toEqual({
      type: "Ready",
      status: "True",
      lastTransitionTime: new Date("2026-12-07T10:40:21Z"),
    });
    // With a readiness delay: running and started, not ready, the pod still not Ready; then ready.
    const running = restartedStatuses(exited, "web", termination, "2026-12-07T10:40:21Z", false) ?? [];
    expect(running[0]).toMatchObject({
      ready: false,
      started: true,
      restartCount: 3,
      state: { running: {} },
    });
    const waiting = podStatusWith(down, running, new Date("2026-12-07T10:40:21Z"));
    expect(waiting.conditions?.find((condition) => condition.type === "Ready")).toMatchObject({
      status: "False",
      lastTransitionTime: new Date(died),
    });
    const ready = readyStatuses(running, "web") ?? [];
    expect(ready[0]).toMatchObject({ ready: true, restartCount: 3 });
    expect(
      podStatusWith(waiting, ready, new Date("2026-12-07T10:40:23Z")).conditions?.find(
        (condition) => condition.type === "Ready",
      ),
    ).toEqual({ type: "Ready", status: "True", lastTransitionTime: new Date("2026-12-07T10:40:23Z") });
    // Nothing to write for a container that is ready already, or not running (it died again).
    expect(readyStatuses(ready, "web")).toBeUndefined();
    expect(readyStatuses(exited, "web")).toBeUndefined();
    // A write that changes no readiness keeps each condition's transition time.
    expect(podStatusWith(pod, [web, sidecar], new Date(died)).conditions).toEqual(pod.conditions);
    expect(exitedStatuses([sidecar], "web", termination)).toBeUndefined();
  });
});
