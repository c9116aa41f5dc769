import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { deployDemoFleet } from "../../src/demo/demo.js";
import { exampleRunArgs, withFlag } from "../../src/demo/example-command.js";
import { demoNamespaces } from "../../src/demo/fleet.js";
import { fixedFrontDoorPorts } from "../../src/demo/front-door-ports.js";
import { parseRunReport } from "../../src/experiments/report/json.js";
import type { RunReport } from "../../src/experiments/report/run-report.js";
import {
  adminClients,
  broadside,
  eventually,
  holdPort,
  httpStatusOf,
  kubectl,
  type PortHolderProcess,
  repoRoot,
  sandboxDoors,
  type CommandResult,
} from "./harness.js";
import { integrationSandboxName } from "./names.js";
import { freePorts } from "../../src/sandbox/ports.js";

/**
 * Every file under examples/ runs here, with the command line written in its own header comment (the
 * one the README and docs show), on the integration sandbox with the demo fleet deployed and served by
 * the sandbox's traffic process. What each example claims is checked against the report it writes.
 */

let reportDir = "";

beforeAll(async () => {
  reportDir = await mkdtemp(join(tmpdir(), "broadside-examples-"));
  // Ports the sandbox's traffic process picks as each door opens: no fixed port on this machine (another
  // checkout's tier, a presenter's demo, any local server) to collide with. The examples name the doors.
  await deployDemoFleet(adminClients(), {
    frontDoorPorts: { kind: "auto" },
    doors: () => sandboxDoors(),
    clock: systemClock,
  });
}, 300_000);

afterAll(async () => {
  // The fleet goes with its namespaces, so the next file finds the sandbox as it was.
  const kube = adminClients();
  for (const namespace of demoNamespaces()) {
    await kube.core.deleteNamespace({ name: namespace.metadata?.name ?? "" }).catch(() => undefined);
  }
  for (const namespace of demoNamespaces()) {
    await eventually(
      `namespace ${namespace.metadata?.name ?? ""} to be gone`,
      async () =>
        (await kube.core.readNamespace({ name: namespace.metadata?.name ?? "" }).then(
          () => undefined,
          (error: unknown) => (httpStatusOf(error) === 404 ? true : undefined),
        )) ?? undefined,
      180_000,
    );
  }
}, 300_000);

/**
 * Waits until the fleet is at rest: every Deployment rolled out (the previous example's revert of a
 * squeeze rolls the pods once more) and no pod terminating. A run that starts during a rollout would
 * see the rollout replace a target's node-mate and rightly report isolation as broken.
 */
async function fleetSettled(): Promise<void> {
  const kube = adminClients();
  for (const namespace of demoNamespaces()) {
    const name = namespace.metadata?.name ?? "";
    await eventually(
      `the fleet in ${name} to finish rolling out`,
      async () => {
        const [deployments, pods] = await Promise.all([
          kube.apps.listNamespacedDeployment({ namespace: name }),
          kube.core.listNamespacedPod({ namespace: name }),
        ]);
        const rolledOut = deployments.items.every((d) => {
          const want = d.spec?.replicas ?? 1;
          const status = d.status ?? {};
          const observed = (status.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
          return (
            observed &&
            [status.replicas, status.updatedReplicas, status.availableReplicas].every(
              (n) => (n ?? 0) === want,
            )
          );
        });
        const terminating = pods.items.some((pod) => pod.metadata?.deletionTimestamp !== undefined);
        return rolledOut && !terminating ? true : undefined;
      },
      180_000,
    );
  }
}

async function runExample(file: string, ...extra: string[]): Promise<CommandResult> {
  await fleetSettled();
  const args = exampleRunArgs(await readFile(join(repoRoot, "examples", file), "utf8"), file);
  const onSandbox = withFlag(withFlag(args, "--sandbox", integrationSandboxName), "--report-dir", reportDir);
  return broadside("run", ...onSandbox, ...extra);
}

async function reportOf(result: CommandResult): Promise<RunReport> {
  const path = /reports: (\S+\.json)/.exec(result.stderr)?.[1];
  if (path === undefined) throw new Error(`no report written:\n${result.stderr}`);
  return parseRunReport(await readFile(path, "utf8"), path);
}

function overall(report: RunReport, probe: string) {
  const figures = report.overall.probes.find((p) => p.probe === probe);
  if (figures === undefined) throw new Error(`no figures for probe ${probe}`);
  return figures;
}

describe("the examples, as their header says to run them", () => {
  it("covers every example file", async () => {
    const files = (await readdir(join(repoRoot, "examples"))).filter((f) => f.endsWith(".yaml")).sort();
    expect(files).toEqual([
      // Run, with their claims checked, by test/integration/network-chaos.test.ts (a sandbox with bodies).
      "chaos-mesh-networkchaos-bandwidth.yaml",
      "chaos-mesh-networkchaos.yaml",
      // Checked by --dry-run below; run, with its claims checked, by test/integration/container-kill.test.ts.
      "chaos-mesh-podchaos-container-kill.yaml",
      "chaos-mesh-podchaos.yaml",
      // Run, with its claims checked, by test/integration/pod-failure.test.ts.
      "chaos-mesh-podfailure.yaml",
      // Run, with its claims checked, by test/integration/pod-failure.test.ts.
      "chaos-mesh-schedule-podfailure.yaml",
      "chaos-mesh-schedule.yaml",
      // Checked by --dry-run below; the stress itself is run by test/integration/stress-chaos.test.ts.
      "chaos-mesh-stresschaos.yaml",
      // A Duel, not an experiment: run, with its claims checked, by test/integration/duel.test.ts.
      "duel-flux-interval.yaml",
      "experiment-checkout-pod-loss.yaml",
      "experiment-config-drift.yaml",
      "experiment-resource-squeeze.yaml",
      "schedule-pod-kill-1-replica.yaml",
      "schedule-pod-kill-2-replicas.yaml",
    ]);
  });

  it("schedule-pod-kill-2-replicas: checkout loses a pod every 30 s and no request fails", async () => {
    const result = await runExample("schedule-pod-kill-2-replicas.yaml");
    expect(result.code, result.stderr).toBe(0);
    const report = await reportOf(result);
    expect(report.verdict).toEqual({ result: "passed" });
    expect(report.faults.length).toBeGreaterThanOrEqual(1);
    expect(report.faults.every((fault) => fault.recovered)).toBe(true);
    const checkout = overall(report, "checkout");
    expect(checkout.sent).toBeGreaterThan(200);
    expect(checkout.failures).toBe(0);
  });

  it("schedule-pod-kill-1-replica: the only pod's loss is a measured outage, and the verdict says so", async () => {
    const result = await runExample("schedule-pod-kill-1-replica.yaml");
    // The first failed request breaches the tolerance and the stop condition ends the schedule.
    expect(result.code, result.stderr).toBe(6);
    expect(result.stderr).toContain(
      "error [BRD_EXPERIMENT_ABORTED]: a tolerance was breached during the method",
    );
    const report = await reportOf(result);
    const writer = overall(report, "ledger-writer");
    expect(writer.failures).toBeGreaterThan(0);
    // Unreachable from leaving the endpoints until the replacement is Ready: seconds, not the whole run.
    expect(writer.longestUnreachable?.ms).toBeGreaterThan(1000);
    expect(writer.longestUnreachable?.ms).toBeLessThan(20_000);
    expect(writer.errors.map((e) => e.kind)).toContain("HTTP 503");
    expect(report.faults.every((fault) => fault.recovered)).toBe(true);
  });

  it("experiment-checkout-pod-loss: pod kill, wait and config drift with two probes", async () => {
    const result = await runExample("experiment-checkout-pod-loss.yaml");
    expect(result.code, result.stderr).toBe(0);
    const report = await reportOf(result);
    expect(report.faults.map((f) => [f.kind, f.recovered])).toEqual([
      ["pod-kill", true],
      ["config-drift", true],
    ]);
    expect(report.probes.map((p) => p.name)).toEqual(["checkout-http", "checkout-ready"]);
  });

  it("experiment-config-drift: the drift is reverted and checkout stays Ready", async () => {
    const result = await runExample("experiment-config-drift.yaml");
    expect(result.code, result.stderr).toBe(0);
    const report = await reportOf(result);
    const [fault] = report.faults;
    expect(fault?.type === "object" && fault.changes.map((c) => c.result)).toEqual(["reverted"]);
    const config = await adminClients().core.readNamespacedConfigMap({
      name: "checkout-config",
      namespace: "demo-payments",
    });
    expect(config.data?.["payment.timeout"]).toBe("5s");
  });

  it("experiment-resource-squeeze: limits squeezed and restored, two pods Ready throughout", async () => {
    const before = await adminClients().apps.readNamespacedDeployment({
      name: "storefront",
      namespace: "demo-shop",
    });
    const result = await runExample("experiment-resource-squeeze.yaml");
    expect(result.code, result.stderr).toBe(0);
    const report = await reportOf(result);
    expect(overall(report, "storefront-ready").failures).toBe(0);
    const after = await adminClients().apps.readNamespacedDeployment({
      name: "storefront",
      namespace: "demo-shop",
    });
    expect(after.spec?.template.spec?.containers[0]?.resources).toEqual(
      before.spec?.template.spec?.containers[0]?.resources,
    );
    // The revert is a second rollout, which may still be replacing pods when the run ends (its claim is
    // about Ready pods, not a finished rollout). The next examples judge the storefront's node-mates, so
    // they start once it is done.
    const rollout = await kubectl(
      inject("adminKubeconfig"),
      "-n",
      "demo-shop",
      "rollout",
      "status",
      "deployment/storefront",
      "--timeout=180s",
    );
    expect(rollout.code, rollout.stderr).toBe(0);
  });

  it("chaos-mesh-podchaos: a PodChaos as it is, judged by a --probe", async () => {
    const result = await runExample("chaos-mesh-podchaos.yaml");
    expect(result.code, result.stderr).toBe(0);
    const report = await reportOf(result);
    expect(report.faults).toHaveLength(1);
    expect(report.faults[0]?.targets).toHaveLength(1);
  });

  it("chaos-mesh-schedule: Chaos Mesh's default grace period of 0, measured", async () => {
    const result = await runExample("chaos-mesh-schedule.yaml");
    const report = await reportOf(result);
    // With pods deleted at once a request may meet a pod already gone: the tolerance allows a few.
    expect(report.verdict.result).not.toBe("aborted");
    expect(report.faults.length).toBeGreaterThanOrEqual(1);
    expect(result.code).toBe(report.verdict.result === "passed" ? 0 : 5);
  });

  it("chaos-mesh-podchaos-container-kill: checked by --dry-run here (no node daemon); run by container-kill.test.ts", async () => {
    // This sandbox has no pod bodies, so no node daemon would answer the kill: a run would wait 30 s and
    // fail. The run, with its probe, outage and restart counts checked, is container-kill.test.ts's, on a
    // sandbox of its own with pod bodies; here the file, its selector and its container name are checked.
    process.stderr.write(
      "examples.test.ts: chaos-mesh-podchaos-container-kill.yaml is only dry-run here (it needs node daemons: a sandbox with pod bodies); test/integration/container-kill.test.ts runs it\n",
    );
    const dry = await runExample("chaos-mesh-podchaos-container-kill.yaml", "--dry-run");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(
      /would kill container app of demo-shop\/storefront-[a-z0-9-]+ on \S+ \(through its node daemon\)/,
    );
  });

  it("chaos-mesh-stresschaos.yaml: --dry-run names the container it would stress", async () => {
    process.stderr.write(
      "examples.test.ts: chaos-mesh-stresschaos.yaml is only dry-run here (it needs node daemons: a sandbox with pod bodies); test/integration/stress-chaos.test.ts runs stress\n",
    );
    const dry = await runExample("chaos-mesh-stresschaos.yaml");
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/would stress container \S+ of demo-batch\/ledger-writer-[a-z0-9-]+ on \S+/);
  });
});

describe("a front door whose port another process holds", () => {
  let holder: PortHolderProcess | undefined;

  beforeAll(async () => {
    const [port = 0] = await freePorts(1);
    holder = await holdPort(port);
    // Checkout's door is asked to move to the held port: the traffic process cannot open it there.
    await adminClients().core.patchNamespacedService(
      {
        name: "checkout",
        namespace: "demo-payments",
        body: { metadata: { annotations: { "broadside.dev/front-door-port": String(port) } } },
      },
      setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
    );
    await eventually("checkout's door to fail on the held port", async () =>
      (await sandboxDoors())?.failed.find((door) => door.service === "checkout" && door.port === port),
    );
  });

  afterAll(async () => {
    await holder?.release();
  });

  it("stops an example's run before it starts, naming the port and the process holding it (exit 3)", async () => {
    const held = holder ?? expect.unreachable("no holder");
    const result = await runExample("schedule-pod-kill-2-replicas.yaml");
    expect(result.code, result.stderr).toBe(3);
    expect(result.stderr).toContain(
      `error [BRD_PORT_IN_USE]: 127.0.0.1:${held.port} (the front door of demo-payments/checkout, probed by checkout) ` +
        `is in use by pid ${held.pid} (${held.command}); stop it, or move the door`,
    );
    // Nothing ran: no report, no shot.
    expect(result.stderr).not.toContain("reports:");
  });

  it("fails the tier's set-up, given that port, at once and with the same message", async () => {
    const held = holder ?? expect.unreachable("no holder");
    const [storefrontPort = 0, ledgerWriterPort = 0] = await freePorts(2);
    const setUp = deployDemoFleet(adminClients(), {
      frontDoorPorts: fixedFrontDoorPorts([held.port, storefrontPort, ledgerWriterPort]),
      doors: () => sandboxDoors(),
      clock: systemClock,
    });
    await expect(setUp).rejects.toMatchObject({
      code: "BRD_PORT_IN_USE",
      message:
        `127.0.0.1:${held.port} (the front door of demo-payments/checkout) is in use by pid ${held.pid} (${held.command}); ` +
        "stop it, or choose other ports: --front-door-ports BASE, P1,P2,P3 or auto (or BROADSIDE_FRONT_DOOR_PORTS)",
    });
  });
});
