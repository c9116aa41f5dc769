import { spawn } from "node:child_process";
import { get } from "node:http";
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemHost } from "../../src/sandbox/bodies/host.js";
import { decideBodies, probeBodies } from "../../src/sandbox/bodies/mode.js";
import { sandboxTag } from "../../src/sandbox/bodies/names.js";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { broadside, config, eventually, kubectl, runProgram } from "./harness.js";
import { integrationSandboxName } from "./names.js";
import { shopWebManifest } from "./shop-web.js";

/**
 * Pod bodies for real: a sandbox of its own started with --pod-bodies netns (so the shared one is never
 * disturbed, and `down` can be checked to leave nothing behind). Every request goes to the front door
 * on 127.0.0.1; the test itself never dials a pod IP.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 25)}-bodies`, "sandbox name");
const stateDir = join(config.stateDir, name);
const kubeconfig = join(stateDir, "kubeconfig");
const capabilities = await probeBodies(systemHost, process.geteuid?.());
const decision = decideBodies("auto", capabilities);
const canRun = decision.mode === "netns";

interface Reply {
  readonly status: number;
  readonly body: string;
}

function getText(url: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    }).on("error", reject);
  });
}

async function trafficPort(): Promise<number> {
  const state = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8")) as {
    components: { traffic: { port: number; pid: number } };
  };
  return state.components.traffic.port;
}

async function bodies(): Promise<BodyInfo[]> {
  const reply = await getText(`http://127.0.0.1:${await trafficPort()}/bodies`);
  if (reply.status !== 200) return [];
  return (JSON.parse(reply.body) as { bodies: BodyInfo[] }).bodies;
}

interface PodJson {
  metadata: { name: string; uid: string; deletionTimestamp?: string };
  status: {
    podIP?: string;
    containerStatuses?: {
      restartCount: number;
      lastState?: { terminated?: { reason: string; exitCode: number } };
    }[];
  };
}

async function pods(): Promise<PodJson[]> {
  const listed = await kubectl(kubeconfig, "-n", "shop", "get", "pods", "-l", "app=web", "-o", "json");
  expect(listed.code, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as { items: PodJson[] }).items;
}

async function podOf(uid: string): Promise<PodJson | undefined> {
  return (await pods()).find((pod) => pod.metadata.uid === uid);
}

/** Serving bodies (listening, with a process) of pods that are not being deleted. */
async function servingBodies(count: number): Promise<BodyInfo[] | undefined> {
  const live = new Set(
    (await pods()).filter((pod) => pod.metadata.deletionTimestamp === undefined).map((p) => p.metadata.uid),
  );
  const serving = (await bodies()).filter(
    (b) => live.has(b.uid) && b.port !== undefined && b.pid !== undefined,
  );
  return serving.length === count ? serving : undefined;
}

async function frontDoorPort(): Promise<number> {
  return eventually("the front door of shop/web", async () => {
    const status = await broadside("sandbox", "status", "--name", name, "-o", "json");
    const json = JSON.parse(status.stdout) as {
      frontDoors: { open: { service: string; port: number }[] } | null;
    };
    return json.frontDoors?.open.find((door) => door.service === "web")?.port;
  });
}

async function netnsNames(): Promise<string[]> {
  const listed = await runProgram("ip", ["netns", "list"]);
  return listed.stdout.split("\n").map((line) => line.split(" ")[0] ?? "");
}

async function linkNames(): Promise<string[]> {
  const listed = await runProgram("ip", ["-j", "link", "show"]);
  return (JSON.parse(listed.stdout) as { ifname: string }[]).map((link) => link.ifname);
}

/** Every cgroup directory named after this sandbox, in every hierarchy. */
async function sandboxCgroups(): Promise<string[]> {
  const found: string[] = [];
  for (const hierarchy of await readdir("/sys/fs/cgroup")) {
    const dir = join("/sys/fs/cgroup", hierarchy, `broadside-${name}`);
    if (await stat(dir).catch(() => undefined)) found.push(dir);
  }
  if (await stat(join("/sys/fs/cgroup", `broadside-${name}`)).catch(() => undefined))
    found.push(join("/sys/fs/cgroup", `broadside-${name}`));
  return found;
}

// Always runs, so the tier's count never hides the choice: here it says which mode auto picks and, where
// bodies cannot be made (not root, no `ip netns`), why the tests below do not run.
describe("pod bodies: what --pod-bodies auto chooses on this machine", () => {
  it("chooses netns where bodies can be made, and otherwise says why it falls back to loopback", () => {
    if (decision.mode === "netns") {
      expect(canRun).toBe(true);
      return;
    }
    process.stderr.write(
      `pod-bodies.test.ts cannot run here: --pod-bodies auto would choose loopback (${decision.reason})\n`,
    );
    expect(decision.mode).toBe("loopback");
    expect(decision.reason).not.toBe("");
  });
});

describe.runIf(canRun)("pod bodies: each serving pod in its own network namespace and cgroup", () => {
  let bodyOne: BodyInfo | undefined;

  afterAll(async () => {
    await broadside("sandbox", "down", "--name", name);
  });

  it("starts a sandbox with pod bodies and says so", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "2", "--pod-bodies", "netns");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(
      /pod bodies: netns \(.*bridge bs[0-9a-f]{6}br, pod CIDR 10\.2\d\d\.0\.0\/16, cgroup v[12]\)/,
    );
  });

  it("gives each pod of a serving Deployment a body: kwok's IP in its own netns, its limits in its cgroup", async () => {
    const file = join(stateDir, "web.yaml");
    await writeFile(file, shopWebManifest);
    const applied = await kubectl(kubeconfig, "apply", "-f", file);
    expect(applied.code, applied.stderr).toBe(0);
    const made = await eventually("two serving bodies", () => servingBodies(2), 90_000);
    for (const body of made) {
      const pod = await podOf(body.uid);
      expect(body.ip).toBe(pod?.status.podIP);
      expect(await netnsNames()).toContain(body.netns);
      // The process runs in that namespace (same inode) and in the body's cgroups.
      const [inNetns, ofPid] = await Promise.all([
        stat(`/run/netns/${body.netns}`),
        stat(`/proc/${body.pid}/ns/net`),
      ]);
      expect(ofPid.ino).toBe(inNetns.ino);
      const cgroupLines = await readFile(`/proc/${body.pid}/cgroup`, "utf8");
      expect(cgroupLines).toContain(`/broadside-${name}/pod${body.uid}/web\n`);
      const memoryLeaf = body.cgroups[0] ?? "";
      const limitFile = memoryLeaf.includes("/memory/") ? "memory.limit_in_bytes" : "memory.max";
      expect((await readFile(join(memoryLeaf, limitFile), "utf8")).trim()).toBe(String(96 * 2 ** 20));
      expect(await linkNames()).toContain(body.hostVeth);
    }
    bodyOne = made[0];
  });

  it("routes the front door's traffic to the bodies through the bridge", async () => {
    const port = await frontDoorPort();
    const answered = new Set<string>();
    for (let i = 0; i < 40; i += 1) {
      const reply = await getText(`http://127.0.0.1:${port}/`);
      expect(reply.status).toBe(200);
      answered.add((JSON.parse(reply.body) as { uid: string }).uid);
    }
    const serving = (await servingBodies(2)) ?? [];
    expect([...answered].sort()).toEqual(serving.map((b) => b.uid).sort());
  });

  it("gives a replacement pod a new body, and removes the deleted pod's once it is gone", async () => {
    const victim = bodyOne;
    if (victim === undefined) throw new Error("no body from the first test");
    const deleted = await kubectl(kubeconfig, "-n", "shop", "delete", "pod", victim.pod, "--wait=false");
    expect(deleted.code, deleted.stderr).toBe(0);
    const after = await eventually(
      "a body for the replacement and none for the deleted pod",
      async () => {
        const serving = await servingBodies(2);
        const gone = !(await bodies()).some((b) => b.uid === victim.uid);
        return serving !== undefined && gone && !serving.some((b) => b.uid === victim.uid)
          ? serving
          : undefined;
      },
      90_000,
    );
    expect(after).toHaveLength(2);
    await eventually("the deleted pod's netns gone", async () =>
      (await netnsNames()).includes(victim.netns) ? undefined : true,
    );
    expect(await linkNames()).not.toContain(victim.hostVeth);
    expect(await stat(victim.cgroups[0] ?? "/").catch(() => undefined)).toBeUndefined();
  });

  it("restarts a body whose process is SIGKILLed: restartCount 1, lastState terminated Error 137", async () => {
    const [body] = (await servingBodies(2)) ?? [];
    if (body?.pid === undefined) throw new Error("no serving body");
    process.kill(body.pid, "SIGKILL");
    const pod = await eventually("the restart in the pod's status", async () => {
      const current = await podOf(body.uid);
      return (current?.status.containerStatuses?.[0]?.restartCount ?? 0) >= 1 ? current : undefined;
    });
    expect(pod.status.containerStatuses?.[0]).toMatchObject({
      restartCount: 1,
      lastState: { terminated: { reason: "Error", exitCode: 137 } },
    });
    const restarted = await eventually("the body listening again", async () =>
      (await servingBodies(2))?.find((b) => b.uid === body.uid && b.pid !== body.pid),
    );
    expect(restarted.restarts).toBe(1);
    expect(restarted.netns).toBe(body.netns);
  });

  it("OOM-kills a memory hog in the body's cgroup, and reports the body OOMKilled", async () => {
    const [body] = (await servingBodies(2)) ?? [];
    if (body === undefined) throw new Error("no serving body");
    const before = (await podOf(body.uid))?.status.containerStatuses?.[0]?.restartCount ?? 0;
    const memoryLeaf = body.cgroups[0] ?? "";
    // The hog moves itself into the body's memory cgroup, then allocates 8 MiB every 20 ms.
    const hog = spawn(
      process.execPath,
      [
        "-e",
        'require("fs").writeFileSync(process.argv[1], String(process.pid)); const kept = []; setInterval(() => kept.push(Buffer.alloc(8 << 20, 1)), 20);',
        join(memoryLeaf, "cgroup.procs"),
      ],
      { stdio: "ignore" },
    );
    const hogEnded = new Promise<NodeJS.Signals | null>((resolve) =>
      hog.once("exit", (_code, signal) => {
        resolve(signal);
      }),
    );
    expect(await hogEnded).toBe("SIGKILL");
    const pod = await eventually("the OOM kill in the pod's status", async () => {
      const current = await podOf(body.uid);
      return (current?.status.containerStatuses?.[0]?.restartCount ?? 0) > before ? current : undefined;
    });
    expect(pod.status.containerStatuses?.[0]).toMatchObject({
      restartCount: before + 1,
      lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } },
    });
    await eventually("the body listening again", async () =>
      (await servingBodies(2))?.find((b) => b.uid === body.uid && b.pid !== body.pid),
    );
    const port = await frontDoorPort();
    expect((await getText(`http://127.0.0.1:${port}/`)).status).toBe(200);
  });

  it("leaves no namespace, link or cgroup behind on down, even after its traffic process was SIGKILLed", async () => {
    const made = await bodies();
    expect(made.length).toBeGreaterThan(0);
    const state = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8")) as {
      components: { traffic: { pid: number } };
    };
    // A killed traffic process cannot remove its bodies: down does it from the records in the state dir.
    process.kill(state.components.traffic.pid, "SIGKILL");
    const tag = sandboxTag(name);
    expect((await linkNames()).filter((link) => link.startsWith(`bs${tag}`)).length).toBeGreaterThan(0);
    const down = await broadside("sandbox", "down", "--name", name);
    expect(down.code, down.stderr).toBe(0);
    expect((await netnsNames()).filter((netns) => netns.startsWith(`bs-${name}-`))).toEqual([]);
    expect((await linkNames()).filter((link) => link.startsWith(`bs${tag}`))).toEqual([]);
    expect(await sandboxCgroups()).toEqual([]);
  });
});
