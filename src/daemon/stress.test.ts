import { describe, expect, it } from "vitest";
import { sampleWork } from "../core/node-work-fixture.js";
import { parseNodeWorkSpec } from "../core/node-work.js";
import {
  parseMemoryLimit,
  placementWrites,
  stressCgroupsOf,
  stressorArgv,
  stressorConfig,
  stressorWorkOf,
} from "./stress.js";

const v1Line = [
  "9:name=systemd:/",
  "4:memory:/broadside-st-a/pod0b5a6c1e-1111-4222-8333-944455556666/web",
  "2:cpuacct:/",
  "1:cpu:/broadside-st-a/pod0b5a6c1e-1111-4222-8333-944455556666/web",
  "0::/",
].join("\n");

describe("stress work (ADR 0040): the spec", () => {
  const stressWork = {
    ...sampleWork,
    kind: "stress",
    signal: undefined,
    durationMs: 30_000,
    stress: { memory: { bytes: 512 * 2 ** 20, workers: 1 } },
  };

  it("accepts memory by bytes or by percent, and cpu by workers and load", () => {
    expect(parseNodeWorkSpec(stressWork)).toMatchObject({ kind: "stress" });
    expect(
      parseNodeWorkSpec({
        ...stressWork,
        stress: { memory: { percent: 50, workers: 2 }, cpu: { workers: 2, load: 80 } },
      }),
    ).toMatchObject({ stress: { cpu: { load: 80 } } });
  });

  it("refuses stress without stressors, both bytes and percent, a load over 100 and no duration", () => {
    expect(parseNodeWorkSpec({ ...stressWork, stress: undefined })).toEqual({
      problem: "stress: is required for stress",
    });
    expect(parseNodeWorkSpec({ ...stressWork, stress: {} })).toEqual({
      problem: "stress: needs a memory or a cpu stressor",
    });
    expect(
      parseNodeWorkSpec({ ...stressWork, stress: { memory: { bytes: 1, percent: 1, workers: 1 } } }),
    ).toEqual({ problem: "stress.memory: needs bytes or percent, not both" });
    expect(parseNodeWorkSpec({ ...stressWork, stress: { cpu: { workers: 1, load: 101 } } })).toMatchObject({
      problem: expect.stringContaining("stress.cpu.load") as string,
    });
    expect(parseNodeWorkSpec({ ...stressWork, durationMs: undefined })).toEqual({
      problem: "durationMs: is required for stress",
    });
  });
});

describe("stress on the node (ADR 0040): cgroups, limits, the stressor's config and argv", () => {
  it("finds v1's memory and cpu directories from /proc/<pid>/cgroup, even on a hybrid host", () => {
    expect(stressCgroupsOf(v1Line)).toEqual({
      version: "v1",
      memory: "/sys/fs/cgroup/memory/broadside-st-a/pod0b5a6c1e-1111-4222-8333-944455556666/web",
      cpu: "/sys/fs/cgroup/cpu/broadside-st-a/pod0b5a6c1e-1111-4222-8333-944455556666/web",
    });
    expect(stressCgroupsOf("5:cpu,cpuacct:/kubepods/pod1/abc\n6:memory:/kubepods/pod1/abc\n")).toEqual({
      version: "v1",
      memory: "/sys/fs/cgroup/memory/kubepods/pod1/abc",
      cpu: "/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/abc",
    });
  });

  it("finds v2's one directory, and refuses paths that climb or lines that name no cgroup", () => {
    expect(stressCgroupsOf("0::/kubepods.slice/pod1.slice/cri-containerd-abc.scope\n")).toEqual({
      version: "v2",
      memory: "/sys/fs/cgroup/kubepods.slice/pod1.slice/cri-containerd-abc.scope",
      cpu: "/sys/fs/cgroup/kubepods.slice/pod1.slice/cri-containerd-abc.scope",
    });
    expect(stressCgroupsOf("0::/../../etc\n")).toHaveProperty("problem");
    expect(stressCgroupsOf("4:memory:/a/../../b\n1:cpu:/a\n")).toHaveProperty("problem");
    expect(stressCgroupsOf("garbage")).toHaveProperty("problem");
  });

  it("reads v1's page-aligned 2^63 and v2's max as no limit", () => {
    expect(parseMemoryLimit("268435456\n")).toBe(268_435_456);
    expect(parseMemoryLimit("9223372036854771712\n")).toBeUndefined();
    expect(parseMemoryLimit("max\n")).toBeUndefined();
  });

  it("shares memory out between workers, takes a percent of the limit, and refuses a container without one unless allowed", () => {
    expect(stressorConfig({ memory: { bytes: 512 * 2 ** 20, workers: 2 } }, 256 * 2 ** 20, 1_000)).toEqual({
      memory: { workers: 2, bytesPerWorker: 256 * 2 ** 20 },
      untilMs: 11_000,
    });
    expect(stressorConfig({ memory: { percent: 50, workers: 1 } }, 200 * 2 ** 20, 0)).toMatchObject({
      memory: { bytesPerWorker: 100 * 2 ** 20 },
    });
    expect(stressorConfig({ memory: { bytes: 2 ** 20, workers: 1 } }, undefined, 0)).toEqual({
      refused:
        "the container has no memory limit, so a memory stress would take the node's memory (--unsafe allows it)",
    });
    expect(
      stressorConfig({ memory: { bytes: 2 ** 20, workers: 1, unlimitedAllowed: true } }, undefined, 0),
    ).toMatchObject({ memory: { bytesPerWorker: 2 ** 20 } });
    expect(
      stressorConfig({ memory: { percent: 10, workers: 1, unlimitedAllowed: true } }, undefined, 0),
    ).toEqual({
      refused: "10% of the memory limit is nothing to allocate",
    });
    expect(stressorConfig({ cpu: { workers: 2, load: 80 } }, undefined, 5)).toEqual({
      cpu: { workers: 2, load: 80 },
      untilMs: 10_005,
    });
  });

  it("starts the stressor with an argv array, and knows it again by its argv", () => {
    const argv = stressorArgv(
      { node: "/usr/bin/node", script: "/opt/broadside/dist/daemon/stress-main.js" },
      "nodework-20261207t133000-abc123",
      { cpu: { workers: 1, load: 50 }, untilMs: 9 },
    );
    expect(argv).toEqual([
      "/usr/bin/node",
      "/opt/broadside/dist/daemon/stress-main.js",
      "--work",
      "nodework-20261207t133000-abc123",
      "--config",
      '{"cpu":{"workers":1,"load":50},"untilMs":9}',
    ]);
    expect(stressorWorkOf(argv.join("\0"), "/opt/broadside/dist/daemon/stress-main.js")).toBe(
      "nodework-20261207t133000-abc123",
    );
    expect(stressorWorkOf(argv.join("\0"), "/elsewhere/stress-main.js")).toBeUndefined();
    expect(
      stressorWorkOf(
        ["node", "/opt/broadside/dist/daemon/stress-main.js", "--work", "x;rm"].join("\0"),
        "/opt/broadside/dist/daemon/stress-main.js",
      ),
    ).toBeUndefined();
  });

  it("places the whole process (cgroup.procs) into the memory and cpu cgroups, once on v2", () => {
    const v1 = stressCgroupsOf(v1Line);
    if ("problem" in v1) throw new Error(v1.problem);
    expect(placementWrites(v1, 42)).toEqual([
      { path: `${v1.memory}/cgroup.procs`, value: "42" },
      { path: `${v1.cpu}/cgroup.procs`, value: "42" },
    ]);
    expect(
      placementWrites({ version: "v2", memory: "/sys/fs/cgroup/a", cpu: "/sys/fs/cgroup/a" }, 42),
    ).toEqual([{ path: "/sys/fs/cgroup/a/cgroup.procs", value: "42" }]);
  });
});
