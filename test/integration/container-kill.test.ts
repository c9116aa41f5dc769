import { spawn } from "node:child_process";
import { get } from "node:http";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { systemHost } from "../../src/sandbox/bodies/host.js";
import { decideBodies, probeBodies } from "../../src/sandbox/bodies/mode.js";
import type { BodyInfo } from "../../src/sandbox/bodies/pod-bodies.js";
import { daemonArgs, daemonJournalDir } from "../../src/sandbox/daemons.js";
import { SandboxName } from "../../src/sandbox/sandbox-name.js";
import { sandboxLayout } from "../../src/sandbox/state-dir.js";
import { stringify } from "yaml";
import { exampleRunArgs, withFlag } from "../../src/demo/example-command.js";
import { demoDeployment, demoNamespaces, demoService, storefront } from "../../src/demo/fleet.js";
import { parseRunReport } from "../../src/experiments/report/json.js";
import type { RunReport } from "../../src/experiments/report/run-report.js";
import { broadside, config, eventually, kubectl, repoRoot, sandboxDoors } from "./harness.js";
import { installCrds, logged, startAgentOn } from "./agent-process.js";
import { integrationSandboxName } from "./names.js";
import { shopWebManifest } from "./shop-web.js";

/**
 * container-kill end to end (issues 12 and 15, ADR 0029): a sandbox of its own with pod bodies and a
 * node daemon per node; `broadside kill --container` writes the ledger record and the node work, the
 * daemon of the pod's node journals it and SIGKILLs the body's process, the sandbox restarts it and
 * reports the restart in the pod's status as the kubelet would. The test never dials a pod IP.
 */
const name = SandboxName.parse(`${integrationSandboxName.slice(0, 25)}-ckill`, "sandbox name");
const stateDir = join(config.stateDir, name);
const kubeconfig = join(stateDir, "kubeconfig");
const decision = decideBodies("auto", await probeBodies(systemHost, process.geteuid?.()));
const canRun = decision.mode === "netns";

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

interface PodJson {
  metadata: { name: string; uid: string };
  spec: { nodeName?: string };
  status: {
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      restartCount: number;
      lastState?: { terminated?: { reason: string; exitCode: number } };
    }[];
  };
}

async function pod(podName: string): Promise<PodJson> {
  const read = await kubectl(kubeconfig, "-n", "shop", "get", "pod", podName, "-o", "json");
  expect(read.code, read.stderr).toBe(0);
  return JSON.parse(read.stdout) as PodJson;
}

/** `broadside kill --container web` at one pod of shop, its result as JSON. */
function killWebContainer(podName: string) {
  return broadside(
    ...["kill", "--kubeconfig", kubeconfig, "-n", "shop", podName],
    ...["--container", "web", "-o", "json", "--timeout", "60s"],
  );
}

/** Names of Broadside's ConfigMaps (ledger records and node work), to check a refusal wrote none. */
async function broadsideConfigMaps(): Promise<string[]> {
  const listed = await kubectl(kubeconfig, "-n", "broadside-system", "get", "configmaps", "-o", "name");
  return listed.code === 0 ? listed.stdout.split("\n").filter((line) => line !== "") : [];
}

interface KillJson {
  kills: {
    ledgerId: string;
    work: string;
    target: { node: string; restartCount: number };
    outcome: { accepted: boolean; at: number };
    status: { phase: string; pid: number };
    milestones: {
      restartCount: number;
      lastTerminated: { exitCode: number; reason: string };
      runningAgainAt: number;
      readyAgainAt: number;
      runningAgainVersion: string;
      readyAgainVersion: string;
      readyLost: boolean;
    };
    ms: { runningAgain: number | null; readyAgain: number | null };
  }[];
}

async function running(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => undefined);
  return stat !== undefined && stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
}

function servingVictim(body: BodyInfo | undefined): BodyInfo & { pid: number } {
  if (body?.pid === undefined) throw new Error("no serving body from the first test");
  return { ...body, pid: body.pid };
}

function onlyKill(stdout: string): KillJson["kills"][number] {
  const [kill] = (JSON.parse(stdout) as KillJson).kills;
  if (kill === undefined) throw new Error("no kill in the output");
  return kill;
}

async function configMapData(objectName: string): Promise<Record<string, string>> {
  const read = await kubectl(
    kubeconfig,
    "-n",
    "broadside-system",
    "get",
    "configmap",
    objectName,
    "-o",
    "json",
  );
  expect(read.code, read.stderr).toBe(0);
  return (JSON.parse(read.stdout) as { data: Record<string, string> }).data;
}

/** The ledger record (closed, the process gone), the work's answer, and the node's journal entry. */
async function checkRecords(
  kill: KillJson["kills"][number],
  body: BodyInfo & { pid: number },
): Promise<void> {
  const record = JSON.parse(
    (await configMapData(`ledger-${kill.ledgerId}`))["record.json"] ?? "{}",
  ) as object;
  expect(record).toMatchObject({
    faultKind: "container-kill",
    state: "closed",
    target: { uid: body.uid },
    outcome: { kind: "target-gone" },
  });
  const status = JSON.parse((await configMapData(kill.work))["status.json"] ?? "{}") as object;
  expect(status).toMatchObject({ phase: "Done", daemon: { node: kill.target.node } });
  const journalFile = join(stateDir, "daemon", kill.target.node, `${kill.work}.json`);
  const journal = JSON.parse(await readFile(journalFile, "utf8")) as object;
  expect(journal).toMatchObject({ phase: "reported", target: { pid: body.pid } });
}

/** A broadside.dev PodChaos (or a Schedule's podChaos) killing container(s) of one web pod in shop. */
function containerKillSpec(containerNames: string[]) {
  return {
    action: "container-kill",
    mode: "one",
    selector: { namespaces: ["shop"], labelSelectors: { app: "web" } },
    containerNames,
  };
}

/** `kubectl apply` of a document on this file's sandbox. */
async function applyHere(document: object, file: string): Promise<void> {
  const path = join(stateDir, file);
  await writeFile(path, stringify(document));
  const applied = await kubectl(kubeconfig, "apply", "-f", path);
  expect(applied.code, applied.stderr).toBe(0);
}

interface ChaosStatusJson {
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  targets?: {
    name: string;
    uid: string;
    container?: string;
    outcome: string;
    restartCount?: number;
    ledgerRecord?: string;
    message?: string;
    milestones?: { runningAgainMs?: number; readyMs?: number };
  }[];
}

async function chaosStatus(kind: string, objectName: string): Promise<ChaosStatusJson | undefined> {
  const read = await kubectl(kubeconfig, "-n", "shop", "get", kind, objectName, "-o", "json");
  return read.code === 0 ? (JSON.parse(read.stdout) as { status?: ChaosStatusJson }).status : undefined;
}

function conditionOf(status: ChaosStatusJson | undefined, type: string) {
  return status?.conditions?.find((condition) => condition.type === type);
}

/** Waits for the PodChaos's run to end (Recovered or Failed said), and returns its status. */
function runEnded(objectName: string): Promise<ChaosStatusJson> {
  return eventually(
    `PodChaos ${objectName} to end its run`,
    async () => {
      const status = await chaosStatus("podchaos.broadside.dev", objectName);
      const ended =
        ["True", "False"].includes(conditionOf(status, "Recovered")?.status ?? "") ||
        conditionOf(status, "Failed")?.status === "True";
      return ended ? status : undefined;
    },
    120_000,
  );
}

/** restartCount of container web, by pod uid, for the web pods of shop. */
async function webRestarts(): Promise<Map<string, number>> {
  const listed = await kubectl(kubeconfig, "-n", "shop", "get", "pods", "-l", "app=web", "-o", "json");
  expect(listed.code, listed.stderr).toBe(0);
  const pods = (JSON.parse(listed.stdout) as { items: PodJson[] }).items;
  return new Map(
    pods.map((each) => [
      each.metadata.uid,
      each.status.containerStatuses?.find((c) => c.name === "web")?.restartCount ?? 0,
    ]),
  );
}

/**
 * The one target of a container-kill run as its status records it, checked against the pod's status read
 * now (restartCount + 1, lastState terminated 137) and its ledger record (closed, the process gone).
 */
async function killRecorded(status: ChaosStatusJson, before: Map<string, number>): Promise<void> {
  expect(conditionOf(status, "Injected")).toMatchObject({ status: "True", reason: "Killed" });
  expect(conditionOf(status, "Recovered")).toMatchObject({ status: "True", reason: "Recovered" });
  const target = onlyTarget(status);
  const restartsBefore = before.get(target.uid) ?? -1;
  expect(target).toMatchObject({
    container: "web",
    outcome: "recovered",
    restartCount: restartsBefore + 1,
    message: "last terminated: exit code 137 (Error)",
  });
  expect(target.milestones?.readyMs ?? 0).toBeGreaterThan(target.milestones?.runningAgainMs ?? -1);
  const now = await pod(target.name);
  expect(now.metadata.uid).toBe(target.uid);
  expect(now.status.containerStatuses?.find((c) => c.name === "web")).toMatchObject({
    restartCount: restartsBefore + 1,
    lastState: { terminated: { exitCode: 137, reason: "Error" } },
  });
  await killRecordClosed(target.ledgerRecord ?? "", target.uid);
  process.stderr.write(
    `agent container-kill ${target.name}/web: running again ${String(target.milestones?.runningAgainMs)} ms, Ready again ${String(target.milestones?.readyMs)} ms after the kill\n`,
  );
}

function onlyTarget(status: ChaosStatusJson): NonNullable<ChaosStatusJson["targets"]>[number] {
  const [target] = status.targets ?? [];
  if (target === undefined) throw new Error("no target in the status");
  return target;
}

/** The kill's ledger record: closed, the process gone (a shot at it; nothing to put back). */
async function killRecordClosed(ledgerRecord: string, uid: string): Promise<void> {
  const record = JSON.parse((await configMapData(`ledger-${ledgerRecord}`))["record.json"] ?? "{}") as object;
  expect(record).toMatchObject({
    faultKind: "container-kill",
    state: "closed",
    target: { uid },
    outcome: { kind: "target-gone" },
  });
}

const example = "chaos-mesh-podchaos-container-kill.yaml";

/** The demo's storefront (3 pods with a readinessProbe, container `app`) and its Service, in demo-shop. */
async function storefrontDeployed(): Promise<void> {
  const manifest = [
    ...demoNamespaces()
      .filter((ns) => ns.metadata?.name === storefront.namespace)
      .map((ns) => Object.assign({ apiVersion: "v1", kind: "Namespace" }, ns)),
    Object.assign({ apiVersion: "apps/v1", kind: "Deployment" }, demoDeployment(storefront)),
    Object.assign({ apiVersion: "v1", kind: "Service" }, demoService(storefront, undefined)),
  ]
    .map((document) => stringify(document))
    .join("---\n");
  const file = join(stateDir, "storefront.yaml");
  await writeFile(file, manifest);
  const applied = await kubectl(kubeconfig, "apply", "-f", file);
  expect(applied.code, applied.stderr).toBe(0);
  await storefrontServing();
}

/** Both web pods of shop Ready with a serving body. */
async function webServing(): Promise<void> {
  await eventually(
    "two Ready web pods with serving bodies",
    async () => {
      const serving = (await bodies()).filter(
        (b) => b.namespace === "shop" && b.port !== undefined && b.pid !== undefined,
      );
      const listed = await kubectl(kubeconfig, "-n", "shop", "get", "pods", "-l", "app=web", "-o", "json");
      const pods = (JSON.parse(listed.stdout) as { items: PodJson[] }).items;
      const ready = pods.filter((each) =>
        each.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      return serving.length === 2 && ready.length === 2 ? true : undefined;
    },
    120_000,
  );
}

/** Every storefront pod Ready with a serving body, and its front door open. */
async function storefrontServing(): Promise<void> {
  await eventually(
    "three serving storefront bodies and the front door",
    async () => {
      const serving = (await bodies()).filter(
        (b) => b.namespace === storefront.namespace && b.port !== undefined && b.pid !== undefined,
      );
      const pods = await storefrontPods();
      const ready = pods.filter((each) =>
        each.status.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
      );
      const door = (await sandboxDoors(name))?.open.some((d) => d.service === storefront.name);
      return serving.length === 3 && ready.length === 3 && door === true ? true : undefined;
    },
    120_000,
  );
}

async function storefrontPods(): Promise<PodJson[]> {
  const listed = await kubectl(
    kubeconfig,
    ...["-n", storefront.namespace, "get", "pods", "-l", `app=${storefront.name}`, "-o", "json"],
  );
  expect(listed.code, listed.stderr).toBe(0);
  return (JSON.parse(listed.stdout) as { items: PodJson[] }).items;
}

/** `broadside run` of the example's arguments (after the file) on this sandbox; its report. */
async function runReport(
  args: readonly string[],
  file = join(repoRoot, "examples", example),
): Promise<RunReport> {
  const rest = args[0]?.endsWith(".yaml") === true ? args.slice(1) : [...args];
  const onSandbox = withFlag(withFlag(rest, "--sandbox", name), "--report-dir", join(stateDir, "reports"));
  const run = await broadside("run", file, ...onSandbox);
  const path = /reports: (\S+\.json)/.exec(run.stderr)?.[1];
  if (path === undefined) throw new Error(`no report written:\n${run.stderr}`);
  const report = parseRunReport(await readFile(path, "utf8"), path);
  // The verdict is the probe's tolerance judged on what it measured; the exit code says that verdict.
  const exit = { passed: 0, failed: 5, aborted: 6 }[report.verdict.result];
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(exit);
  process.stderr.write(`container-kill run verdict: ${report.verdict.result}\n`);
  return report;
}

type Killed = NonNullable<Extract<RunReport["faults"][number], { type: "pod" }>["containers"]>[number];

/**
 * The report's one fault is the container-kill of `count` app containers; each one's restart as the report
 * has it (restartCount + 1, lastState terminated 137 Error) is the pod's status read now, and so are the
 * report's restart counts of its target pods.
 */
async function killedAsTheirStatus(report: RunReport, count: number): Promise<Killed[]> {
  const [fault] = report.faults;
  if (fault?.type !== "pod" || fault.containers === undefined) throw new Error("no container-kill fault");
  expect(fault.kind).toBe("container-kill");
  expect(fault.recovered, fault.problems.join("; ")).toBe(true);
  expect(fault.containers).toHaveLength(count);
  const now = new Map((await storefrontPods()).map((each) => [each.metadata.uid, each]));
  for (const killed of fault.containers) checkKilled(report, killed, now.get(killed.pod.uid));
  return [...fault.containers];
}

/** One killed container as the report has it, against its pod's status read after the run. */
function checkKilled(report: RunReport, killed: Killed, pod: PodJson | undefined): void {
  expect(killed).toMatchObject({
    container: "app",
    shot: { accepted: true },
    restartsAfter: killed.restartsBefore + 1,
    lastTerminated: { exitCode: 137, reason: "Error" },
    readyLost: true,
  });
  // Running again and Ready again are two watch events (the pod's resourceVersion differs).
  expect(killed.readyAgainVersion).toBeDefined();
  expect(killed.readyAgainVersion).not.toBe(killed.runningAgainVersion);
  expect(killed.readyAgainMs ?? 0).toBeGreaterThan(killed.runningAgainMs ?? 0);
  const status = pod?.status.containerStatuses?.find((each) => each.name === "app");
  expect(status).toMatchObject({
    restartCount: killed.restartsAfter,
    lastState: { terminated: { exitCode: 137, reason: "Error" } },
  });
  expect(report.restarts?.targets).toContainEqual(
    expect.objectContaining({
      name: killed.pod.name,
      before: killed.restartsBefore,
      after: status?.restartCount,
    }),
  );
}

/**
 * The probe's outage: from its first failed sample to its last, holding every failed sample, traffic back
 * at the next sample; none failed before the first kill. With `mustFail`, there was an outage.
 */
function outageHoldsTheFailedSamples(report: RunReport, mustFail: boolean): void {
  const failed = report.samples.filter((sample) => !sample.ok).map((sample) => sample.sentAt);
  const outage = report.overall.probes[0]?.outage;
  const traffic = report.faults[0]?.traffic?.[0];
  if (mustFail) expect(failed.length).toBeGreaterThan(0);
  process.stderr.write(`container-kill run: ${failed.length} failed probe sample(s)\n`);
  if (failed.length === 0) {
    expect(outage).toBeNull();
    expect(traffic).toMatchObject({ failures: 0, returnedMs: 0 });
    return;
  }
  if (outage === null || outage === undefined) throw new Error("failed samples, and no outage");
  expect(outage).toMatchObject({
    from: Math.min(...failed),
    lastFailedAt: Math.max(...failed),
    failures: failed.length,
    stillFailing: false,
  });
  expect(outage.to - outage.lastFailedAt).toBeLessThanOrEqual(intervalOf(report) + 50);
  // A request sent just before the kill can still be in flight when the process dies, and fail: the
  // first failed sample may have been sent up to one probe interval before it (seen: 3 ms before).
  expect(outage.from).toBeGreaterThanOrEqual(firstKill(report) - intervalOf(report));
  expect(traffic?.failures).toBe(failed.length);
  expect(traffic?.returnedMs).not.toBeNull();
}

function intervalOf(report: RunReport): number {
  const probe = report.probes[0];
  if (probe === undefined) throw new Error("no probe in the report");
  return probe.intervalMs;
}

/** Epoch ms of the report's first container kill. */
function firstKill(report: RunReport): number {
  const fault = report.faults[0];
  const kills = fault?.type === "pod" ? (fault.containers ?? []) : [];
  return Math.min(...kills.map((each) => each.shot.at));
}

function printMilestones(what: string, killed: readonly Killed[]): void {
  for (const each of killed)
    process.stderr.write(
      `container-kill ${what}: ${each.pod.name} running again ${String(each.runningAgainMs)} ms, Ready again ${String(each.readyAgainMs)} ms after the kill\n`,
    );
}

describe("container-kill: what --pod-bodies auto chooses here", () => {
  it("runs where bodies can be made, and otherwise says why not", () => {
    if (!canRun) process.stderr.write(`container-kill.test.ts cannot run here: ${decision.reason}\n`);
    expect(decision.mode === "netns" || decision.reason !== "").toBe(true);
  });
});

describe.runIf(canRun)("container-kill through the node daemon, in a sandbox with pod bodies", () => {
  let victim: BodyInfo | undefined;
  let daemonPids: number[] = [];

  afterAll(async () => {
    await broadside("sandbox", "down", "--name", name);
  });

  it("starts a node daemon per node with the pod bodies", async () => {
    const up = await broadside("sandbox", "up", "--name", name, "--nodes", "2", "--pod-bodies", "netns");
    expect(up.code, up.stderr).toBe(0);
    expect(up.stdout + up.stderr).toMatch(/2 node daemon\(s\) started/);
    const daemons = JSON.parse(await readFile(join(stateDir, "daemons.json"), "utf8")) as {
      node: string;
      pid: number;
    }[];
    expect(daemons.map((d) => d.node)).toEqual(["kwok-node-0", "kwok-node-1"]);
    daemonPids = daemons.map((d) => d.pid);
    for (const pid of daemonPids) expect(await running(pid)).toBe(true);
    const file = join(stateDir, "web.yaml");
    await writeFile(file, shopWebManifest);
    const applied = await kubectl(kubeconfig, "apply", "-f", file);
    expect(applied.code, applied.stderr).toBe(0);
    const serving = await eventually(
      "two serving bodies",
      async () => {
        const listed = (await bodies()).filter((b) => b.port !== undefined && b.pid !== undefined);
        return listed.length === 2 ? listed : undefined;
      },
      90_000,
    );
    victim = serving[0];
  });

  it("refuses a container the pod does not have, naming the pod and its containers, and writes nothing", async () => {
    const before = await broadsideConfigMaps();
    const refused = await broadside(
      "kill",
      "--kubeconfig",
      kubeconfig,
      "-n",
      "shop",
      "-l",
      "app=web",
      "--container",
      "sidecar",
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /--container: pod shop\/web-[a-z0-9-]+ has no container "sidecar"; its containers: web/,
    );
    expect(await broadsideConfigMaps()).toEqual(before);
  });

  it("kills the container's process: restartCount + 1, lastState terminated 137, timed from watch events", async () => {
    const body = servingVictim(victim);
    const before = await pod(body.pod);
    const restartsBefore = before.status.containerStatuses?.[0]?.restartCount ?? 0;
    const killed = await killWebContainer(body.pod);
    expect(killed.code, killed.stderr).toBe(0);
    const kill = onlyKill(killed.stdout);
    expect(kill.status).toMatchObject({ phase: "Done", pid: body.pid });
    expect(kill.target.node).toBe(before.spec.nodeName);
    // While the container was down the pod was not Ready (the sandbox writes the exit before the restart).
    expect(kill.milestones).toMatchObject({
      restartCount: restartsBefore + 1,
      lastTerminated: { exitCode: 137, reason: "Error" },
      readyLost: true,
    });
    const { runningAgain, readyAgain } = kill.ms;
    expect(runningAgain).toBeGreaterThanOrEqual(0);
    // Two distinct watch events: the container running (not ready) first, the pod Ready after the
    // sandbox's pod-ready delay, as behind a readiness probe.
    expect(kill.milestones.readyAgainVersion).not.toBe(kill.milestones.runningAgainVersion);
    expect(readyAgain).toBeGreaterThan(runningAgain ?? 0);
    process.stderr.write(
      `container-kill milestones: running again ${runningAgain} ms, Ready again ${readyAgain} ms after the kill\n`,
    );
    const after = await pod(body.pod);
    expect(after.metadata.uid).toBe(body.uid);
    expect(after.status.containerStatuses?.[0]).toMatchObject({
      restartCount: restartsBefore + 1,
      lastState: { terminated: { reason: "Error", exitCode: 137 } },
    });
    // The body runs again in the same namespace, as a new process.
    const again = await eventually("the body serving again", async () =>
      (await bodies()).find((b) => b.uid === body.uid && b.port !== undefined && b.pid !== body.pid),
    );
    expect(again.netns).toBe(body.netns);
    await checkRecords(kill, body);
  });

  it("runs examples/chaos-mesh-podchaos-container-kill.yaml as its header says: the report's restarts are the pod's status, its outage the probe's failed samples", async () => {
    await storefrontDeployed();
    const text = await readFile(join(repoRoot, "examples", example), "utf8");
    const report = await runReport(exampleRunArgs(text, example));
    const killed = await killedAsTheirStatus(report, 1);
    outageHoldsTheFailedSamples(report, false);
    printMilestones("the example (one pod)", killed);
  });

  it("the example with mode all (--unsafe): every storefront container down at once is a real outage, its window exactly the failed samples", async () => {
    await storefrontServing();
    const text = (await readFile(join(repoRoot, "examples", example), "utf8")).replace(
      'mode: fixed\n  value: "1"\n',
      "mode: all\n",
    );
    const file = join(stateDir, "container-kill-all.yaml");
    await writeFile(file, text);
    const report = await runReport([...exampleRunArgs(text, example).slice(1), "--unsafe"], file);
    const killed = await killedAsTheirStatus(report, 3);
    outageHoldsTheFailedSamples(report, true);
    printMilestones("mode all (three pods)", killed);
  });

  it("the agent (--node-daemons) runs a container-kill PodChaos: the container restarts, the status and the ledger record it", async () => {
    await installCrds(join(repoRoot, "deploy", "crds"), "podchaos.broadside.dev", kubeconfig);
    const annotated = await kubectl(
      kubeconfig,
      "annotate",
      "--overwrite",
      "namespace",
      "shop",
      "broadside.dev/chaos=enabled",
    );
    expect(annotated.code, annotated.stderr).toBe(0);
    const agent = startAgentOn(kubeconfig, "--node-daemons");
    await logged(agent, "agent serving");
    await webServing();
    const before = await webRestarts();
    await applyHere(
      {
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        metadata: { name: "kill-web-container", namespace: "shop" },
        spec: containerKillSpec(["web"]),
      },
      "podchaos-container-kill.yaml",
    );
    await killRecorded(await runEnded("kill-web-container"), before);
  });

  it("the agent refuses a container the pods do not have, naming the pod and its containers, and writes nothing", async () => {
    const agent = startAgentOn(kubeconfig, "--node-daemons");
    await logged(agent, "agent serving");
    const before = await broadsideConfigMaps();
    await applyHere(
      {
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        metadata: { name: "kill-sidecar", namespace: "shop" },
        spec: containerKillSpec(["sidecar"]),
      },
      "podchaos-sidecar.yaml",
    );
    const status = await runEnded("kill-sidecar");
    expect(conditionOf(status, "Failed")).toMatchObject({ status: "True", reason: "Usage" });
    expect(conditionOf(status, "Failed")?.message).toMatch(
      /^spec\.containerNames: pod shop\/web-[a-z0-9-]+ has no container "sidecar"; its containers: web$/,
    );
    expect(await broadsideConfigMaps()).toEqual(before);
  });

  it("an agent without --node-daemons refuses a container-kill at once, saying why, and writes nothing; the API server refuses one without containerNames", async () => {
    const agent = startAgentOn(kubeconfig);
    await logged(agent, "agent serving");
    const before = await broadsideConfigMaps();
    const restarts = await webRestarts();
    await applyHere(
      {
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        metadata: { name: "kill-without-daemons", namespace: "shop" },
        spec: containerKillSpec(["web"]),
      },
      "podchaos-no-daemons.yaml",
    );
    const status = await runEnded("kill-without-daemons");
    expect(conditionOf(status, "Failed")).toMatchObject({ status: "True", reason: "NoNodeDaemons" });
    expect(conditionOf(status, "Failed")?.message).toContain("started without --node-daemons");
    expect(await broadsideConfigMaps()).toEqual(before);
    expect(await webRestarts()).toEqual(restarts);

    const path = join(stateDir, "podchaos-no-containers.yaml");
    const spec = { ...containerKillSpec([]), containerNames: undefined };
    await writeFile(
      path,
      stringify({
        apiVersion: "broadside.dev/v1alpha1",
        kind: "PodChaos",
        metadata: { name: "kill-nothing", namespace: "shop" },
        spec,
      }),
    );
    const refused = await kubectl(kubeconfig, "apply", "-f", path);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("spec.containerNames");
    expect(refused.stderr).toContain("needs at least one container for action container-kill");
  });

  it("the agent runs a Schedule of container-kill: its round's PodChaos restarts the container and records it", async () => {
    const agent = startAgentOn(kubeconfig, "--node-daemons");
    await logged(agent, "agent serving");
    await webServing();
    const before = await webRestarts();
    await applyHere(
      {
        apiVersion: "broadside.dev/v1alpha1",
        kind: "Schedule",
        metadata: { name: "web-container-monkey", namespace: "shop" },
        spec: {
          schedule: "*/10 * * * * *",
          type: "PodChaos",
          concurrencyPolicy: "Forbid",
          historyLimit: 2,
          podChaos: containerKillSpec(["web"]),
        },
      },
      "schedule-container-kill.yaml",
    );
    try {
      const child = await eventually(
        "the Schedule's first PodChaos",
        async () => {
          const listed = await kubectl(
            kubeconfig,
            "-n",
            "shop",
            "get",
            "podchaos.broadside.dev",
            "-l",
            "broadside.dev/schedule-instant",
            "-o",
            "name",
          );
          return listed.stdout
            .split("\n")
            .find((line) => line !== "")
            ?.replace(/^.*\//, "");
        },
        60_000,
      );
      await killRecorded(await runEnded(child), before);
    } finally {
      const deleted = await kubectl(
        kubeconfig,
        "-n",
        "shop",
        "delete",
        "schedule.broadside.dev",
        "web-container-monkey",
      );
      expect(deleted.code, deleted.stderr).toBe(0);
    }
  });

  // After the run: it leaves its node without the sandbox's daemon (it stops the one it started again),
  // so a later random pick on that node would wait for an answer that never comes.
  it("a daemon SIGKILLed between journaling the target and the signal finishes the kill when it starts again", async () => {
    const body = servingVictim((await bodies()).find((b) => b.port !== undefined && b.pid !== undefined));
    const node = (await pod(body.pod)).spec.nodeName ?? "";
    const restartsBefore = (await pod(body.pod)).status.containerStatuses?.[0]?.restartCount ?? 0;
    // The sandbox's daemon of that node gives way to one that dies at the failpoint.
    const daemons = JSON.parse(await readFile(join(stateDir, "daemons.json"), "utf8")) as {
      node: string;
      pid: number;
    }[];
    const own = daemons.find((d) => d.node === node);
    if (own === undefined) throw new Error(`no daemon for ${node}`);
    process.kill(own.pid, "SIGKILL");
    await eventually("the sandbox's daemon gone", async () => ((await running(own.pid)) ? undefined : true));
    const layout = sandboxLayout(config.stateDir, name);
    const script = join(repoRoot, "bin", "broadside.js");
    const crashing = spawn(process.execPath, daemonArgs(layout, script, node), {
      env: { ...process.env, BROADSIDE_FAILPOINT: "daemon-target-journaled" },
      stdio: "ignore",
    });
    const crashed = new Promise<NodeJS.Signals | null>((resolve) =>
      crashing.once("exit", (_code, signal) => {
        resolve(signal);
      }),
    );
    const killing = killWebContainer(body.pod);
    expect(await crashed).toBe("SIGKILL");
    const journalDir = daemonJournalDir(layout, node);
    const open = await eventually("the open entry with its target", async () => {
      for (const file of await readdir(journalDir)) {
        const entry = JSON.parse(await readFile(join(journalDir, file), "utf8")) as {
          phase: string;
          work: string;
          target?: { pid: number };
        };
        if (entry.phase === "open" && entry.target !== undefined) return entry;
      }
      return undefined;
    });
    expect(open.target?.pid).toBe(body.pid);
    expect((await bodies()).find((b) => b.uid === body.uid)?.pid).toBe(body.pid);
    // Started again (as the DaemonSet would restart it), it finishes the entry before it watches.
    const restarted = spawn(process.execPath, daemonArgs(layout, script, node), { stdio: "ignore" });
    try {
      const killed = await killing;
      expect(killed.code, killed.stderr).toBe(0);
      const kill = onlyKill(killed.stdout);
      expect(kill.work).toBe(open.work);
      expect(kill.status).toMatchObject({ phase: "Done", pid: body.pid });
      expect(kill.milestones).toMatchObject({
        restartCount: restartsBefore + 1,
        lastTerminated: { exitCode: 137 },
      });
      const entry = JSON.parse(await readFile(join(journalDir, `${open.work}.json`), "utf8")) as object;
      expect(entry).toMatchObject({ phase: "reported", status: { phase: "Done" } });
    } finally {
      restarted.kill("SIGTERM");
    }
  });

  it("stops the daemons on down", async () => {
    const down = await broadside("sandbox", "down", "--name", name);
    expect(down.code, down.stderr).toBe(0);
    // Stopped: gone, or a zombie its new parent has not reaped yet.
    for (const pid of daemonPids) expect(await running(pid)).toBe(false);
  });
});
