import { describe, expect, it } from "vitest";
import { SandboxName } from "../sandbox-name.js";
import { bodyCleanupPlan, cleanUpRecords, networkCleanupPlan } from "./cleanup.js";
import { MemoryHost, MemoryRecords } from "./memory-host.js";
import { hostVethName, netnsName, checkPodUid } from "./names.js";
import type { PodUid } from "./names.js";
import type { BodyRecord } from "./records.js";

const sandbox = SandboxName.parse("pod-body", "--name");
const uid = checkPodUid("c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f") as PodUid;
const pod = "/sys/fs/cgroup/memory/broadside-pod-body/podc373f5eb-6c8f-4bc7-b34f-ce5a213edb4f";
const cpuPod = "/sys/fs/cgroup/cpu/broadside-pod-body/podc373f5eb-6c8f-4bc7-b34f-ce5a213edb4f";
const body: BodyRecord = {
  kind: "body",
  uid,
  namespace: "shop",
  pod: "web-1",
  ip: "10.244.0.7",
  netns: netnsName(sandbox, uid),
  hostVeth: hostVethName(sandbox, uid),
  cgroups: { pods: [pod, cpuPod], leaves: [`${pod}/web`, `${cpuPod}/web`] },
};
const sandboxDirs = ["/sys/fs/cgroup/memory/broadside-pod-body", "/sys/fs/cgroup/cpu/broadside-pod-body"];
const network = {
  kind: "network" as const,
  bridge: "bs0de7e9br",
  cidr: "10.244.0.0/16",
  gateway: "10.244.255.254",
  cgroups: sandboxDirs,
};

describe("cleaning up what the records name", () => {
  it("plans a body's removal: its processes killed, its namespace and link deleted, its cgroups leaves first", () => {
    expect(bodyCleanupPlan(body)).toEqual([
      { kind: "kill", cgroup: `${pod}/web` },
      { kind: "kill", cgroup: `${cpuPod}/web` },
      { kind: "run", argv: ["ip", "netns", "del", body.netns] },
      { kind: "run", argv: ["ip", "link", "del", body.hostVeth] },
      { kind: "rmdir", dir: `${pod}/web` },
      { kind: "rmdir", dir: `${cpuPod}/web` },
      { kind: "rmdir", dir: pod },
      { kind: "rmdir", dir: cpuPod },
    ]);
    expect(networkCleanupPlan(network)).toEqual([
      { kind: "run", argv: ["ip", "link", "del", "bs0de7e9br"] },
      { kind: "rmdir", dir: sandboxDirs[0] },
      { kind: "rmdir", dir: sandboxDirs[1] },
    ]);
  });

  it("removes a killed run's leftovers, its surviving process included, and forgets the records", async () => {
    const host = new MemoryHost(["/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu"]);
    for (const dir of [...sandboxDirs, pod, cpuPod, `${pod}/web`, `${cpuPod}/web`]) await host.mkdir(dir);
    await host.write(`${pod}/web/cgroup.procs`, "4242");
    const records = new MemoryRecords();
    await records.writeBody(body);
    records.network = { ...network, bridge: `bs${body.hostVeth.slice(2, 8)}br` };
    const report = await cleanUpRecords(host, records, sandbox, { network: true });
    expect(report.problems).toEqual([]);
    expect(host.killed).toEqual([{ pid: 4242, signal: "SIGKILL" }]);
    expect(host.ran).toEqual([
      `ip netns del ${body.netns}`,
      `ip link del ${body.hostVeth}`,
      `ip link del bs${body.hostVeth.slice(2, 8)}br`,
    ]);
    expect([...host.dirs].sort()).toEqual(["/sys/fs/cgroup/cpu", "/sys/fs/cgroup/memory"]);
    expect(await records.bodies()).toEqual([]);
    expect(records.network).toBeUndefined();
  });

  it("counts what is already gone as removed, so an interrupted cleanup can run again", async () => {
    const host = new MemoryHost();
    host.answers.set(`ip netns del ${body.netns}`, {
      exitCode: 1,
      stdout: "",
      stderr: `Cannot remove namespace file "/run/netns/${body.netns}": No such file or directory`,
    });
    host.answers.set(`ip link del ${body.hostVeth}`, {
      exitCode: 1,
      stdout: "",
      stderr: `Cannot find device "${body.hostVeth}"`,
    });
    const records = new MemoryRecords();
    await records.writeBody(body);
    expect(await cleanUpRecords(host, records, sandbox, { network: false })).toEqual({
      removed: [expect.stringContaining(body.netns) as string],
      problems: [],
    });
    expect(await records.bodies()).toEqual([]);
  });

  it("keeps the record of anything it could not remove, and leaves alone a record naming what is not this sandbox's", async () => {
    const host = new MemoryHost();
    host.answers.set(`ip netns del ${body.netns}`, {
      exitCode: 1,
      stdout: "",
      stderr: "Operation not permitted",
    });
    const records = new MemoryRecords();
    await records.writeBody(body);
    const foreign = {
      ...body,
      uid: "0079dc13-4701-44d7-bfdc-8b8ba02e4ca7",
      netns: "bs-bench-envelope-0079dc13-4701-44d7-bfdc-8b8ba02e4ca7",
    };
    await records.writeBody(foreign);
    const report = await cleanUpRecords(host, records, sandbox, { network: false });
    expect(report.problems).toEqual([
      `ip netns del ${body.netns}: Operation not permitted`,
      `body record of ${foreign.uid} left alone: netns "${foreign.netns}" is not this sandbox's`,
    ]);
    expect(host.ran).not.toContain(`ip netns del ${foreign.netns}`);
    expect((await records.bodies()).map((record) => record.uid).sort()).toEqual([foreign.uid, uid].sort());
  });
});
