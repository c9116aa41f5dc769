import { describe, expect, it } from "vitest";
import { SandboxName } from "../sandbox-name.js";
import {
  bodyCgroupPlan,
  bodyCgroups,
  bodyCgroupTeardown,
  cgroupLayoutOf,
  isOwnCgroupDir,
  joinWrites,
  parseOomKills,
  parseProcs,
  sandboxCgroupPlan,
} from "./cgroups.js";
import type { CgroupLayout } from "./cgroups.js";
import { MemoryHost } from "./memory-host.js";
import { checkContainerName, checkPodUid } from "./names.js";
import type { ContainerName, PodUid } from "./names.js";

const sandbox = SandboxName.parse("pod-body", "--name");
const uid = checkPodUid("c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f") as PodUid;
const web = checkContainerName("web") as ContainerName;
const v1: CgroupLayout = { version: "v1", memory: "/sys/fs/cgroup/memory", cpu: "/sys/fs/cgroup/cpu" };
const v2: CgroupLayout = { version: "v2", root: "/sys/fs/cgroup" };
const pod = "broadside-pod-body/podc373f5eb-6c8f-4bc7-b34f-ce5a213edb4f";

describe("a body's cgroups", () => {
  it("finds v2 where /sys/fs/cgroup is unified with memory and cpu, v1 where those hierarchies are mounted", async () => {
    const unified = new MemoryHost();
    unified.files.set("/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
    expect(await cgroupLayoutOf(unified)).toEqual({ layout: v2 });
    const hybrid = new MemoryHost();
    hybrid.files.set("/sys/fs/cgroup/memory/memory.limit_in_bytes", "");
    hybrid.files.set("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "");
    expect(await cgroupLayoutOf(hybrid)).toEqual({ layout: v1 });
    const none = new MemoryHost();
    expect(await cgroupLayoutOf(none)).toEqual({ problem: expect.stringMatching(/no cgroup v2/) as string });
  });

  it("on v1: the memory limit in the memory hierarchy, the CPU quota per 100 ms period in the cpu one", () => {
    const cgroups = bodyCgroups(v1, sandbox, uid, web);
    expect(cgroups.oomFile).toBe(`/sys/fs/cgroup/memory/${pod}/web/memory.oom_control`);
    expect(bodyCgroupPlan(v1, cgroups, { memoryBytes: 100_663_296, cpuMillis: 500 })).toEqual({
      mkdirs: [
        `/sys/fs/cgroup/memory/${pod}`,
        `/sys/fs/cgroup/memory/${pod}/web`,
        `/sys/fs/cgroup/cpu/${pod}`,
        `/sys/fs/cgroup/cpu/${pod}/web`,
      ],
      writes: [
        { path: `/sys/fs/cgroup/memory/${pod}/web/memory.limit_in_bytes`, value: "100663296" },
        { path: `/sys/fs/cgroup/cpu/${pod}/web/cpu.cfs_period_us`, value: "100000" },
        { path: `/sys/fs/cgroup/cpu/${pod}/web/cpu.cfs_quota_us`, value: "50000" },
      ],
    });
    expect(bodyCgroupPlan(v1, cgroups, {})).toEqual({ mkdirs: expect.any(Array) as unknown, writes: [] });
    expect(joinWrites(cgroups, 4242)).toEqual([
      { path: `/sys/fs/cgroup/memory/${pod}/web/cgroup.procs`, value: "4242" },
      { path: `/sys/fs/cgroup/cpu/${pod}/web/cgroup.procs`, value: "4242" },
    ]);
    expect(bodyCgroupTeardown(cgroups)).toEqual([
      `/sys/fs/cgroup/memory/${pod}/web`,
      `/sys/fs/cgroup/cpu/${pod}/web`,
      `/sys/fs/cgroup/memory/${pod}`,
      `/sys/fs/cgroup/cpu/${pod}`,
    ]);
  });

  it("on v2: controllers handed down, both limits in the one leaf, and an OOM kill takes the whole container", () => {
    expect(sandboxCgroupPlan(v2, sandbox)).toEqual({
      mkdirs: ["/sys/fs/cgroup/broadside-pod-body"],
      writes: [
        { path: "/sys/fs/cgroup/cgroup.subtree_control", value: "+memory +cpu" },
        { path: "/sys/fs/cgroup/broadside-pod-body/cgroup.subtree_control", value: "+memory +cpu" },
      ],
    });
    const cgroups = bodyCgroups(v2, sandbox, uid, web);
    expect(cgroups.oomFile).toBe(`/sys/fs/cgroup/${pod}/web/memory.events`);
    expect(bodyCgroupPlan(v2, cgroups, { memoryBytes: 67_108_864, cpuMillis: 250 })).toEqual({
      mkdirs: [`/sys/fs/cgroup/${pod}`, `/sys/fs/cgroup/${pod}/web`],
      writes: [
        { path: `/sys/fs/cgroup/${pod}/cgroup.subtree_control`, value: "+memory +cpu" },
        { path: `/sys/fs/cgroup/${pod}/web/memory.max`, value: "67108864" },
        { path: `/sys/fs/cgroup/${pod}/web/memory.oom.group`, value: "1" },
        { path: `/sys/fs/cgroup/${pod}/web/cpu.max`, value: "25000 100000" },
      ],
    });
  });

  it("reads the OOM kill counter of v1's memory.oom_control and v2's memory.events, and cgroup.procs", () => {
    expect(parseOomKills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n")).toBe(3);
    expect(parseOomKills("low 0\nhigh 0\nmax 7\noom 2\noom_kill 1\noom_group_kill 1\n")).toBe(1);
    expect(parseOomKills("oom_kill_disable 0\n")).toBe(0);
    expect(parseProcs("12\n345\n\n")).toEqual([12, 345]);
  });

  it("trusts a recorded directory only when it is this sandbox's, below a hierarchy's root", () => {
    expect(isOwnCgroupDir(`/sys/fs/cgroup/memory/${pod}/web`, sandbox)).toBe(true);
    expect(isOwnCgroupDir(`/sys/fs/cgroup/${pod}`, sandbox)).toBe(true);
    expect(isOwnCgroupDir("/sys/fs/cgroup/memory/broadside-pod-body", sandbox)).toBe(true);
    expect(isOwnCgroupDir("/sys/fs/cgroup/memory/broadside-bench-envelope/podx", sandbox)).toBe(false);
    expect(isOwnCgroupDir("/sys/fs/cgroup/memory/process_api", sandbox)).toBe(false);
    expect(isOwnCgroupDir("/sys/fs/cgroup/memory/broadside-pod-body/../process_api", sandbox)).toBe(false);
    expect(isOwnCgroupDir("/etc/broadside-pod-body", sandbox)).toBe(false);
  });
});
