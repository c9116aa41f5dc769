import type { V1Pod } from "@kubernetes/client-node";
import { afterEach, describe, expect, it } from "vitest";
import { systemClock } from "../../core/clock.js";
import type { BroadsideError } from "../../core/errors.js";
import { SandboxName } from "../sandbox-name.js";
import { MemoryCollections } from "../traffic/memory-source.js";
import type { BodyLauncher, ExitStatus, LaunchSpec, RunningBody } from "./body-process.js";
import { MemoryHost, MemoryRecords } from "./memory-host.js";
import { podNetwork } from "./network.js";
import { PodBodies } from "./pod-bodies.js";
import type { PodRef, PodStatusWriter, Termination } from "./status.js";

/**
 * PodBodies against an in-memory API server, machine and launcher: what it makes for a serving pod,
 * how it restarts a body and reports it, and what it removes.
 */

const sandbox = SandboxName.parse("pod-body", "--name");
const uid = "c373f5eb-6c8f-4bc7-b34f-ce5a213edb4f";
const v1 = { version: "v1" as const, memory: "/sys/fs/cgroup/memory", cpu: "/sys/fs/cgroup/cpu" };
const podDir = `broadside-pod-body/pod${uid}`;

function servingPod(): V1Pod {
  return {
    metadata: { namespace: "shop", name: "web-1", uid, labels: { "broadside.dev/serve": "http" } },
    spec: {
      containers: [
        {
          name: "web",
          image: "registry.invalid/web:1",
          ports: [{ containerPort: 9090 }],
          resources: { limits: { memory: "64Mi", cpu: "250m" } },
        },
      ],
    },
    status: { phase: "Running", podIP: "10.244.0.7", conditions: [{ type: "Ready", status: "True" }] },
  };
}

/** Stand-in processes: each listens at once on the port asked for, and exits when killed. */
class MemoryLauncher implements BodyLauncher {
  readonly launched: LaunchSpec[] = [];
  private readonly exits = new Map<number, (status: ExitStatus) => void>();

  constructor(private readonly host: MemoryHost) {
    host.onKill = (pid, signal) => {
      this.exit(pid, { code: null, signal });
    };
  }

  async launch(spec: LaunchSpec): Promise<RunningBody> {
    this.launched.push(spec);
    const pid = 100 + this.launched.length;
    for (const leaf of spec.leaves) await this.host.write(`${leaf}/cgroup.procs`, String(pid));
    const exited = new Promise<ExitStatus>((resolve) => this.exits.set(pid, resolve));
    return {
      pid,
      listening: Promise.resolve(spec.args.port),
      exited,
      send: () => undefined,
      close: () => undefined,
    };
  }

  exit(pid: number, status: ExitStatus): void {
    this.exits.get(pid)?.(status);
    this.exits.delete(pid);
  }
}

class MemoryStatus implements PodStatusWriter {
  readonly restarts: { pod: PodRef; container: string; termination: Termination }[] = [];
  /** Every write in order: the exit comes before its restart. */
  readonly writes: string[] = [];
  recordExit(_pod: PodRef, container: string, termination: Termination): Promise<void> {
    this.writes.push(`exit ${container} ${termination.reason}`);
    return Promise.resolve();
  }
  recordRestart(
    pod: PodRef,
    container: string,
    termination: Termination,
    _since: string,
    ready: boolean,
  ): Promise<void> {
    this.restarts.push({ pod, container, termination });
    this.writes.push(`restart ${container} ${termination.reason}${ready ? " ready" : ""}`);
    return Promise.resolve();
  }
  recordReady(_pod: PodRef, container: string): Promise<void> {
    this.writes.push(`ready ${container}`);
    return Promise.resolve();
  }
}

let running: PodBodies | undefined;
afterEach(async () => {
  await running?.stop();
  running = undefined;
});

async function started(readyDelayMs?: number) {
  const api = new MemoryCollections();
  const host = new MemoryHost([
    "/sys/fs/cgroup/memory",
    "/sys/fs/cgroup/cpu",
    "/sys/fs/cgroup/memory/broadside-pod-body",
    "/sys/fs/cgroup/cpu/broadside-pod-body",
  ]);
  const records = new MemoryRecords();
  const launcher = new MemoryLauncher(host);
  const status = new MemoryStatus();
  const errors: BroadsideError[] = [];
  const bodies = new PodBodies({
    namespaces: undefined,
    sources: api.sources,
    clock: systemClock,
    sandbox,
    network: podNetwork(sandbox, "10.244.0.0/16"),
    cgroups: v1,
    host,
    records,
    launcher,
    status,
    oomPollMs: 10,
    ...(readyDelayMs === undefined ? {} : { readyDelayMs }),
    onError: (error) => errors.push(error),
  });
  running = bodies;
  await bodies.start();
  return { api, host, records, launcher, status, errors, bodies };
}

async function until<T>(check: () => T | undefined): Promise<T> {
  for (let i = 0; i < 200; i += 1) {
    const value = check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error("condition not met");
}

describe("PodBodies", () => {
  it("gives a serving pod its namespace, veth, cgroups with its limits and a process, recorded first", async () => {
    const { api, host, records, launcher, bodies } = await started();
    api.put("pods", servingPod());
    expect(await bodies.dial(uid)).toEqual({ host: "10.244.0.7", port: 9090 });
    const netns = `bs-pod-body-${uid}`;
    const veth = bodies.info(uid)?.hostVeth ?? "";
    expect(host.ran).toEqual([
      `ip netns add ${netns}`,
      `ip link add ${veth} type veth peer name eth0 netns ${netns}`,
      `ip link set ${veth} master bs${veth.slice(2, 8)}br`,
      `ip link set ${veth} up`,
      `ip -n ${netns} addr add 10.244.0.7/16 dev eth0`,
      `ip -n ${netns} link set lo up`,
      `ip -n ${netns} link set eth0 up`,
    ]);
    expect(host.files.get(`/sys/fs/cgroup/memory/${podDir}/web/memory.limit_in_bytes`)).toBe("67108864");
    expect(host.files.get(`/sys/fs/cgroup/cpu/${podDir}/web/cpu.cfs_quota_us`)).toBe("25000");
    expect(host.files.get(`/sys/fs/cgroup/memory/${podDir}/web/cgroup.procs`)).toBe("101\n");
    expect(launcher.launched[0]).toMatchObject({
      netns,
      args: { port: 9090, identity: { pod: "web-1", uid } },
    });
    expect((await records.bodies()).map((record) => record.netns)).toEqual([netns]);
    // Only the body's own address may be dialed.
    expect(bodies.canDial("10.244.0.7")).toBe(true);
    expect(bodies.canDial("10.244.0.8")).toBe(false);
    expect(bodies.canDial("127.0.0.1")).toBe(false);
  });

  it("restarts a body whose process is SIGKILLed and writes Error 137 into the pod's status", async () => {
    const { api, launcher, status, bodies } = await started();
    api.put("pods", servingPod());
    await bodies.dial(uid);
    launcher.exit(101, { code: null, signal: "SIGKILL" });
    const restart = await until(() => status.restarts[0]);
    expect(restart).toMatchObject({
      pod: { namespace: "shop", name: "web-1", uid },
      container: "web",
      termination: { exitCode: 137, reason: "Error", signal: 9 },
    });
    expect(launcher.launched).toHaveLength(2);
    expect(bodies.info(uid)).toMatchObject({ pid: 102, restarts: 1, port: 9090 });
    // The pod went not Ready while its container was down, before it ran again.
    expect(status.writes).toEqual(["exit web Error", "restart web Error ready"]);
  });

  it("with a ready delay, writes the restart not ready, then ready once the delay has passed, as a readiness probe", async () => {
    const { api, launcher, status, bodies } = await started(40);
    api.put("pods", servingPod());
    await bodies.dial(uid);
    launcher.exit(101, { code: null, signal: "SIGKILL" });
    await until(() => status.restarts[0]);
    expect(status.writes).toEqual(["exit web Error", "restart web Error"]);
    await until(() => (status.writes.length === 3 ? true : undefined));
    expect(status.writes[2]).toBe("ready web");
  });

  it("with a ready delay, a body that dies again before it is ready is not written ready for that run", async () => {
    const { api, launcher, status, bodies } = await started(100);
    api.put("pods", servingPod());
    await bodies.dial(uid);
    launcher.exit(101, { code: null, signal: "SIGKILL" });
    await until(() => status.restarts[0]);
    // The second run dies before its ready delay is over; its own restart waits the 1 s back-off.
    launcher.exit(102, { code: null, signal: "SIGKILL" });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(status.writes).toEqual(["exit web Error", "restart web Error", "exit web Error"]);
  });

  it("takes the whole body down when its cgroup's OOM killer strikes, and reports it OOMKilled", async () => {
    const { api, host, status, bodies } = await started();
    api.put("pods", servingPod());
    await bodies.dial(uid);
    // A hog in the cgroup was OOM-killed; the body's own process survived it.
    host.files.set(
      `/sys/fs/cgroup/memory/${podDir}/web/memory.oom_control`,
      "oom_kill_disable 0\noom_kill 1\n",
    );
    const restart = await until(() => status.restarts[0]);
    expect(host.killed).toContainEqual({ pid: 101, signal: "SIGKILL" });
    expect(restart.termination).toMatchObject({ exitCode: 137, reason: "OOMKilled" });
    expect(bodies.info(uid)).toMatchObject({ pid: 102, restarts: 1 });
  });

  it("keeps a body whose pod is not Ready only because the body's own exit was written, and drops it otherwise", async () => {
    const { api, launcher, bodies } = await started();
    api.put("pods", servingPod());
    await bodies.dial(uid);
    const notReady = (state: object): V1Pod => {
      const pod = servingPod();
      pod.status = {
        phase: "Running",
        podIP: "10.244.0.7",
        conditions: [{ type: "Ready", status: "False" }],
        containerStatuses: [
          { name: "web", image: "registry.invalid/web:1", imageID: "", ready: false, restartCount: 0, state },
        ],
      };
      return pod;
    };
    // The sandbox wrote the exit: the body restarts in place, as a kubelet restarts a container.
    api.put("pods", notReady({ terminated: { exitCode: 137, reason: "Error" } }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bodies.info(uid)).toBeDefined();
    // Running again after its restart, waiting for its readiness delay: the body stays too.
    launcher.exit(101, { code: null, signal: "SIGKILL" });
    await until(() => (bodies.info(uid)?.restarts === 1 ? true : undefined));
    api.put("pods", notReady({ running: {} }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(bodies.info(uid)).toBeDefined();
    // Not Ready for any other reason (a failing readiness probe): the body goes, as before.
    api.put("pods", notReady({ terminated: undefined, waiting: { reason: "CrashLoopBackOff" } }));
    api.put("pods", notReady({ running: {} }));
    await until(() => (bodies.info(uid) === undefined ? true : undefined));
  });

  it("removes the body, its record and everything it was made of once the pod is gone", async () => {
    const { api, host, records, bodies } = await started();
    api.put("pods", servingPod());
    await bodies.dial(uid);
    const veth = bodies.info(uid)?.hostVeth ?? "";
    host.ran.length = 0;
    api.delete("pods", servingPod());
    await until(() => (host.ran.length === 2 ? true : undefined));
    expect(host.ran).toEqual([`ip netns del bs-pod-body-${uid}`, `ip link del ${veth}`]);
    await until(() => (records.bodyRecords.size === 0 ? true : undefined));
    expect([...host.dirs].filter((dir) => dir.includes(uid))).toEqual([]);
    expect(await bodies.dial(uid)).toBeUndefined();
    expect(bodies.canDial("10.244.0.7")).toBe(false);
  });

  it("gives no body to a pod whose IP its network cannot hold, and says why", async () => {
    const { api, host, errors, bodies } = await started();
    const outside = servingPod();
    if (outside.status !== undefined) outside.status.podIP = "192.0.2.9";
    api.put("pods", outside);
    await until(() => errors[0]);
    expect(errors[0]?.message).toMatch(/pod shop\/web-1 gets no body: its pod IP 192\.0\.2\.9 is outside/);
    expect(host.ran).toEqual([]);
    expect(bodies.list()).toEqual([]);
  });
});
