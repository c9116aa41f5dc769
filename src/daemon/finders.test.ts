import { describe, expect, it } from "vitest";
import { MemoryHost, MemoryRecords } from "../sandbox/bodies/memory-host.js";
import { checkPodUid, hostVethName, netnsName } from "../sandbox/bodies/names.js";
import { SandboxName } from "../sandbox/sandbox-name.js";
import { CriFinder, inspectArgv, psArgv } from "./cri-finder.js";
import type { ArgvRunner } from "./cri-finder.js";
import { MemoryProcessTable } from "./memory-processes.js";
import { SandboxRecordsFinder } from "./sandbox-finder.js";

const uid = "0b5a6c1e-1111-4222-8333-944455556666";
const pod = { namespace: "shop", name: "web-1", uid };
const sandbox = SandboxName.parse("it-daemon", "sandbox");
const checkedUid =
  checkPodUid(uid) ??
  (() => {
    throw new Error("not a uid");
  })();
const leaf = `/sys/fs/cgroup/memory/broadside-it-daemon/pod${uid}/web`;

describe("the sandbox's finder: the pod body records", () => {
  async function finder() {
    const records = new MemoryRecords();
    await records.writeBody({
      kind: "body",
      uid: checkedUid,
      namespace: "shop",
      pod: "web-1",
      ip: "10.244.0.5",
      netns: netnsName(sandbox, checkedUid),
      hostVeth: hostVethName(sandbox, checkedUid),
      cgroups: { pods: [`/sys/fs/cgroup/memory/broadside-it-daemon/pod${uid}`], leaves: [leaf] },
    });
    const host = new MemoryHost([leaf]);
    await host.write(`${leaf}/cgroup.procs`, "310\n305\n");
    const processes = new MemoryProcessTable();
    processes.processes.set(305, "9000");
    processes.processes.set(310, "8000");
    return new SandboxRecordsFinder(sandbox, records, host, processes);
  }

  it("finds the oldest process in the container's cgroup leaf", async () => {
    expect(await (await finder()).find({ pod, container: "web" })).toEqual({
      found: true,
      pid: 310,
      startTime: "8000",
      how: `cgroup ${leaf}`,
    });
  });

  it("says which containers have a body when asked for another, and when a pod has none", async () => {
    const found = await finder();
    expect(await found.find({ pod, container: "sidecar" })).toEqual({
      found: false,
      reason: "pod shop/web-1 has a body for container web only, not sidecar",
    });
    expect(
      await found.find({ pod: { ...pod, uid: "0b5a6c1e-1111-4222-8333-000000000000" }, container: "web" }),
    ).toEqual({
      found: false,
      reason: "pod shop/web-1 has no body in sandbox it-daemon",
    });
  });
});

class ScriptedRunner implements ArgvRunner {
  readonly calls: (readonly string[])[] = [];
  constructor(private readonly answers: Record<string, string>) {}

  run(argv: readonly string[]) {
    this.calls.push(argv);
    const verb = argv[3] ?? "";
    const stdout = this.answers[verb];
    return Promise.resolve(
      stdout === undefined
        ? { exitCode: 1, stdout: "", stderr: "no such thing\n" }
        : { exitCode: 0, stdout, stderr: "" },
    );
  }
}

describe("the CRI finder: crictl with argv arrays", () => {
  const options = { crictl: "/usr/bin/crictl", endpoint: "unix:///run/containerd/containerd.sock" };
  const id = "4f1c".repeat(16);

  it("builds exactly these argv, the pod uid as a label filter and the ID as one argument", () => {
    expect(psArgv(options, { pod, container: "web" })).toEqual([
      "/usr/bin/crictl",
      "--runtime-endpoint",
      "unix:///run/containerd/containerd.sock",
      "ps",
      "--output",
      "json",
      "--state",
      "Running",
      "--label",
      `io.kubernetes.pod.uid=${uid}`,
    ]);
    expect(inspectArgv(options, id)).toEqual([
      "/usr/bin/crictl",
      "--runtime-endpoint",
      "unix:///run/containerd/containerd.sock",
      "inspect",
      "--output",
      "json",
      id,
    ]);
  });

  it("inspects the container ID from the pod's status, and checks its pid is visible here", async () => {
    const runner = new ScriptedRunner({ inspect: JSON.stringify({ info: { pid: 4242 } }) });
    const processes = new MemoryProcessTable();
    processes.processes.set(4242, "5555");
    const finder = new CriFinder(options, runner, processes);
    expect(await finder.find({ pod, container: "web", containerId: `containerd://${id}` })).toEqual({
      found: true,
      pid: 4242,
      startTime: "5555",
      how: `crictl inspect ${id}`,
    });
    expect(runner.calls).toEqual([inspectArgv(options, id)]);
    processes.processes.clear();
    expect(await finder.find({ pod, container: "web", containerId: `containerd://${id}` })).toMatchObject({
      found: false,
    });
  });

  it("looks the container up by the pod's uid and its name when the status has no ID", async () => {
    const listed = {
      containers: [
        { id: "aa".repeat(32), labels: { "io.kubernetes.container.name": "sidecar" } },
        { id, labels: { "io.kubernetes.container.name": "web" } },
      ],
    };
    const runner = new ScriptedRunner({
      ps: JSON.stringify(listed),
      inspect: JSON.stringify({ info: { pid: 77 } }),
    });
    const processes = new MemoryProcessTable();
    processes.processes.set(77, "1");
    const finder = new CriFinder(options, runner, processes);
    expect(await finder.find({ pod, container: "web" })).toMatchObject({ found: true, pid: 77 });
    expect(runner.calls).toEqual([psArgv(options, { pod, container: "web" }), inspectArgv(options, id)]);
    expect(await finder.find({ pod, container: "db" })).toEqual({
      found: false,
      reason: `no running container db in pod ${uid}`,
    });
  });

  it("never passes an ID that is not hex to crictl: such an ID is looked up by name instead", async () => {
    const runner = new ScriptedRunner({ ps: JSON.stringify({ containers: [] }) });
    const finder = new CriFinder(options, runner, new MemoryProcessTable());
    await finder.find({ pod, container: "web", containerId: "containerd://--help" });
    expect(runner.calls).toEqual([psArgv(options, { pod, container: "web" })]);
  });
});
