import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { get } from "node:http";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemHost } from "../../src/sandbox/bodies/host.js";
import { decideBodies, probeBodies } from "../../src/sandbox/bodies/mode.js";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { daemonArgs } from "../../src/sandbox/daemons.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { sandboxLayout } from "../../src/sandbox/state-dir.js";
import { broadside, config, eventually, kubectl, repoRoot } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * StressChaos end to end (issue 12, ADR 0040): a sandbox of its own (<shared>-stress, or
 * BROADSIDE_IT_STRESS_SANDBOX; BROADSIDE_IT_KEEP_STRESS=1 leaves it up, with its logs, to look into a failure) with pod bodies (a real cgroup per
 * pod with its limits) and a node daemon; `broadside stress` hands the work to the daemon, which starts a
 * stressor inside the target container's memory and cpu cgroups. The seed's case: 512MB against a 256Mi
 * limit OOM-kills the container (restart + 1, OOMKilled) and nothing else on the node.
 */
const name = SandboxName.parse(
  process.env.BROADSIDE_IT_STRESS_SANDBOX ?? `${integrationSandboxName.slice(0, 24)}-stress`,
  "BROADSIDE_IT_STRESS_SANDBOX",
);
const stateDir = join(config.stateDir, name);
const kubeconfig = join(stateDir, "kubeconfig");
const node = "kwok-node-0";
const decision = decideBodies("auto", await probeBodies(systemHost, process.geteuid?.()));
const canRun = decision.mode === "netns";
if (!canRun) process.stderr.write(`stress-chaos.test: not run here: ${decision.reason}\n`);

/** victim: the stressed pod (256Mi); mates: its node-mates; nolimit: pods without a memory limit. */
const manifest = `
apiVersion: v1
kind: Namespace
metadata: { name: shop }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: victim, namespace: shop }
spec:
  replicas: 1
  selector: { matchLabels: { app: victim } }
  template:
    metadata: { labels: { app: victim, broadside.dev/serve: http } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: registry.invalid/web:1
          ports: [{ containerPort: 8080 }]
          resources: { limits: { memory: 256Mi, cpu: 500m } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: mates, namespace: shop }
spec:
  replicas: 2
  selector: { matchLabels: { app: mates } }
  template:
    metadata: { labels: { app: mates, broadside.dev/serve: http } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: web
          image: registry.invalid/web:1
          ports: [{ containerPort: 8080 }]
          resources: { limits: { memory: 96Mi, cpu: 250m } }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: nolimit, namespace: shop }
spec:
  replicas: 3
  selector: { matchLabels: { app: nolimit } }
  template:
    metadata: { labels: { app: nolimit } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: app
          image: registry.invalid/app:1
`;

interface PodLite {
  readonly name: string;
  readonly app: string;
  readonly restarts: number;
  readonly lastReason: string | undefined;
}

async function pods(): Promise<PodLite[]> {
  const listed = await kubectl(kubeconfig, "get", "pods", "-n", "shop", "-o", "json");
  const json = JSON.parse(listed.stdout) as {
    items: {
      metadata: { name: string; labels?: Record<string, string> };
      status?: {
        containerStatuses?: { restartCount: number; lastState?: { terminated?: { reason?: string } } }[];
      };
    }[];
  };
  return json.items.map((item) => {
    const status = item.status?.containerStatuses?.[0];
    return {
      name: item.metadata.name,
      app: item.metadata.labels?.app ?? "",
      restarts: status?.restartCount ?? 0,
      lastReason: status?.lastState?.terminated?.reason,
    };
  });
}

function getText(url: string): Promise<{ status: number; body: string }> {
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

async function bodies(): Promise<BodyInfo[]> {
  const state = JSON.parse(await readFile(join(stateDir, "state.json"), "utf8")) as {
    components: { traffic: { port: number } };
  };
  const reply = await getText(`http://127.0.0.1:${state.components.traffic.port}/bodies`);
  return reply.status === 200 ? (JSON.parse(reply.body) as { bodies: BodyInfo[] }).bodies : [];
}

async function victimBody(): Promise<BodyInfo> {
  return eventually(
    "the victim's body serving",
    async () =>
      (await bodies()).find(
        (b) => b.pod.startsWith("victim-") && b.port !== undefined && b.pid !== undefined,
      ),
    90_000,
  );
}

async function memoryUsage(body: BodyInfo): Promise<number> {
  const leaf = body.cgroups.find((dir) => dir.includes("/memory/")) ?? body.cgroups[0] ?? "";
  const file = leaf.includes("/memory/") ? "memory.usage_in_bytes" : "memory.current";
  return Number((await readFile(join(leaf, file), "utf8")).trim());
}

async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

/** The stress entries of the node's journal: work, phase, stressor pid, end. */
async function stressEntries(): Promise<
  { work: string; phase: string; endsAt?: number; stress?: { pid?: number } }[]
> {
  const dir = join(stateDir, "daemon", node);
  const names = await readdir(dir).catch(() => [] as string[]);
  const entries = [];
  for (const file of names.filter((each) => each.endsWith(".json"))) {
    const entry = JSON.parse(await readFile(join(dir, file), "utf8")) as {
      work: string;
      phase: string;
      endsAt?: number;
      stress?: { pid?: number };
      spec: { kind: string };
    };
    if (entry.spec.kind === "stress") entries.push(entry);
  }
  return entries;
}

function startBroadside(...args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [join(repoRoot, "bin", "broadside.js"), ...args], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once("exit", (code) => {
      resolve({ code, stdout, stderr });
    }),
  );
  return { child, done };
}

interface StressJson {
  runs: { final?: { phase: string; message: string }; problem?: string }[];
}

async function broadsideObjects(): Promise<string[]> {
  const listed = await kubectl(kubeconfig, "get", "configmaps", "-n", "broadside-system", "-o", "name");
  return listed.stdout.split("\n").filter((line) => line.includes("ledger-") || line.includes("nodework-"));
}

/** The pods once `pod` shows one restart more than it had. */
function restartedOnce(pod: PodLite): Promise<PodLite[]> {
  return eventually(
    `${pod.name} restarted`,
    async () => {
      const now = await pods();
      return now.find((p) => p.name === pod.name)?.restarts === pod.restarts + 1 ? now : undefined;
    },
    30_000,
  );
}

/** The daemon's last answer of the one run in a command's -o json. */
function finalOf(stdout: string): { phase: string; message: string } {
  const json = JSON.parse(stdout) as StressJson;
  return json.runs[0]?.final ?? { phase: "none", message: "" };
}

async function nodeReady(): Promise<string | undefined> {
  const nodeJson = await kubectl(kubeconfig, "get", "node", node, "-o", "json");
  const parsed = JSON.parse(nodeJson.stdout) as {
    status: { conditions: { type: string; status: string }[] };
  };
  return parsed.status.conditions.find((c) => c.type === "Ready")?.status;
}

async function stressorPids(): Promise<number[]> {
  return (await stressEntries()).flatMap((e) => (e.stress?.pid === undefined ? [] : [e.stress.pid]));
}

const stressArgs = ["stress", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=victim"];

describe.runIf(canRun)("StressChaos through the node daemon, in a sandbox with pod bodies", () => {
  afterAll(async () => {
    if (process.env.BROADSIDE_IT_KEEP_STRESS !== "1") await broadside("sandbox", "down", "--name", name);
  });

  it("starts a sandbox with a daemon, a 256Mi victim and two node-mates", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "1", "--pod-bodies", "netns");
    expect(up.code, up.stderr).toBe(0);
    const file = join(stateDir, "stress.yaml");
    await writeFile(file, manifest);
    const applied = await kubectl(kubeconfig, "apply", "-f", file);
    expect(applied.code, applied.stderr).toBe(0);
    await victimBody();
    await eventually(
      "three serving bodies",
      async () => ((await bodies()).filter((b) => b.port !== undefined).length === 3 ? true : undefined),
      90_000,
    );
  });

  it("refuses a memory stress on a container without a memory limit, naming it, and writes nothing", async () => {
    const before = await broadsideObjects();
    const refused = await broadside(
      ...["stress", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=nolimit"],
      ...["--memory", "64Mi", "--duration", "10s"],
    );
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain("BRD_REFUSED_BY_RAIL");
    expect(refused.stderr).toMatch(/container app of pod shop\/nolimit-[a-z0-9-]+ has no memory limit/);
    expect(await broadsideObjects()).toEqual(before);
  });

  it("a memory stress below the limit holds for its duration: the cgroup's usage rises by it, and the stressor is gone after", async () => {
    const body = await victimBody();
    const restartsBefore = await pods();
    const baseline = await memoryUsage(body);
    const held = startBroadside(
      ...stressArgs,
      "--memory",
      "100Mi",
      "--duration",
      "8s",
      "-o",
      "json",
      "--unsafe",
    );
    let peak = baseline;
    let pid = 0;
    const sampling = (async () => {
      for (;;) {
        peak = Math.max(peak, await memoryUsage(body).catch(() => 0));
        const entry = (await stressEntries()).find(
          (e) => e.phase === "applied" && e.stress?.pid !== undefined,
        );
        if (entry?.stress?.pid !== undefined) pid = entry.stress.pid;
        if (held.child.exitCode !== null) return;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();
    const result = await held.done;
    await sampling;
    expect(result.code, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as StressJson;
    expect(json.runs[0]?.final?.phase).toBe("Reverted");
    expect(json.runs[0]?.final?.message).toContain("its duration ended");
    const rise = (peak - baseline) / 2 ** 20;
    process.stderr.write(
      `stress 100Mi below a 256Mi limit: the cgroup's usage rose from ${(baseline / 2 ** 20).toFixed(1)} MiB by ${rise.toFixed(1)} MiB at its peak; stressor pid ${pid}\n`,
    );
    expect(rise).toBeGreaterThanOrEqual(90);
    expect(pid).toBeGreaterThan(0);
    expect(await running(pid)).toBe(false);
    const after = await pods();
    expect(after.map((p) => p.restarts)).toEqual(restartsBefore.map((p) => p.restarts));
  });

  it("the seed: 512MB against a 256Mi limit OOM-kills the container in its cgroup; node-mates 0 new restarts; the node stays Ready", async () => {
    await victimBody();
    const before = await pods();
    const result = await broadside(
      ...stressArgs,
      "--memory",
      "512MB",
      "--duration",
      "60s",
      "-o",
      "json",
      "--unsafe",
    );
    expect(result.code, result.stderr).toBe(0);
    const final = finalOf(result.stdout);
    expect(final.phase).toBe("Reverted");
    expect(final.message).toContain("the OOM killer of the container's memory cgroup ended the stressor");
    const victimBefore = before.find((p) => p.app === "victim");
    if (victimBefore === undefined) throw new Error("no victim pod");
    const after = await restartedOnce(victimBefore);
    const victim = after.find((p) => p.name === victimBefore.name) ?? victimBefore;
    expect(victim.lastReason).toBe("OOMKilled");
    const mates = before.filter((p) => p.app === "mates");
    for (const mate of mates) expect(after.find((p) => p.name === mate.name)?.restarts).toBe(mate.restarts);
    expect(await nodeReady()).toBe("True");
    for (const pid of await stressorPids()) expect(await running(pid)).toBe(false);
    process.stderr.write(
      `seed stress: victim ${victim.name} restarts ${victimBefore.restarts} -> ${victim.restarts} (${String(victim.lastReason)}); ${mates.length} node-mates, 0 new restarts; node Ready; the daemon said: ${final.message}\n`,
    );
  });

  it("SIGKILL the daemon mid stress and start it again past the end: the stressor is gone within 10 s and the pod is as before", async () => {
    await eventually(
      "the victim serving again",
      async () =>
        (await bodies()).find((b) => b.pod.startsWith("victim-") && b.port !== undefined) ? true : undefined,
      60_000,
    );
    const before = await pods();
    const daemons = JSON.parse(await readFile(join(stateDir, "daemons.json"), "utf8")) as {
      node: string;
      pid: number;
    }[];
    const own = daemons.find((d) => d.node === node);
    if (own === undefined) throw new Error(`no daemon for ${node}`);
    const held = startBroadside(
      ...stressArgs,
      "--memory",
      "64Mi",
      "--duration",
      "6s",
      "-o",
      "json",
      "--unsafe",
    );
    const entry = await eventually("the stressor journaled", async () =>
      (await stressEntries()).find((e) => e.phase === "applied" && e.stress?.pid !== undefined),
    );
    const known = await stressEntries();
    const pid = entry.stress?.pid ?? 0;
    expect(await running(pid)).toBe(true);
    process.kill(own.pid, "SIGKILL");
    await eventually("the daemon gone", async () => ((await running(own.pid)) ? undefined : true));
    // Past the fault's end, before the stressor's own end (10 s after it): only the daemon can end it now.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, (entry.endsAt ?? 0) + 1_000 - Date.now())),
    );
    expect(await running(pid)).toBe(true);
    const layout = sandboxLayout(config.stateDir, name);
    const restartedAt = Date.now();
    const restarted = spawn(
      process.execPath,
      daemonArgs(layout, join(repoRoot, "bin", "broadside.js"), node),
      {
        stdio: "ignore",
      },
    );
    try {
      await eventually("the stressor gone", async () => ((await running(pid)) ? undefined : true), 10_000);
      const tookMs = Date.now() - restartedAt;
      process.stderr.write(
        `daemon crash: the stressor (pid ${pid}) was gone ${tookMs} ms after the daemon started again\n`,
      );
      expect(tookMs).toBeLessThanOrEqual(10_000);
      const result = await held.done;
      expect(result.code, result.stderr).toBe(0);
      const json = JSON.parse(result.stdout) as StressJson;
      expect(json.runs[0]?.final?.message).toContain("its end passed while the daemon was down");
      const after = await pods();
      expect(after.map((p) => p.restarts)).toEqual(before.map((p) => p.restarts));
      expect(known.length).toBeGreaterThan(0);
    } finally {
      restarted.kill("SIGTERM");
    }
  });
});
