import { spawn, type ChildProcess } from "node:child_process";
import { readdir, readFile, rename, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { Duration } from "../../src/core/duration.js";
import type { PrometheusProbe } from "../../src/experiments/files/model.js";
import { startPrometheusProbe } from "../../src/experiments/probes/prometheus-probe.js";
import { connect, type KubeClients } from "../../src/kube/client.js";
import { ensureFlux } from "../../src/sandbox/flux-build.js";
import { ensurePrometheus } from "../../src/sandbox/prometheus-build.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { broadside, config, eventually, kubectl, repoRoot, testDeployment } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * A real Prometheus in the sandbox (issue 13): `sandbox up --with flux,prometheus` builds it (once, cached)
 * and runs it on a free port of 127.0.0.1 beside a real Flux, scraping the control plane over TLS and
 * Flux's controllers. Then a run like the demo's, with the agent listed in the targets directory: pod
 * kills and a drift healed by another field manager; and a short duel against the Flux, scraped while it
 * runs.
 * Against that, the experiments' prometheus probe passes and fails as it should, and every panel of the
 * Grafana dashboard (deploy/grafana/) answers with data: a panel that can never show any is a bug.
 *
 * A sandbox of its own, named after the shared one, so the tier's sandbox runs no Prometheus.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 26)}-prom`, "sandbox name");
const namespace = "prom-chaos";
const healer = "kubectl-edit";
const controlPlaneJobs = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"];

/** One leg at 10 s, one round: a drift and a delete Flux heals, so the duel's panels have every series. */
const shortDuel = `apiVersion: broadside.dev/v1alpha1
kind: Duel
metadata: {name: prom}
spec:
  gitops: {controller: flux, name: fleet}
  legs: [{name: fast, interval: 10s, deadline: 25s}]
  attacks:
    - {name: drift-timeout, kind: drift, params: {namespace: demo-payments, kind: configmap, name: checkout-config, key: payment.timeout, value: 90s}}
    - {name: delete-flags, kind: delete, params: {namespace: demo-shop, kind: configmap, name: storefront-flags}}
`;

interface StatusJson {
  components: { name: string; pid: number; port: number; healthy: boolean }[];
  prometheus: { version: string; url: string; targetsDir: string; configFile: string } | null;
}

interface PromAnswer {
  status: string;
  errorType?: string;
  error?: string;
  data?: {
    resultType?: string;
    result?: { metric: Record<string, string>; value?: [number, string]; values?: [number, string][] }[];
    activeTargets?: { labels: Record<string, string>; health: string; lastError: string }[];
    version?: string;
  };
}

let prometheusUrl = "";
let prometheusPid = 0;
let targetsDir = "";
let kubeconfig = "";
let kube: KubeClients;
let agent: { child: ChildProcess; stderr: string[]; exited: Promise<number | null> } | undefined;
/** When the run with chaos began: the panels' queries cover it. */
let chaosFrom = 0;

async function prom(path: string, params: Record<string, string> = {}): Promise<PromAnswer> {
  const url = new URL(`${prometheusUrl}${path}`);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  return (await (await fetch(url)).json()) as PromAnswer;
}

/** The values of an instant query's vector, by the label named. */
async function instant(query: string, label: string): Promise<Record<string, number>> {
  const answer = await prom("/api/v1/query", { query });
  expect(answer.status, `${query}: ${answer.error ?? ""}`).toBe("success");
  return Object.fromEntries(
    (answer.data?.result ?? []).map((series) => [series.metric[label] ?? "", Number(series.value?.[1])]),
  );
}

/** A file_sd file as a user writes one: in place at once (renamed), so Prometheus never reads half. */
async function listTarget(file: string, address: string, labels: Record<string, string>): Promise<void> {
  const path = join(targetsDir, file);
  await writeFile(`${path}.tmp`, JSON.stringify([{ targets: [address], labels }]));
  await rename(`${path}.tmp`, path);
}

async function apply(document: object): Promise<void> {
  const file = join(tmpdir(), `prom-it-${process.pid}-${Math.random().toString(16).slice(2)}.json`);
  await writeFile(file, JSON.stringify(document));
  const applied = await kubectl(kubeconfig, "apply", "-f", file);
  expect(applied.code, applied.stderr).toBe(0);
}

async function conditionOf(plural: string, resource: string, type: string): Promise<string | undefined> {
  const object = (await kube.custom
    .getNamespacedCustomObjectStatus({
      group: "broadside.dev",
      version: "v1alpha1",
      plural,
      namespace,
      name: resource,
    })
    .catch(() => undefined)) as {
    status?: { conditions?: { type: string; status: string; reason?: string }[] };
  };
  const condition = object.status?.conditions?.find((c) => c.type === type);
  return condition?.status === "True" ? (condition.reason ?? "True") : undefined;
}

function agentTail(): string {
  return (agent?.stderr ?? []).join("").split("\n").slice(-15).join("\n");
}

async function until(what: string, check: () => Promise<string | undefined>): Promise<string> {
  return eventually(what, check, 120_000).catch((error: unknown) => {
    throw new Error(`${String(error)}\nagent:\n${agentTail()}`, { cause: error });
  });
}

/** `broadside agent` as a process of its own on this sandbox, leader-elected, on ephemeral loopback ports. */
async function startAgent(): Promise<string> {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "broadside.js"),
      "agent",
      "--kubeconfig",
      kubeconfig,
      "--health-probe-bind-address",
      "127.0.0.1:0",
      "--metrics-bind-address",
      "127.0.0.1:0",
      "--resync",
      "5s",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  const stderr: string[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk.toString()));
  agent = { child, stderr, exited: new Promise((resolve) => child.once("exit", resolve)) };
  const serving = await until("the agent to serve", () => {
    const line = stderr
      .join("")
      .split("\n")
      .find((text) => text.includes('"msg":"agent serving"'));
    return Promise.resolve(line);
  });
  await until("the agent to lead", () =>
    Promise.resolve(stderr.join("").includes('"msg":"leading: reconciling"') ? "yes" : undefined),
  );
  return new URL((JSON.parse(serving) as { metrics: { url: string } }).metrics.url).host;
}

function probe(query: string, comparator: PrometheusProbe["comparator"], threshold: number) {
  return startPrometheusProbe(
    {
      type: "prometheus",
      name: `${comparator} ${threshold}`,
      tolerances: [],
      url: prometheusUrl,
      query,
      comparator,
      threshold,
      frequencyHz: 1,
      timeout: Duration.parse("2s", "timeout"),
    },
    { loopbackOnly: true },
  );
}

/** Reads `sandbox status -o json`: Prometheus' component, its URL and targets directory, the kubeconfig. */
async function readSandbox(): Promise<void> {
  const status = await broadside("sandbox", "status", "--name", name, "-o", "json");
  expect(status.code, status.stderr).toBe(0);
  const state = JSON.parse(status.stdout) as StatusJson;
  const component = state.components.find((c) => c.name === "prometheus");
  if (component === undefined || state.prometheus === null)
    throw new Error(`no Prometheus: ${status.stdout}`);
  expect(component.healthy).toBe(true);
  expect(component.port).not.toBe(9090);
  prometheusPid = component.pid;
  prometheusUrl = state.prometheus.url;
  targetsDir = state.prometheus.targetsDir;
  expect(prometheusUrl).toBe(`http://127.0.0.1:${component.port}`);
  kubeconfig = (await broadside("sandbox", "kubeconfig", "--name", name)).stdout.trim();
  kube = connect({ kubeconfigPath: kubeconfig });
}

/** Each control-plane job's health and last error, once all are up. */
async function controlPlaneUp(): Promise<Record<string, string> | undefined> {
  const targets = (await prom("/api/v1/targets", { state: "active" })).data?.activeTargets ?? [];
  const byJob = Object.fromEntries(targets.map((t) => [t.labels.job ?? "", `${t.health} ${t.lastError}`]));
  if (!controlPlaneJobs.every((job) => byJob[job] === "up ")) return undefined;
  return Object.fromEntries(controlPlaneJobs.map((job) => [job, byJob[job] ?? ""]));
}

async function residentMiB(pid: number): Promise<number> {
  const rss = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, "utf8"));
  return Math.round(Number(rss?.[1]) / 1024);
}

/** "ok", or why a panel's query shows nothing: invalid, or no number at any point of the range. */
function verdictOf(answer: PromAnswer): string {
  if (answer.status !== "success") return `invalid (${answer.errorType ?? ""}: ${answer.error ?? ""})`;
  const points = (answer.data?.result ?? []).flatMap((series) => series.values ?? []);
  const numbers = points.filter(([, value]) => !Number.isNaN(Number(value)));
  return numbers.length > 0 ? "ok" : `no data (${points.length} points, all NaN)`;
}

/** A ConfigDrift on the ConfigMap app, put back by `healer` before its deadline; waits for its end. */
async function driftAndHeal(drift: string): Promise<void> {
  await apply({
    apiVersion: "broadside.dev/v1alpha1",
    kind: "ConfigDrift",
    metadata: { name: drift, namespace },
    spec: { namespace, kind: "configmap", name: "app", key: "LOG_LEVEL", value: "debug", duration: "15s" },
  });
  await until(`${drift} injected`, () => conditionOf("configdrifts", drift, "Injected"));
  const heal = await kubectl(
    kubeconfig,
    "patch",
    "configmap",
    "app",
    "-n",
    namespace,
    "--type=merge",
    `--field-manager=${healer}`,
    "-p",
    JSON.stringify({ data: { LOG_LEVEL: "info" } }),
  );
  expect(heal.code, heal.stderr).toBe(0);
  const reason = await until(`${drift} recovered`, () => conditionOf("configdrifts", drift, "Recovered"));
  expect(reason).not.toBe("Reverted");
}

beforeAll(async () => {
  const env = sandboxEnvironment(config, processIo);
  // Built on first use only (about 5 minutes cold on two idle cores), cached by version like the sandbox's
  // binaries: only a run that selects this file pays for it. See docs/sandbox.md.
  await ensurePrometheus({ ...env.build, onProgress: env.onProgress, clock: env.clock });
  // Flux too (cached; test/integration/flux.test.ts builds it as well): the sandbox runs both together.
  await ensureFlux({ ...env.build, onProgress: env.onProgress, clock: env.clock });
}, 3_600_000);

afterAll(async () => {
  if (agent !== undefined) {
    agent.child.kill("SIGTERM");
    await agent.exited;
  }
  await broadside("sandbox", "down", "--name", name);
});

describe("a real Prometheus in the sandbox", () => {
  it("starts with --with flux,prometheus beside the control plane, on a free port of 127.0.0.1, and scrapes it over TLS and Flux", async () => {
    const up = await broadside(
      "sandbox",
      "up",
      "--name",
      name,
      "--nodes",
      "1",
      "--with",
      "flux,prometheus",
      "--flux-interval",
      "1m",
    );
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout).toMatch(
      /prometheus: v0\.316\.0 \(Prometheus 3\.16\.0\), API http:\/\/127\.0\.0\.1:\d+; .*targets\/broadside-\*\.json/,
    );
    const started = /prometheus healthy on 127\.0\.0\.1:\d+ after (\d+) ms/.exec(up.stderr);
    processIo.err(`prometheus: healthy ${started?.[1] ?? "?"} ms after it was started\n`);

    await readSandbox();
    expect((await prom("/api/v1/status/buildinfo")).data?.version).toBe("3.16.0");
    // Every control-plane component is up: TLS checked against the sandbox CA for the API server and
    // etcd, the admin certificate accepted by the API server and by the two that delegate to it.
    const health = await eventually("every control-plane target to be scraped", controlPlaneUp, 60_000);
    expect(Object.keys(health).sort()).toEqual(controlPlaneJobs);
    const requests = await instant("sum by (job) (apiserver_request_total)", "job");
    expect(requests["kube-apiserver"]).toBeGreaterThan(0);
    // Both components together: Flux's two controllers, listed by the sandbox in flux.json, are scraped.
    const flux = await eventually(
      "Prometheus to scrape Flux's two controllers",
      async () => {
        const up = await instant('up{job="flux"}', "controller");
        return Object.values(up).filter((value) => value === 1).length === 2 ? up : undefined;
      },
      60_000,
    );
    expect(Object.keys(flux).sort()).toEqual(["kustomize-controller", "source-controller"]);

    processIo.err(`prometheus: ${await residentMiB(prometheusPid)} MiB resident\n`);
  });

  it("scrapes the agent listed in its targets directory, through a run with pod kills and a healed drift; the probe passes and fails as it should", async () => {
    expect(prometheusUrl, "the sandbox started").not.toBe("");
    const crds = await kubectl(kubeconfig, "apply", "--server-side", "-f", join(repoRoot, "deploy", "crds"));
    expect(crds.code, crds.stderr).toBe(0);
    await kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all");
    await apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, annotations: { "broadside.dev/chaos": "enabled" } },
    });
    await apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      spec: testDeployment("web", 3).spec,
      metadata: { name: "web", namespace },
    });
    await apply({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "app", namespace },
      data: { LOG_LEVEL: "info" },
    });
    const rollout = await kubectl(
      kubeconfig,
      "rollout",
      "status",
      "-n",
      namespace,
      "deployment/web",
      "--timeout=120s",
    );
    expect(rollout.code, rollout.stderr).toBe(0);

    const address = await startAgent();
    await listTarget("broadside-agent.json", address, { component: "agent" });
    await eventually(
      "Prometheus to scrape the agent",
      async () => ((await instant('up{job="broadside"}', "instance"))[address] === 1 ? true : undefined),
      60_000,
    );

    chaosFrom = Date.now() / 1000;
    // The seed's question, as a probe: does the API server stay responsive while pods are killed?
    const latency =
      'histogram_quantile(0.99, sum by (le) (rate(apiserver_request_duration_seconds_bucket{verb!~"WATCH|CONNECT"}[30s])))';
    const responsive = probe(latency, "<", 10);
    const impossible = probe(latency, "<", 0);
    const nothing = probe('up{job="no-such-job"}', "==", 1);
    const broken = probe("sum(rate(apiserver_request_total[30s])", ">", 0);

    for (const kill of ["kill-1", "kill-2"]) {
      await apply({
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        metadata: { name: kill, namespace },
        spec: { action: "pod-kill", mode: "one", selector: { labelSelectors: { app: "web" } } },
      });
      await until(`${kill} recovered`, () => conditionOf("podchaos", kill, "Recovered"));
    }
    // Two drifts, each healed by someone else before Broadside's deadline: a new histogram series starts
    // at its first observation, which rate() cannot see as an increase; the second one it can.
    for (const drift of ["drift-1", "drift-2"]) await driftAndHeal(drift);

    const samples = {
      responsive: await responsive.stop(),
      impossible: await impossible.stop(),
      nothing: await nothing.stop(),
      broken: await broken.stop(),
    };
    processIo.err(
      `prometheus probe during the kills: ${samples.responsive.length} samples, latency ${samples.responsive.map((s) => Math.round(s.latencyMs)).join("/")} ms\n`,
    );
    for (const list of Object.values(samples)) expect(list.length).toBeGreaterThan(0);
    expect(samples.responsive.filter((s) => !s.ok)).toEqual([]);
    expect(new Set(samples.impossible.map((s) => `${String(s.ok)} ${s.error ?? ""}`))).toEqual(
      new Set(["false not < 0"]),
    );
    expect(new Set(samples.nothing.map((s) => `${String(s.ok)} ${s.error ?? ""}`))).toEqual(
      new Set(["false empty result"]),
    );
    for (const sample of samples.broken) {
      expect(sample).toMatchObject({ ok: false, status: 400 });
      expect(sample.error).toMatch(/^bad_data: /);
    }

    // What the dashboard shows, as Prometheus has it once it scraped the agent after the run.
    const heals = await eventually(
      "Prometheus to see both heals",
      async () => {
        const byManager = await instant("sum by (field_manager) (broadside_heals_total)", "field_manager");
        return Object.values(byManager).reduce((a, b) => a + b, 0) >= 2 ? byManager : undefined;
      },
      60_000,
    );
    processIo.err(`heals by field manager, as Prometheus has them: ${JSON.stringify(heals)}\n`);
    // Both named after the writer that put them back, though the agent saw them by a read, not a watch.
    expect(heals).toEqual({ [healer]: 2 });
    expect(
      await instant('sum by (fault) (broadside_shots_total{outcome="accepted"})', "fault"),
    ).toMatchObject({
      "pod-kill": 2,
    });
  });

  it("scrapes a short duel against the sandbox's Flux while it runs", async () => {
    expect(chaosFrom, "the run with chaos happened").toBeGreaterThan(0);
    const ready = await kubectl(
      kubeconfig,
      "wait",
      "--for=condition=Ready",
      "--timeout=120s",
      "-n",
      "flux-system",
      "kustomization/fleet",
    );
    expect(ready.code, ready.stderr).toBe(0);
    const file = join(tmpdir(), `prom-it-duel-${process.pid}.yaml`);
    await writeFile(file, shortDuel);
    const reportDir = join(tmpdir(), `prom-it-duel-${process.pid}`);
    const duel = await broadside("duel", file, "--sandbox", name, "--report-dir", reportDir);
    expect(duel.code, duel.stderr).toBe(0);
    // It served its metrics on loopback, listed for the sandbox's Prometheus, and unlisted them after.
    expect(duel.stderr).toMatch(/duel metrics: http:\/\/127\.0\.0\.1:\d+\/metrics/);
    expect(duel.stderr).not.toContain("not scraped");
    expect((await readdir(targetsDir)).filter((entry) => entry.startsWith("broadside-duel-"))).toEqual([]);
    // The duel is gone (its series stale): what it had, over the last minutes.
    const attacks = await instant(
      'sum by (kind) (max_over_time(broadside_duel_attacks_total{component="duel"}[5m])) > 0',
      "kind",
    );
    processIo.err(`duel attacks as Prometheus has them: ${JSON.stringify(attacks)}\n`);
    expect(Object.keys(attacks).sort()).toEqual(["delete", "drift"]);
    // The time to restore as the dashboard computes it, once the scrape with the heals is in a rate window
    // (a rate needs the scrape after the heals; a query ending at that scrape may not see it yet).
    const restore = await eventually(
      "Prometheus to compute the duel's time to restore by GitOps",
      async () => {
        const byHealer = await instant(
          'histogram_quantile(0.5, sum by (le, healer) (rate(broadside_duel_restore_seconds_bucket{healer="gitops"}[30s])))',
          "healer",
        );
        return Number.isFinite(byHealer.gitops) ? byHealer.gitops : undefined;
      },
      30_000,
    );
    processIo.err(`duel time to restore by GitOps, p50 as Prometheus computes it: ${restore} s\n`);
    expect(restore).toBeGreaterThan(0);
  });

  it("answers every panel's query of the Grafana dashboard with data after that run", async () => {
    expect(chaosFrom, "the run with chaos happened").toBeGreaterThan(0);
    const dir = join(repoRoot, "deploy", "grafana");
    const end = Date.now() / 1000;
    // Grafana's own variables, as Grafana substitutes them: a rate window of at least four scrapes (2 s
    // each), and the dashboard's time range, here the run's.
    const range = `${Math.ceil(end - chaosFrom) + 60}s`;
    const substitute = (expr: string) =>
      expr.replaceAll("$__rate_interval", "30s").replaceAll("$__range", range);
    const verdicts: string[] = [];
    let queries = 0;
    for (const file of (await readdir(dir)).filter((f) => f.endsWith(".json"))) {
      const dashboard = JSON.parse(await readFile(join(dir, file), "utf8")) as {
        panels: { type: string; title: string; targets?: { expr: string }[] }[];
      };
      for (const panel of dashboard.panels.filter((p) => p.type !== "row")) {
        for (const target of panel.targets ?? []) {
          queries += 1;
          const answer = await prom("/api/v1/query_range", {
            query: substitute(target.expr),
            start: String(chaosFrom - 60),
            end: String(end),
            step: "2",
          });
          verdicts.push(`${file} / ${panel.title}: ${verdictOf(answer)} — ${target.expr}`);
        }
      }
    }
    processIo.err(`dashboard queries against the real Prometheus:\n  ${verdicts.join("\n  ")}\n`);
    expect(queries).toBeGreaterThan(10);
    expect(verdicts.filter((line) => !line.includes(": ok — "))).toEqual([]);
  });

  it("is stopped by sandbox down", async () => {
    expect(prometheusPid).toBeGreaterThan(0);
    if (agent !== undefined) {
      agent.child.kill("SIGTERM");
      await agent.exited;
      agent = undefined;
    }
    const down = await broadside("sandbox", "down", "--name", name);
    expect(down.code, down.stderr).toBe(0);
    const cmdline = await readFile(`/proc/${prometheusPid}/cmdline`, "utf8").catch(() => "");
    expect(cmdline).not.toContain("prometheus");
  });
});
