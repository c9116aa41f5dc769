import { type ChildProcess, spawn } from "node:child_process";
import { get } from "node:http";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemHost } from "../../src/sandbox/bodies/host.js";
import { decideBodies, probeBodies } from "../../src/sandbox/bodies/mode.js";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { parseRunReport } from "../../src/experiments/report/json.js";
import type { RunReport } from "../../src/experiments/report/run-report.js";
import { ledgerObjectName } from "../../src/kube/ledger-store.js";
import { daemonArgs } from "../../src/sandbox/daemons.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { sandboxLayout } from "../../src/sandbox/state-dir.js";
import { broadside, config, eventually, kubectl, repoRoot, runProgram } from "./harness.js";
import { installCrds, logged, startAgentOn } from "./agent-process.js";
import {
  bodies,
  broadsideTables,
  kernelHasNetem,
  quantile,
  running,
  startBroadside,
} from "./network-helpers.js";
import { integrationSandboxName } from "./names.js";
// @ts-expect-error: a plain .mjs set-up script, as test/browser/setup-chromium.mjs
import { ensureNetworkTools } from "./setup-network-tools.mjs";
import { shopWebManifest } from "./shop-web.js";

/**
 * The network faults end to end (issue 12, ADR 0032): a sandbox of its own with pod bodies (a real
 * network namespace per pod, a veth to the sandbox's bridge) and a node daemon; `broadside bandwidth` and
 * `broadside partition` hand the work to the daemon, which applies tc tbf / an nftables table inside the
 * pod's namespace and reverts it. Traffic goes only to the sandbox's front door on 127.0.0.1, which routes
 * into the pod's namespace over the bridge; the test never dials a pod IP.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 25)}-net`, "sandbox name");
const stateDir = join(config.stateDir, name);
const kubeconfig = join(stateDir, "kubeconfig");
const decision = decideBodies("auto", await probeBodies(systemHost, process.geteuid?.()));
const tools = (ensureNetworkTools as (options: object) => { ok: boolean; message?: string })({
  logDir: join(repoRoot, ".test-results"),
});
const canRun = decision.mode === "netns" && tools.ok;
if (!canRun)
  process.stderr.write(
    `network-chaos.test: not run here: ${decision.mode !== "netns" ? decision.reason : (tools.message ?? "")}\n`,
  );

/**
 * One web pod, so the front door routes every request to the pod under the fault. The blast-radius cap
 * counts a faulted pod as down, so faulting the only pod of its Deployment takes --unsafe.
 */
const oneWebPod = shopWebManifest.replace("replicas: 2", "replicas: 1");

interface Transfer {
  readonly status: number;
  readonly bytes: number;
  readonly ms: number;
  /** Goodput in bit/s, from the end of the first second to the end (the tbf bucket's burst left out). */
  readonly steadyBitsPerSecond: number;
}

/** Downloads `/bytes/<n>` through the front door, timing every chunk's arrival. */
function transfer(port: number, bytes: number): Promise<Transfer> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    get(`http://127.0.0.1:${port}/bytes/${bytes}`, { agent: false }, (response) => {
      let received = 0;
      let afterFirstSecond: { at: number; bytes: number } | undefined;
      response.on("data", (chunk: Buffer) => {
        received += chunk.length;
        const now = performance.now();
        if (afterFirstSecond === undefined && now - start >= 1_000)
          afterFirstSecond = { at: now, bytes: received };
      });
      response.on("end", () => {
        const end = performance.now();
        const from = afterFirstSecond ?? { at: start, bytes: 0 };
        const steady = ((received - from.bytes) * 8 * 1000) / Math.max(1, end - from.at);
        resolve({
          status: response.statusCode ?? 0,
          bytes: received,
          ms: end - start,
          steadyBitsPerSecond: steady,
        });
      });
      response.on("error", reject);
    }).on("error", reject);
  });
}

/** One plain request through the front door: its status, or the error's code. */
function request(port: number): Promise<string> {
  return new Promise((resolve) => {
    const sent = get(`http://127.0.0.1:${port}/`, { agent: false, timeout: 3_000 }, (response) => {
      response.resume();
      response.on("end", () => {
        resolve(String(response.statusCode ?? 0));
      });
    });
    sent.on("timeout", () => {
      sent.destroy(new Error("timeout"));
    });
    sent.on("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code ?? error.message);
    });
  });
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

/** The root qdisc of eth0 in the body's namespace, as tc -j shows it. */
async function rootQdisc(netns: string): Promise<{ kind: string; handle: string }> {
  const shown = await runProgram("ip", ["netns", "exec", netns, "tc", "-j", "qdisc", "show", "dev", "eth0"]);
  const qdiscs = JSON.parse(shown.stdout) as { kind: string; handle: string; root?: boolean }[];
  return qdiscs.find((q) => q.root === true) ?? { kind: "none", handle: "" };
}

function reportBandwidth(
  baseline: Transfer,
  during: Transfer,
  after: Transfer,
  window: { appliedAt: number; revertedAt: number } | null,
): void {
  const held = window === null ? "-" : ((window.revertedAt - window.appliedAt) / 1000).toFixed(1);
  process.stderr.write(
    `bandwidth 1mbit: baseline ${(baseline.steadyBitsPerSecond / 1e6).toFixed(1)} Mbit/s, ` +
      `limited ${(during.steadyBitsPerSecond / 1e6).toFixed(3)} Mbit/s over ${(during.ms / 1000).toFixed(1)} s, ` +
      `after the revert ${(after.steadyBitsPerSecond / 1e6).toFixed(1)} Mbit/s; held ${held} s\n`,
  );
}

interface NetworkJson {
  runs: {
    ledgerId: string;
    work: string;
    applied: { phase: string; actedAt: number; endsAt: number };
    final: { phase: string; message: string; revertedAt: number };
    problem?: string;
    window: { appliedAt: number; revertedAt: number } | null;
  }[];
}

interface Sample {
  readonly at: number;
  readonly ms: number;
  readonly status: string;
}

/** A probe through the front door at `hz` for `ms`: every request's latency (send to end) and status. */
async function probe(port: number, hz: number, ms: number): Promise<Sample[]> {
  const samples: Promise<Sample>[] = [];
  const started = performance.now();
  while (performance.now() - started < ms) {
    const at = performance.now();
    samples.push(request(port).then((status) => ({ at, ms: performance.now() - at, status })));
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + 1000 / hz - performance.now())));
  }
  return Promise.all(samples);
}

function describeSamples(samples: readonly Sample[]): string {
  const ms = samples.map((s) => s.ms);
  return `n ${ms.length}, median ${quantile(ms, 0.5).toFixed(1)} ms, p10 ${quantile(ms, 0.1).toFixed(1)}, p90 ${quantile(ms, 0.9).toFixed(1)}, min ${Math.min(...ms).toFixed(1)}, max ${Math.max(...ms).toFixed(1)}`;
}

/** The central `1 - alpha` interval of Binomial(n, p), exactly (summing the pmf in logs). */
function binomialBounds(n: number, p: number, alpha: number): { low: number; high: number } {
  const logFactorial = (k: number): number => {
    let sum = 0;
    for (let i = 2; i <= k; i += 1) sum += Math.log(i);
    return sum;
  };
  const logN = logFactorial(n);
  const pmf = (k: number): number =>
    Math.exp(logN - logFactorial(k) - logFactorial(n - k) + k * Math.log(p) + (n - k) * Math.log(1 - p));
  let cumulative = 0;
  let low = 0;
  for (let k = 0; k <= n; k += 1) {
    cumulative += pmf(k);
    if (cumulative > alpha / 2) {
      low = k;
      break;
    }
  }
  cumulative = 0;
  let high = n;
  for (let k = n; k >= 0; k -= 1) {
    cumulative += pmf(k);
    if (cumulative > alpha / 2) {
      high = k;
      break;
    }
  }
  return { low, high };
}

/**
 * netem's jitter as the daemon's proxy draws it, written out again here: latency + jitter * (2u - 1), u
 * correlated as netem correlates it. Its p10-p90 range, for the spread the probe should see.
 */
function jitterSpread(jitterMs: number, correlationPercent: number): number {
  const c = correlationPercent / 100;
  let last: number | undefined;
  const draws: number[] = [];
  for (let i = 0; i < 20_000; i += 1) {
    const fresh = Math.random();
    last = last === undefined ? fresh : c * last + (1 - c) * fresh;
    draws.push(jitterMs * (2 * last - 1));
  }
  return quantile(draws, 0.9) - quantile(draws, 0.1);
}

/** The daemon's journal entry of a work object (the proxy's pid is there). */
async function journalEntry(work: string): Promise<{ proxy?: { pid: number } } | undefined> {
  const file = join(stateDir, "daemon", "kwok-node-0", `${work}.json`);
  const text = await readFile(file, "utf8").catch(() => undefined);
  return text === undefined ? undefined : (JSON.parse(text) as { proxy?: { pid: number } });
}

/** The median latency of the probe `web` in a phase of a run's report (NaN without one). */
function webP50(report: RunReport, phase: "baseline" | "chaos" | "recovery"): number {
  return report.phases[phase].probes.find((probe) => probe.probe === "web")?.latency?.p50Ms ?? Number.NaN;
}

/** The names of the ledger records still open (pending or active). */
async function openRecords(): Promise<string[]> {
  const listed = await kubectl(
    ...[kubeconfig, "-n", "broadside-system", "get", "configmaps", "-o", "name"],
    ...["-l", "broadside.dev/ledger=record,broadside.dev/state in (pending,active)"],
  );
  expect(listed.code, listed.stderr).toBe(0);
  return listed.stdout
    .split("\n")
    .filter((line) => line !== "")
    .sort();
}

describe.runIf(canRun)("network faults through the node daemon, in a sandbox with pod bodies", () => {
  let body: BodyInfo | undefined;
  let port = 0;

  /** Daemons the tests start themselves; killed before the sandbox goes, even after a test that timed out. */
  const ownDaemons: ChildProcess[] = [];
  function startDaemon(node: string): ChildProcess {
    const layout = sandboxLayout(config.stateDir, name);
    const child = spawn(process.execPath, daemonArgs(layout, join(repoRoot, "bin", "broadside.js"), node), {
      stdio: "ignore",
    });
    ownDaemons.push(child);
    return child;
  }

  afterAll(async () => {
    for (const daemon of ownDaemons) daemon.kill("SIGKILL");
    await broadside("sandbox", "down", "--name", name);
  });

  function victim(): BodyInfo {
    if (body === undefined) throw new Error("no serving body");
    return body;
  }

  it("starts a sandbox with a daemon and one serving web pod", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "1", "--pod-bodies", "netns");
    expect(up.code, up.stderr).toBe(0);
    const file = join(stateDir, "web.yaml");
    await writeFile(file, oneWebPod);
    const applied = await kubectl(kubeconfig, "apply", "-f", file);
    expect(applied.code, applied.stderr).toBe(0);
    body = await eventually(
      "a serving body",
      async () => (await bodies(stateDir)).find((b) => b.port !== undefined && b.pid !== undefined),
      90_000,
    );
    port = await frontDoorPort();
  });

  it("refuses a bad rate, naming the flag, and writes nothing", async () => {
    const refused = await broadside(
      ...["bandwidth", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web"],
      ...["--rate", "fast", "--duration", "10s"],
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--rate: must be a tc rate");
    const listed = await kubectl(kubeconfig, "-n", "broadside-system", "get", "configmaps", "-o", "name");
    expect(listed.stdout).not.toContain("nodework-");
  });

  it("bandwidth 1mbit: a transfer through the front door gets 1 Mbit/s ± 15%, and full speed after the revert", async () => {
    const netns = victim().netns;
    const baseline = await transfer(port, 4 << 20);
    expect(baseline.bytes).toBe(4 << 20);
    const limited = startBroadside(
      ...["bandwidth", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web"],
      ...["--rate", "1mbit", "--duration", "25s", "-o", "json", "--unsafe"],
    );
    await eventually("Broadside's tbf on the pod's eth0", async () => {
      const root = await rootQdisc(netns);
      return root.kind === "tbf" && root.handle === "b5d:" ? true : undefined;
    });
    // 1.5 MB at 1 Mbit/s: about 12.5 s, well inside the fault's 25 s.
    const during = await transfer(port, 1_500_000);
    expect(during.bytes).toBe(1_500_000);
    const result = await limited.done;
    expect(result.code, result.stderr).toBe(0);
    const run = (JSON.parse(result.stdout) as NetworkJson).runs[0];
    expect(run?.final.phase).toBe("Reverted");
    expect(run?.final.message).toContain("its duration ended");
    expect((await rootQdisc(netns)).handle).not.toBe("b5d:");
    const after = await transfer(port, 4 << 20);
    reportBandwidth(baseline, during, after, run?.window ?? null);
    expect(during.steadyBitsPerSecond).toBeGreaterThanOrEqual(0.85e6);
    expect(during.steadyBitsPerSecond).toBeLessThanOrEqual(1.15e6);
    // Full speed again: far above the limit (the baseline here is hundreds of Mbit/s).
    expect(after.steadyBitsPerSecond).toBeGreaterThan(10e6);
    const record = await kubectl(
      kubeconfig,
      ...["-n", "broadside-system", "get", "configmap", ledgerObjectName(run?.ledgerId ?? "")],
      ...["-o", "jsonpath={.metadata.labels.broadside\\.dev/state}"],
    );
    expect(record.stdout).toBe("closed");
  });

  it("partition: requests through the front door fail while it holds and succeed after", async () => {
    const netns = victim().netns;
    expect(await request(port)).toBe("200");
    const cut = startBroadside(
      ...["partition", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web"],
      ...["--duration", "12s", "-o", "json", "--unsafe"],
    );
    await eventually("Broadside's table in the pod's namespace", async () =>
      (await broadsideTables(netns)).length === 1 ? true : undefined,
    );
    const whileCut = await request(port);
    expect(whileCut).not.toBe("200");
    const result = await cut.done;
    expect(result.code, result.stderr).toBe(0);
    expect(await broadsideTables(netns)).toEqual([]);
    expect(
      await eventually(
        "a 200 again",
        async () => ((await request(port)) === "200" ? "200" : undefined),
        20_000,
      ),
    ).toBe("200");
    process.stderr.write(`partition: a request while it held got ${whileCut}; after the revert 200\n`);
  });

  it("netem: says whether this kernel has sch_netem; `--backend kernel` without it is refused naming the flag, and nothing is left", async () => {
    const netns = victim().netns;
    const netem = await kernelHasNetem();
    if (netem.has) {
      process.stderr.write("netem: this kernel has sch_netem; auto picks the kernel backend here\n");
      return;
    }
    expect(netem.words).toMatch(/qdisc kind is unknown/);
    process.stderr.write(
      `netem: this kernel has no sch_netem (tc: ${netem.words}); delay and loss are measured through the proxy backend\n`,
    );
    const refused = await broadside(
      ...["delay", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web", "--unsafe"],
      ...["--latency", "200ms", "--duration", "10s", "--backend", "kernel", "-o", "json"],
    );
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("--backend kernel: this node's kernel has no sch_netem");
    const run = (JSON.parse(refused.stdout) as NetworkJson).runs[0];
    expect(run?.final.phase).toBe("Refused");
    const record = await kubectl(
      kubeconfig,
      ...["-n", "broadside-system", "get", "configmap", ledgerObjectName(run?.ledgerId ?? "")],
      ...["-o", "jsonpath={.metadata.labels.broadside\\.dev/state}"],
    );
    expect(record.stdout).toBe("closed");
    expect(await broadsideTables(netns)).toEqual([]);
    expect((await rootQdisc(netns)).handle).not.toBe("b5d:");
  });

  /**
   * Holds a delay (the proxy backend: --backend auto where the kernel has no netem, else proxy) while
   * probing at 20 Hz for `ms`; stops it with Ctrl-C and checks the revert: table gone, proxy exited.
   */
  async function probeUnderDelay(
    flags: readonly string[],
    ms: number,
  ): Promise<{ samples: Sample[]; stderr: string }> {
    const netns = victim().netns;
    const backend = (await kernelHasNetem()).has ? "proxy" : "auto";
    const delayed = startBroadside(
      ...["delay", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web", "--unsafe"],
      ...[...flags, "--backend", backend, "--duration", "2m", "-o", "json"],
    );
    await eventually("Broadside's redirect in the pod's namespace", async () =>
      (await broadsideTables(netns)).length === 1 ? true : undefined,
    );
    const samples = await probe(port, 20, ms);
    delayed.child.kill("SIGINT");
    const result = await delayed.done;
    expect(result.code, result.stderr).toBe(0);
    const run = (JSON.parse(result.stdout) as NetworkJson).runs[0];
    expect(run?.final).toMatchObject({
      phase: "Reverted",
      message: expect.stringContaining("stopped early") as string,
    });
    expect(await broadsideTables(netns)).toEqual([]);
    const proxyPid = (await journalEntry(run?.work ?? ""))?.proxy?.pid ?? 0;
    expect(proxyPid).toBeGreaterThan(1);
    expect(await running(proxyPid)).toBe(false);
    expect(samples.filter((s) => s.status !== "200")).toEqual([]);
    return { samples, stderr: result.stderr };
  }

  it("delay 200ms jitter 50ms correlation 25% (auto: the proxy here): a 20 Hz probe's median shifts by 200 ± 10 ms over the proxy's own cost, with the jitter's spread, and returns after", async () => {
    const median = (samples: readonly Sample[]) =>
      quantile(
        samples.map((s) => s.ms),
        0.5,
      );
    const spread = (samples: readonly Sample[]) =>
      quantile(
        samples.map((s) => s.ms),
        0.9,
      ) -
      quantile(
        samples.map((s) => s.ms),
        0.1,
      );
    const baseline = await probe(port, 20, 8_000);
    expect(baseline.filter((s) => s.status !== "200")).toEqual([]);
    // The proxy's own cost (one more hop, two more wake-ups of a process): the same path at 1 ms.
    const relayed = await probeUnderDelay(["--latency", "1ms"], 8_000);
    const delayed = await probeUnderDelay(
      ["--latency", "200ms", "--jitter", "50ms", "--correlation", "25"],
      12_000,
    );
    expect(delayed.stderr).toMatch(
      /proxy backend \((auto: this node's kernel has no sch_netem|--backend proxy)/,
    );
    const after = await probe(port, 20, 8_000);
    const during = delayed.samples;
    const relayCost = median(relayed.samples) - 1 - median(baseline);
    const shift = median(during) - median(relayed.samples) + 1;
    const expectedSpread = jitterSpread(50, 25);
    process.stderr.write(
      `delay 200ms ±50ms (25%) via the proxy:\n  baseline ${describeSamples(baseline)}\n  proxy at 1ms ${describeSamples(relayed.samples)}\n` +
        `  during   ${describeSamples(during)}\n  after    ${describeSamples(after)}\n` +
        `  median shift ${shift.toFixed(1)} ms over the proxy's own cost (${relayCost.toFixed(1)} ms), ${(median(during) - median(baseline)).toFixed(1)} ms in all; ` +
        `p10-p90 spread ${spread(during).toFixed(1)} ms (baseline ${spread(baseline).toFixed(1)}, jitter alone ${expectedSpread.toFixed(1)})\n`,
    );
    expect(shift).toBeGreaterThanOrEqual(190);
    expect(shift).toBeLessThanOrEqual(210);
    // Timers fire late, never early: no answer came sooner than latency - jitter.
    expect(Math.min(...during.map((s) => s.ms))).toBeGreaterThanOrEqual(150);
    // The jitter's spread is there: at least 60% of what the jitter alone gives (the path's own spread
    // only widens it), and not more than the two together with room for the load's.
    expect(spread(during)).toBeGreaterThanOrEqual(0.6 * expectedSpread);
    expect(spread(during)).toBeLessThanOrEqual(expectedSpread + spread(relayed.samples) + 40);
    // Back to the baseline: far below the fault's 200 ms.
    expect(median(after) - median(baseline)).toBeLessThan(50);
  });

  it("loss 25% (auto: the proxy here, dropping connections): over 2,000 requests the share lost lies within binomial 99.9% bounds", async () => {
    const netns = victim().netns;
    const netem = await kernelHasNetem();
    const before = await Promise.all(Array.from({ length: 50 }, () => request(port)));
    expect(before.filter((status) => status !== "200")).toEqual([]);
    const lossy = startBroadside(
      ...["loss", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web", "--unsafe"],
      ...["--percent", "25", "--backend", netem.has ? "proxy" : "auto", "--duration", "5m", "-o", "json"],
    );
    await eventually("Broadside's redirect in the pod's namespace", async () =>
      (await broadsideTables(netns)).length === 1 ? true : undefined,
    );
    const statuses: string[] = [];
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (statuses.length < 2_000) {
          statuses.push("");
          const at = statuses.length - 1;
          statuses[at] = await request(port);
        }
      }),
    );
    const tookMs = performance.now() - started;
    lossy.child.kill("SIGINT");
    const result = await lossy.done;
    expect(result.code, result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as NetworkJson).runs[0]?.final.phase).toBe("Reverted");
    expect(await broadsideTables(netns)).toEqual([]);
    const lost = statuses.filter((status) => status !== "200");
    const bounds = binomialBounds(2_000, 0.25, 0.001);
    process.stderr.write(
      `loss 25% via the proxy: ${lost.length} of ${statuses.length} requests lost (${((lost.length / statuses.length) * 100).toFixed(2)}%; ` +
        `binomial 99.9% bounds ${bounds.low}-${bounds.high}) in ${(tookMs / 1000).toFixed(1)} s; answers of the lost: ${[...new Set(lost)].join(", ")}\n`,
    );
    expect(statuses).toHaveLength(2_000);
    // A dropped connection is reset by the proxy; the front door answers 502 for a reset upstream.
    expect(new Set(lost)).toEqual(new Set(["502"]));
    expect(lost.length).toBeGreaterThanOrEqual(bounds.low);
    expect(lost.length).toBeLessThanOrEqual(bounds.high);
    const after = await Promise.all(Array.from({ length: 50 }, () => request(port)));
    expect(after.filter((status) => status !== "200")).toEqual([]);
  });

  it("broadside run of a Chaos Mesh NetworkChaos delay (no target) goes the same way: the probe's chaos phase is slower by the delay, the fault reverted", async () => {
    const netns = victim().netns;
    const file = join(stateDir, "networkchaos-delay.yaml");
    await writeFile(
      file,
      [
        "apiVersion: chaos-mesh.org/v1alpha1",
        "kind: NetworkChaos",
        "metadata: { name: web-delay, namespace: shop }",
        "spec:",
        "  action: delay",
        "  mode: one",
        "  selector: { labelSelectors: { app: web } }",
        '  delay: { latency: 300ms, jitter: 0ms, correlation: "0" }',
        "  duration: 12s",
        "",
      ].join("\n"),
    );
    const run = await broadside(
      ...["run", file, "--sandbox", name, "--unsafe", "--window", "4s"],
      // A request in flight when the redirect goes in may fail; one such breach of the default
      // availability tolerance would abort the method before the delay is measured (seen once).
      ...["--probe", "name=web,url=front-door://web.shop/,frequency=5,tolerance=availability >= 50%"],
      ...["--report-dir", join(stateDir, "reports")],
    );
    const path = /reports: (\S+\.json)/.exec(run.stderr)?.[1];
    if (path === undefined) throw new Error(`no report written:\n${run.stdout}\n${run.stderr}`);
    const report = parseRunReport(await readFile(path, "utf8"), path);
    const exit = { passed: 0, failed: 5, aborted: 6 }[report.verdict.result];
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(exit);
    const before = webP50(report, "baseline");
    const during = webP50(report, "chaos");
    const after = webP50(report, "recovery");
    process.stderr.write(
      `run NetworkChaos delay 300ms: verdict ${report.verdict.result} (exit ${String(run.code)}); probe p50 baseline ${before.toFixed(1)} ms, chaos ${during.toFixed(1)} ms, recovery ${after.toFixed(1)} ms; ${JSON.stringify(report.verdict)}\n`,
    );
    // The chaos phase holds the whole fault; timers fire late, never early.
    expect(during - before, run.stderr).toBeGreaterThanOrEqual(290);
    expect(after - before).toBeLessThan(100);
    expect(await broadsideTables(netns)).toEqual([]);
    expect(run.stderr).toMatch(
      /proxy backend \(auto: this node's kernel has no sch_netem|kernel backend \(auto/,
    );
  });

  it("halt reverts a held fault within 10 s (the daemon watches the kill switch)", async () => {
    const netns = victim().netns;
    const held = startBroadside(
      ...["bandwidth", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web"],
      ...["--rate", "1mbit", "--duration", "5m", "-o", "json", "--unsafe"],
    );
    await eventually("the tbf", async () => ((await rootQdisc(netns)).handle === "b5d:" ? true : undefined));
    const haltedAt = Date.now();
    const halt = await broadside("halt", "--kubeconfig", kubeconfig, "--hold", "--reason", "network test");
    try {
      await eventually(
        "the tbf gone",
        async () => ((await rootQdisc(netns)).handle !== "b5d:" ? true : undefined),
        10_000,
      );
      const tookMs = Date.now() - haltedAt;
      process.stderr.write(
        `halt: the tbf was gone ${tookMs} ms after \`broadside halt --hold\` started (exit ${String(halt.code)})\n`,
      );
      expect(tookMs).toBeLessThanOrEqual(10_000);
      const result = await held.done;
      expect(JSON.parse(result.stdout) as NetworkJson).toMatchObject({
        runs: [{ final: { phase: "Reverted" } }],
      });
      // Held, the switch refuses new faults before anything is written.
      const refused = await broadside(
        ...[
          "bandwidth",
          "--kubeconfig",
          kubeconfig,
          "-n",
          "shop",
          "-l",
          "app=web",
          "--rate",
          "1mbit",
          "--duration",
          "10s",
          "--unsafe",
        ],
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toContain("BRD_HALTED");
    } finally {
      await broadside("resume", "--kubeconfig", kubeconfig);
      held.child.kill("SIGINT");
    }
  });

  it("a daemon SIGKILLed while it holds a fault reverts it when it starts again past the fault's end", async () => {
    const netns = victim().netns;
    const node = "kwok-node-0";
    const daemons = JSON.parse(await readFile(join(stateDir, "daemons.json"), "utf8")) as {
      node: string;
      pid: number;
    }[];
    const own = daemons.find((d) => d.node === node);
    if (own === undefined) throw new Error(`no daemon for ${node}`);
    const held = startBroadside(
      ...["bandwidth", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web"],
      ...["--rate", "1mbit", "--duration", "6s", "-o", "json", "--unsafe"],
    );
    await eventually("the tbf", async () => ((await rootQdisc(netns)).handle === "b5d:" ? true : undefined));
    process.kill(own.pid, "SIGKILL");
    await eventually("the daemon gone", async () => ((await running(own.pid)) ? undefined : true));
    // The fault outlives its daemon (the leftover Litmus users know), past its end.
    await new Promise((resolve) => setTimeout(resolve, 8_000));
    expect((await rootQdisc(netns)).handle).toBe("b5d:");
    const restartedAt = Date.now();
    const restarted = startDaemon(node);
    try {
      await eventually(
        "the leftover gone",
        async () => ((await rootQdisc(netns)).handle !== "b5d:" ? true : undefined),
        10_000,
      );
      process.stderr.write(
        `daemon crash: the leftover tbf was gone ${Date.now() - restartedAt} ms after the daemon started again\n`,
      );
      const result = await held.done;
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout) as NetworkJson).toMatchObject({
        runs: [
          {
            final: {
              phase: "Reverted",
              message: expect.stringContaining("its end passed while the daemon was down") as string,
            },
          },
        ],
      });
      expect(await request(port)).toBe("200");
    } finally {
      restarted.kill("SIGTERM");
    }
  });
  it("a proxy fault outlives its SIGKILLed daemon only until its end: the proxy exits, the redirect lapses, and the restarted daemon removes the table", async () => {
    const netns = victim().netns;
    const node = "kwok-node-0";
    // The test before stopped the node's daemon; this one starts its own.
    const first = startDaemon(node);
    const held = startBroadside(
      ...["delay", "--kubeconfig", kubeconfig, "-n", "shop", "-l", "app=web", "--unsafe"],
      ...["--latency", "100ms", "--backend", "proxy", "--duration", "6s", "-o", "json"],
    );
    const entry = await eventually("the proxy journaled", async () => {
      if ((await broadsideTables(netns)).length !== 1) return undefined;
      const names = await readdir(join(stateDir, "daemon", node));
      for (const file of names.filter((each) => each.endsWith(".json"))) {
        const journaled = JSON.parse(await readFile(join(stateDir, "daemon", node, file), "utf8")) as {
          phase: string;
          endsAt?: number;
          proxy?: { pid: number };
          spec: { kind: string };
        };
        if (journaled.spec.kind === "delay" && journaled.phase === "applied" && journaled.proxy !== undefined)
          return { pid: journaled.proxy.pid, endsAt: journaled.endsAt ?? 0 };
      }
      return undefined;
    });
    first.kill("SIGKILL");
    await eventually("the daemon gone", async () => ((await running(first.pid ?? 0)) ? undefined : true));
    expect(await running(entry.pid)).toBe(true);
    // Past the end plus the proxy's 10 s of grace: nobody reverted it, yet it ended itself.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, entry.endsAt + 11_000 - Date.now())));
    expect(await running(entry.pid)).toBe(false);
    expect(await broadsideTables(netns)).toHaveLength(1);
    // The table is still there, but its rule no longer matches (meta time): requests reach the pod.
    expect(await request(port)).toBe("200");
    const restartedAt = Date.now();
    const restarted = startDaemon(node);
    try {
      await eventually(
        "the table gone",
        async () => ((await broadsideTables(netns)).length === 0 ? true : undefined),
        10_000,
      );
      process.stderr.write(
        `proxy after a daemon crash: the proxy had exited by itself, requests answered 200 with the inert table; the table was gone ${Date.now() - restartedAt} ms after the daemon started again\n`,
      );
      const result = await held.done;
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout) as NetworkJson).toMatchObject({
        runs: [
          {
            final: {
              phase: "Reverted",
              message: expect.stringContaining("its end passed while the daemon was down") as string,
            },
          },
        ],
      });
    } finally {
      restarted.kill("SIGTERM");
    }
  });

  it("the agent (--node-daemons) runs a NetworkChaos resource as `broadside run` runs the manifest: one of two pods delayed while it holds, its status passed, nothing left", async () => {
    // The first daemon was SIGKILLed above and its stand-ins stopped: this test starts the node's own.
    const node = "kwok-node-0";
    const daemon = startDaemon(node);
    try {
      // Two pods: the agent keeps the blast-radius cap (no --unsafe), so mode one of two may be hit.
      const scaled = await kubectl(kubeconfig, "-n", "shop", "scale", "deployment", "web", "--replicas", "2");
      expect(scaled.code, scaled.stderr).toBe(0);
      const serving = await eventually(
        "two serving bodies",
        async () => {
          const found = (await bodies(stateDir)).filter((b) => b.port !== undefined && b.pid !== undefined);
          return found.length === 2 ? found : undefined;
        },
        90_000,
      );
      await installCrds(join(repoRoot, "deploy", "crds"), "networkchaos.broadside.dev", kubeconfig);
      const annotated = await kubectl(
        ...[kubeconfig, "annotate", "--overwrite", "namespace", "shop", "broadside.dev/chaos=enabled"],
      );
      expect(annotated.code, annotated.stderr).toBe(0);
      const agent = startAgentOn(kubeconfig, "--node-daemons");
      await logged(agent, "agent serving");
      const before = await probe(port, 10, 3_000);
      const openBefore = await openRecords();

      const file = join(stateDir, "networkchaos-resource.yaml");
      await writeFile(
        file,
        [
          "apiVersion: broadside.dev/v1alpha1",
          "kind: NetworkChaos",
          "metadata: { name: web-delay, namespace: shop }",
          "spec:",
          "  action: delay",
          "  mode: one",
          "  selector: { labelSelectors: { app: web } }",
          '  delay: { latency: 300ms, jitter: 0ms, correlation: "0" }',
          "  direction: to",
          "  duration: 12s",
          "",
        ].join("\n"),
      );
      const applied = await kubectl(kubeconfig, "apply", "-f", file);
      expect(applied.code, applied.stderr).toBe(0);
      const hit = await eventually(
        "the delay's table in one pod's namespace",
        async () => {
          const tables = await Promise.all(serving.map(async (b) => (await broadsideTables(b.netns)).length));
          return tables.filter((count) => count > 0).length === 1 ? tables : undefined;
        },
        30_000,
      );
      const during = await probe(port, 10, 5_000);
      const status = await eventually(
        "the NetworkChaos's run to end",
        async () => {
          const read = await kubectl(
            kubeconfig,
            "-n",
            "shop",
            "get",
            "networkchaos.broadside.dev",
            "web-delay",
            "-o",
            "json",
          );
          const json = JSON.parse(read.stdout === "" ? "{}" : read.stdout) as {
            status?: {
              verdict?: string | null;
              conditions?: { type: string; status: string }[];
              targets?: unknown[];
            };
          };
          return json.status?.verdict === undefined || json.status.verdict === null ? undefined : json.status;
        },
        60_000,
      );
      const after = await probe(port, 10, 3_000);
      const slow = (samples: readonly Sample[]) =>
        samples.filter((sample) => sample.ms >= 290).length / Math.max(1, samples.length);
      process.stderr.write(
        `agent NetworkChaos delay 300ms on one of two pods: share of requests >= 290 ms before ${slow(before).toFixed(2)}, during ${slow(during).toFixed(2)}, after ${slow(after).toFixed(2)}; verdict ${String(status.verdict)}\n`,
      );
      expect(hit.filter((count) => count > 0)).toHaveLength(1);
      expect(status.verdict).toBe("passed");
      expect(status.conditions?.find((condition) => condition.type === "Injected")?.status).toBe("True");
      expect(status.targets).toHaveLength(1);
      // The front door spreads requests over both pods: about half reach the delayed one.
      expect(slow(before)).toBe(0);
      expect(slow(during)).toBeGreaterThan(0.2);
      expect(slow(during)).toBeLessThan(0.8);
      expect(slow(after)).toBe(0);
      for (const b of serving) expect(await broadsideTables(b.netns)).toEqual([]);
      // Its ledger record closed: no more open records than before it.
      expect(await openRecords()).toEqual(openBefore);
    } finally {
      daemon.kill("SIGTERM");
    }
  });
});
