import { spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemHost } from "../../src/sandbox/bodies/host.js";
import { decideBodies, probeBodies } from "../../src/sandbox/bodies/mode.js";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { ledgerObjectName } from "../../src/kube/ledger-store.js";
import { daemonArgs } from "../../src/sandbox/daemons.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { sandboxLayout } from "../../src/sandbox/state-dir.js";
import { broadside, config, eventually, kubectl, repoRoot, runProgram } from "./harness.js";
import { integrationSandboxName } from "./names.js";
import {
  bodies,
  broadsideTables,
  kernelHasNetem,
  quantile,
  running,
  startBroadside,
} from "./network-helpers.js";
// @ts-expect-error: a plain .mjs set-up script, as test/browser/setup-chromium.mjs
import { ensureNetworkTools } from "./setup-network-tools.mjs";

/**
 * Filtered network faults end to end (issue 12, ADR 0041): the seed's examples/chaos-mesh-networkchaos.yaml
 * (a delay of 100ms ± 10ms, correlation 25, from app=checkout in demo-payments `direction: to` the target
 * app=storefront in demo-shop) run by `broadside run` in a sandbox of its own with pod bodies. Requests
 * from checkout's network namespace to storefront's pod IP are delayed while requests from it to another
 * pod (catalog) are not; both return to their baseline after the revert. The only addresses dialed are
 * the pods' own, in namespaces the sandbox made, from inside one of them.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 25)}-nf`, "sandbox name");
const stateDir = join(config.stateDir, name);
const kubeconfig = join(stateDir, "kubeconfig");
const decision = decideBodies("auto", await probeBodies(systemHost, process.geteuid?.()));
const tools = (ensureNetworkTools as (options: object) => { ok: boolean; message?: string })({
  logDir: join(repoRoot, ".test-results"),
});
const canRun = decision.mode === "netns" && tools.ok;
if (!canRun)
  process.stderr.write(
    `network-filter.test: not run here: ${decision.mode !== "netns" ? decision.reason : (tools.message ?? "")}\n`,
  );

function deployment(namespace: string, app: string): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${app}, namespace: ${namespace} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${app} } }
  template:
    metadata: { labels: { app: ${app}, broadside.dev/serve: http } }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: app
          image: registry.invalid/${app}:1
          ports: [{ containerPort: 8080 }]
          resources: { limits: { memory: 96Mi, cpu: 500m } }
---
apiVersion: v1
kind: Service
metadata: { name: ${app}, namespace: ${namespace}, labels: { broadside.dev/serve: http } }
spec:
  selector: { app: ${app} }
  ports: [{ port: 80, targetPort: 8080 }]
`;
}

/** The seed example's fleet: checkout in demo-payments; storefront (the target) and catalog in demo-shop. */
const fleet = [
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: demo-payments }\n",
  "apiVersion: v1\nkind: Namespace\nmetadata: { name: demo-shop }\n",
  deployment("demo-payments", "checkout"),
  deployment("demo-shop", "storefront"),
  deployment("demo-shop", "catalog"),
].join("---\n");

/**
 * A probe run inside a pod's network namespace (`ip netns exec`): GETs to each URL at `hz` for `ms`, each
 * on a new connection; prints every latency (ms) per URL as JSON.
 */
const probeScript = `
import { get } from "node:http";
const [urls, hz, ms] = [JSON.parse(process.argv[2]), Number(process.argv[3]), Number(process.argv[4])];
const one = (url) => new Promise((resolve) => {
  const at = performance.now();
  const sent = get(url, { agent: false, timeout: 5000 }, (response) => {
    response.resume();
    response.on("end", () => resolve({ ms: performance.now() - at, status: String(response.statusCode) }));
  });
  sent.on("timeout", () => sent.destroy(new Error("timeout")));
  sent.on("error", (error) => resolve({ ms: performance.now() - at, status: error.code ?? error.message }));
});
const results = Object.fromEntries(urls.map((url) => [url, []]));
const started = performance.now();
while (performance.now() - started < ms) {
  const at = performance.now();
  for (const url of urls) results[url].push(one(url));
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, at + 1000 / hz - performance.now())));
}
for (const url of urls) results[url] = await Promise.all(results[url]);
process.stdout.write(JSON.stringify(results));
`;

interface Sample {
  readonly ms: number;
  readonly status: string;
}

function describeSamples(samples: readonly Sample[]): string {
  const ms = samples.map((s) => s.ms);
  return `n ${ms.length}, median ${quantile(ms, 0.5).toFixed(1)} ms, p10 ${quantile(ms, 0.1).toFixed(1)}, p90 ${quantile(ms, 0.9).toFixed(1)}, min ${Math.min(...ms).toFixed(1)}`;
}

const median = (samples: readonly Sample[]): number =>
  quantile(
    samples.map((s) => s.ms),
    0.5,
  );

describe.runIf(canRun)("filtered network faults: the seed's NetworkChaos delay towards a target", () => {
  const pods = new Map<string, BodyInfo>();
  let script = "";

  afterAll(async () => {
    await broadside("sandbox", "down", "--name", name);
  });

  function body(app: string): BodyInfo {
    const found = pods.get(app);
    if (found === undefined) throw new Error(`no body for ${app}`);
    return found;
  }

  /** Probes storefront (the target) and catalog (not a target) from inside checkout's namespace. */
  async function fromCheckout(ms: number): Promise<{ target: Sample[]; other: Sample[] }> {
    const target = `http://${body("storefront").ip}:8080/`;
    const other = `http://${body("catalog").ip}:8080/`;
    const ran = await runProgram("ip", [
      ...["netns", "exec", body("checkout").netns, process.execPath, script],
      ...[JSON.stringify([target, other]), "5", String(ms)],
    ]);
    if (ran.code !== 0) throw new Error(`the probe in checkout's namespace failed: ${ran.stderr}`);
    const results = JSON.parse(ran.stdout) as Record<string, Sample[]>;
    return { target: results[target] ?? [], other: results[other] ?? [] };
  }

  it("starts a sandbox with pod bodies and the example's fleet: checkout, storefront, catalog", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "1", "--pod-bodies", "netns");
    expect(up.code, up.stderr).toBe(0);
    const file = join(stateDir, "fleet.yaml");
    await writeFile(file, fleet);
    const applied = await kubectl(kubeconfig, "apply", "-f", file);
    expect(applied.code, applied.stderr).toBe(0);
    await eventually(
      "three serving bodies",
      async () => {
        const serving = (await bodies(stateDir)).filter((b) => b.port !== undefined && b.pid !== undefined);
        for (const each of serving) pods.set(each.pod.replace(/-[a-z0-9]+-[a-z0-9]+$/, ""), each);
        return pods.size === 3 ? true : undefined;
      },
      120_000,
    );
    expect(body("storefront").port).toBe(8080);
    script = join(stateDir, "probe-in-pod.mjs");
    await writeFile(script, probeScript);
  });

  it("the example itself passes --dry-run, its plan filtered to storefront's pod IP", async () => {
    const dry = await broadside(
      ...["run", join(repoRoot, "examples", "chaos-mesh-networkchaos.yaml"), "--sandbox", name, "--dry-run"],
      ...["--probe", "name=storefront,url=front-door://storefront.demo-shop/,frequency=5"],
    );
    expect(dry.code, `${dry.stdout}\n${dry.stderr}`).toBe(0);
  });

  it("broadside run: checkout's requests to storefront are delayed by 100ms ± 10ms, its requests to catalog are not, and both return after the revert", async () => {
    const checkoutNetns = body("checkout").netns;
    const before = await fromCheckout(8_000);
    expect([...before.target, ...before.other].filter((s) => s.status !== "200")).toEqual([]);
    const example = await readFile(join(repoRoot, "examples", "chaos-mesh-networkchaos.yaml"), "utf8");
    expect(example).toContain("duration: 2m");
    // The seed's example as it is, but 30 s instead of 2 minutes.
    const file = join(stateDir, "networkchaos-delay-target.yaml");
    await writeFile(file, example.replace("duration: 2m", "duration: 30s"));
    const run = startBroadside(
      ...["run", file, "--sandbox", name, "--unsafe", "--window", "4s"],
      ...[
        "--probe",
        "name=storefront,url=front-door://storefront.demo-shop/,frequency=5,tolerance=availability>=90%",
      ],
      ...["--report-dir", join(stateDir, "reports")],
    );
    await eventually(
      "Broadside's table in checkout's namespace",
      async () => ((await broadsideTables(checkoutNetns)).length === 1 ? true : undefined),
      60_000,
    );
    const during = await fromCheckout(10_000);
    const done = await run.done;
    expect(await broadsideTables(checkoutNetns)).toEqual([]);
    const after = await fromCheckout(8_000);
    const ledgerId = /ledger (\d{8}t\d{6}-[0-9a-f]{6})/.exec(done.stderr)?.[1];
    const netem = await kernelHasNetem();
    process.stderr.write(
      `filtered delay 100ms ±10ms (25%) from checkout to storefront (${netem.has ? "this kernel has sch_netem" : "no sch_netem here: the proxy backend"}); run exit ${String(done.code)}\n` +
        `  to storefront (target): before ${describeSamples(before.target)}\n                          during ${describeSamples(during.target)}\n                          after  ${describeSamples(after.target)}\n` +
        `  to catalog (not):       before ${describeSamples(before.other)}\n                          during ${describeSamples(during.other)}\n                          after  ${describeSamples(after.other)}\n` +
        `  median shift: storefront ${(median(during.target) - median(before.target)).toFixed(1)} ms, catalog ${(median(during.other) - median(before.other)).toFixed(1)} ms\n`,
    );
    expect(done.stderr).toMatch(/applied on node .*only with /);
    expect(done.stderr).toMatch(
      /proxy backend \(auto: this node's kernel has no sch_netem|kernel backend \(auto/,
    );
    expect([0, 5]).toContain(done.code);
    expect(
      [...during.target, ...during.other, ...after.target, ...after.other].filter((s) => s.status !== "200"),
    ).toEqual([]);
    // Timers fire late, never early: every request to the target took at least latency - jitter.
    expect(Math.min(...during.target.map((s) => s.ms))).toBeGreaterThanOrEqual(89);
    const shift = median(during.target) - median(before.target);
    expect(shift).toBeGreaterThanOrEqual(90);
    // The delay and the proxy's own cost (a few ms; more under load), not more.
    expect(shift).toBeLessThanOrEqual(160);
    // Not a target: far below the delay.
    expect(median(during.other) - median(before.other)).toBeLessThan(40);
    // Back to the baseline.
    expect(median(after.target) - median(before.target)).toBeLessThan(40);
    if (ledgerId !== undefined) {
      const record = await kubectl(
        kubeconfig,
        ...["-n", "broadside-system", "get", "configmap", ledgerObjectName(ledgerId)],
        ...["-o", "jsonpath={.metadata.labels.broadside\\.dev/state}"],
      );
      expect(record.stdout).toBe("closed");
    }
    // Every proxy the daemon journaled has exited.
    const journal = join(stateDir, "daemon", "kwok-node-0");
    for (const entry of (await readdir(journal)).filter((f) => /^nodework-.*\.json$/.test(f))) {
      const journaled = JSON.parse(await readFile(join(journal, entry), "utf8")) as {
        proxy?: { pid: number };
      };
      if (journaled.proxy !== undefined) expect(await running(journaled.proxy.pid)).toBe(false);
    }
  });

  it("duplicate and corrupt need sch_netem: on a kernel without it, `broadside run` refuses them before any write, naming the action and why", async () => {
    const netem = await kernelHasNetem();
    if (netem.has) {
      process.stderr.write(
        "netem: this kernel has sch_netem; duplicate and corrupt would run here (this test measures only their refusal where netem is missing)\n",
      );
      return;
    }
    process.stderr.write(
      `netem: this kernel has no sch_netem (tc: ${netem.words}); duplicate and corrupt cannot be measured here, only their refusal\n`,
    );
    const objects = async (): Promise<string[]> =>
      (await kubectl(kubeconfig, "-n", "broadside-system", "get", "configmaps", "-o", "name")).stdout
        .split("\n")
        .filter((line) => /^configmap\/(ledger-|nodework-)/.test(line))
        .sort();
    for (const action of ["duplicate", "corrupt"]) {
      const file = join(stateDir, `networkchaos-${action}.yaml`);
      await writeFile(
        file,
        [
          "apiVersion: chaos-mesh.org/v1alpha1",
          "kind: NetworkChaos",
          `metadata: { name: checkout-${action}, namespace: demo-payments }`,
          "spec:",
          `  action: ${action}`,
          "  mode: all",
          "  selector: { labelSelectors: { app: checkout } }",
          `  ${action}: { ${action}: "5", correlation: "25" }`,
          "  duration: 10s",
          "",
        ].join("\n"),
      );
      const before = await objects();
      const run = await broadside(
        ...["run", file, "--sandbox", name, "--unsafe", "--window", "2s"],
        ...["--probe", "name=storefront,url=front-door://storefront.demo-shop/,frequency=5"],
        ...["--report-dir", join(stateDir, "reports")],
      );
      process.stderr.write(`run NetworkChaos ${action}: exit ${String(run.code)}\n`);
      // The run's step fails before its first write, so the run stops as aborted (exit 6).
      expect(run.code).toBe(6);
      expect(`${run.stdout}\n${run.stderr}`).toContain(
        `${action}: node kwok-node-0's kernel has no sch_netem (tc: Error: Specified qdisc kind is unknown.), and the proxy backend cannot ${action} packets (a TCP proxy sees a stream, not packets); nothing was written`,
      );
      // Nothing was written: no ledger record, no work object; nothing in checkout's namespace.
      expect(await objects()).toEqual(before);
      expect(await broadsideTables(body("checkout").netns)).toEqual([]);
    }
  });

  it("a restarted daemon SIGKILLs a proxy of its own that its journal does not account for", async () => {
    const node = "kwok-node-0";
    const layout = sandboxLayout(config.stateDir, name);
    const cli = join(repoRoot, "bin", "broadside.js");
    const args = daemonArgs(layout, cli, node);
    const journalDir = args[args.indexOf("--journal") + 1] ?? "";
    // A proxy as the daemon's launcher starts one (it takes uid 2909; its script, --work, --journal), for a work
    // object no journal entry names: what a daemon killed between starting a proxy and journaling it leaves.
    const orphan = spawn(
      "nsenter",
      [
        ...[`--net=/run/netns/${body("checkout").netns}`, "--"],
        ...[process.execPath, join(repoRoot, "dist", "daemon", "proxy-main.js")],
        ...["--config", JSON.stringify({ ports: [8080], untilMs: Date.now() + 120_000 })],
        ...["--work", "nodework-20261207t000000-0b5d00", "--journal", journalDir],
      ],
      { detached: true, stdio: "ignore" },
    );
    const pid = orphan.pid ?? 0;
    orphan.unref();
    await eventually("the orphan running", async () => ((await running(pid)) ? true : undefined));
    const daemons = JSON.parse(await readFile(join(stateDir, "daemons.json"), "utf8")) as {
      node: string;
      pid: number;
    }[];
    const own = daemons.find((d) => d.node === node);
    if (own === undefined) throw new Error(`no daemon for ${node}`);
    process.kill(own.pid, "SIGKILL");
    await eventually("the daemon gone", async () => ((await running(own.pid)) ? undefined : true));
    expect(await running(pid)).toBe(true);
    const startedAt = Date.now();
    const restarted = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    restarted.stderr.on("data", (chunk: Buffer) => (log += chunk.toString()));
    try {
      await eventually("the orphan killed", async () => ((await running(pid)) ? undefined : true), 10_000);
      // Killed by the daemon's scan, not gone by itself: the daemon says so, naming it and why.
      await eventually("the daemon's log line", () =>
        Promise.resolve(
          log.includes('"msg":"orphan proxy killed"') && log.includes(`"pid":${String(pid)}`)
            ? true
            : undefined,
        ),
      );
      expect(log).toContain('"reason":"its journal entry is missing"');
      process.stderr.write(
        `orphan proxy: killed ${String(Date.now() - startedAt)} ms after the daemon started again\n`,
      );
    } finally {
      restarted.kill("SIGTERM");
      if (await running(pid)) process.kill(pid, "SIGKILL");
    }
  });
});
