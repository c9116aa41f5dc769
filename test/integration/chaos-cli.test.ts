import type { V1ConfigMap } from "@kubernetes/client-node";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

interface KillReport {
  targets: {
    ledgerId: string;
    shot: { accepted: boolean };
    timeline: {
      acceptedMs: number;
      replacement: { createdMs: number; scheduledMs: number; readyMs: number };
    };
  }[];
  workloads: { status: string; restoredMs: number }[];
}

function first<T>(items: readonly T[]): T {
  const [item] = items;
  if (item === undefined) throw new Error("expected at least one item");
  return item;
}

/** The CLI against the shared sandbox, as a user types it. */
function cli(...args: string[]) {
  return broadside(...args, "--kubeconfig", inject("adminKubeconfig"));
}

function deploy(namespace: string, name: string, replicas: number): Promise<void> {
  return deployAndWait(namespace, testDeployment(name, replicas));
}

/** Every resourceVersion in the namespace (pods, deployments, configmaps): equal before and after means no write. */
async function versions(namespace: string): Promise<string[]> {
  const { core, apps } = adminClients();
  const [pods, deployments, configMaps] = await Promise.all([
    core.listNamespacedPod({ namespace }),
    apps.listNamespacedDeployment({ namespace }),
    core.listNamespacedConfigMap({ namespace }),
  ]);
  return [...pods.items, ...deployments.items, ...configMaps.items]
    .map((o) => `${o.metadata?.name ?? ""}@${o.metadata?.resourceVersion ?? ""}`)
    .sort();
}

async function configValue(namespace: string, name: string, key: string): Promise<string | undefined> {
  const configMap: V1ConfigMap = await adminClients().core.readNamespacedConfigMap({ name, namespace });
  return configMap.data?.[key];
}

async function containerResources(namespace: string, name: string): Promise<unknown> {
  const deployment = await adminClients().apps.readNamespacedDeployment({ name, namespace });
  return deployment.spec?.template.spec?.containers[0]?.resources;
}

async function openRecords(): Promise<{ id: string; target: { namespace: string } }[]> {
  const status = await cli("status", "-o", "json");
  return (JSON.parse(status.stdout) as { records: { id: string; target: { namespace: string } }[] }).records;
}

describe("broadside kill and evict", () => {
  const namespace = useTestNamespace("it-kill");
  beforeAll(async () => {
    await deploy(namespace(), "web", 3);
  });

  it("prints the plan on --dry-run, with a reason for every pod left out, and writes nothing", async () => {
    const before = await versions(namespace());
    const result = await cli(
      "kill",
      "-n",
      namespace(),
      "-l",
      "app=web",
      "--mode",
      "fixed",
      "--value",
      "2",
      "--dry-run",
      "-o",
      "json",
      "--explain",
    );
    expect(result.code, result.stderr).toBe(0);
    const plan = JSON.parse(result.stdout) as {
      dryRun: boolean;
      targets: unknown[];
      excluded: { reason: string }[];
      excludedCount: number;
      excludedByReason: { reason: string; count: number }[];
    };
    expect(plan.dryRun).toBe(true);
    expect(plan.excludedCount).toBe(2);
    expect(plan.excludedByReason.map((group) => group.count)).toEqual([1, 1]);
    // fixed 2 of 3, then the blast-radius cap keeps floor(3 / 2) = 1.
    expect(plan.targets).toHaveLength(1);
    expect(plan.excluded.map((e) => e.reason).sort()).toEqual(
      [
        "blast-radius cap: at most 1 of 3 ready pods of Deployment " +
          `${namespace()}/web at once; --unsafe lifts it`,
        "mode fixed 2: not among the 2 chosen",
      ].sort(),
    );
    expect(await versions(namespace())).toEqual(before);
  });

  it("kills one pod and reports its replacement's milestones from watch events, in order", async () => {
    const result = await cli("kill", "-n", namespace(), "-l", "app=web", "-o", "json");
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as KillReport;
    const target = first(report.targets);
    const workload = first(report.workloads);
    const { createdMs, scheduledMs, readyMs } = target.timeline.replacement;
    expect(target.shot.accepted).toBe(true);
    expect(target.timeline.acceptedMs).toBeGreaterThanOrEqual(0);
    expect(createdMs).toBeLessThanOrEqual(scheduledMs);
    expect(scheduledMs).toBeLessThanOrEqual(readyMs);
    expect(workload.status).toBe("restored");
    expect(workload.restoredMs).toBeGreaterThanOrEqual(readyMs);
    // The ledger record was written and closed: nothing is left open.
    expect(target.ledgerId).toMatch(/^\d{8}t\d{6}-[0-9a-f]{6}$/);
    expect((await openRecords()).filter((r) => r.target.namespace === namespace())).toEqual([]);
  });

  it("reports an eviction refused by a PodDisruptionBudget as blocked, exits 4, and never forces it", async () => {
    await adminClients().policy.createNamespacedPodDisruptionBudget({
      namespace: namespace(),
      body: {
        metadata: { name: "web-budget" },
        spec: { minAvailable: 3, selector: { matchLabels: { app: "web" } } },
      },
    });
    await eventually("the PDB to be computed", async () => {
      const pdb = await adminClients().policy.readNamespacedPodDisruptionBudget({
        name: "web-budget",
        namespace: namespace(),
      });
      return pdb.status?.currentHealthy === 3 ? true : undefined;
    });
    const before = await versions(namespace());
    const result = await cli("evict", "-n", namespace(), "-l", "app=web", "--no-wait");
    expect(result.code).toBe(4);
    expect(result.stdout).toContain("hit");
    expect(result.stderr).toContain("blocked by PDB web-budget");
    expect(
      (await versions(namespace())).filter((v) => v.startsWith("web-") && !v.includes("budget")),
    ).toEqual(before.filter((v) => v.startsWith("web-") && !v.includes("budget")));
  });

  it("paces shots with --max-shots and --per: the second waits for the interval", async () => {
    const result = await cli(
      "kill",
      "-n",
      namespace(),
      "-l",
      "app=web",
      "--mode",
      "fixed",
      "--value",
      "2",
      "--unsafe",
      "--max-shots",
      "1",
      "--per",
      "2s",
      "--no-wait",
      "-o",
      "json",
    );
    expect(result.code, result.stderr).toBe(0);
    const shots = (
      JSON.parse(result.stdout) as { targets: { shot: { accepted: boolean; at: number } }[] }
    ).targets.map((t) => t.shot);
    expect(shots.map((shot) => shot.accepted)).toEqual([true, true]);
    const [firstAt = 0, secondAt = 0] = shots.map((shot) => shot.at).sort((a, b) => a - b);
    // Sent 2 s apart; `at` is when each DELETE was accepted, so allow for the first one's latency.
    // All at once, they would be milliseconds apart.
    expect(secondAt - firstAt).toBeGreaterThanOrEqual(1500);
    expect(result.stderr).toContain("pacing:");
    await kubectl(
      inject("adminKubeconfig"),
      "-n",
      namespace(),
      "rollout",
      "status",
      "deployment/web",
      "--timeout=120s",
    );
    // Let the killed pods finish their graceful shutdown, so later tests see a quiet namespace.
    await eventually("the killed pods to be gone", async () => {
      const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
      return pods.items.every((pod) => pod.metadata?.deletionTimestamp === undefined) ? true : undefined;
    });
  });

  it.each([
    [["kill", "-l", "app in (web"], "--selector: "],
    [["kill", "--mode", "sometimes"], "--mode: "],
    [
      ["kill", "--mode", "fixed-percent", "--value", "150"],
      '--value: fixed-percent needs a percentage from 1 to 100, got "150"',
    ],
    [["kill", "--mode", "fixed"], "--value: "],
    [["kill", "--grace-period", "-1"], "--grace-period: "],
    [
      ["kill", "--field-selector", "metadata.name=x"],
      "--field-selector: only spec.nodeName and status.phase are supported",
    ],
    [["kill", "--timeout", "soon"], "--timeout: "],
    [["drift", "configmap/absent", "--key", "k", "--value", "v"], "TARGET: "],
    [["drift", "pod/x", "--key", "k", "--value", "v"], 'TARGET: "pod/x" is not KIND/NAME'],
    [["drift", "configmap/app", "--key", "k"], "give exactly one of --value or --remove"],
    [
      ["drift", "configmap/app", "--key", "LOG_LEVEL", "--value", "debug", "--duration", "-5s"],
      "--duration: must not be negative",
    ],
    [
      ["drift", "configmap/app", "--key", "LOG_LEVEL", "--value", "debug", "--duration", "3h"],
      "--duration: at most 1h",
    ],
    [["squeeze", "deployment/web", "--cpu", "ten", "--memory", "10Mi"], "--cpu: "],
    [["squeeze", "deployment/web", "--cpu", "10m", "--memory", "-10Mi"], "--memory: "],
    [["scale", "deployment/web", "--replicas", "-1"], "--replicas: "],
    [
      ["scale", "deployment/web", "--replicas", "0"],
      "--replicas: scaling to 0 takes the workload down entirely",
    ],
    [["scale", "deployment/absent", "--replicas", "2"], "TARGET: "],
  ])("refuses %j with exit 2, a message naming the flag, and no write", async (args, message) => {
    await adminClients()
      .core.createNamespacedConfigMap({
        namespace: namespace(),
        body: { metadata: { name: "app" }, data: { LOG_LEVEL: "info" } },
      })
      .catch(() => undefined);
    const before = await versions(namespace());
    const result = await cli(...args, "-n", namespace());
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(message);
    expect(await versions(namespace())).toEqual(before);
  });

  it("never targets a protected namespace, even when named outright", async () => {
    const result = await cli("kill", "-n", "kube-system", "--dry-run");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--namespace: namespace kube-system is protected");
  });

  it("records the pods of one shot together in a volley: one ledger record listing each with its outcome", async () => {
    const result = await cli(
      "kill",
      "-n",
      namespace(),
      "-l",
      "app=web",
      "--mode",
      "all",
      "--unsafe",
      "--no-wait",
      "-o",
      "json",
    );
    expect(result.code, result.stderr).toBe(0);
    const targets = (JSON.parse(result.stdout) as { targets: { name: string; ledgerId: string }[] }).targets;
    expect(targets).toHaveLength(3);
    const ids = new Set(targets.map((target) => target.ledgerId));
    expect(ids.size).toBe(1);
    const closed = await cli("status", "--closed", "-o", "json");
    expect(closed.code, closed.stderr).toBe(0);
    const record = (
      JSON.parse(closed.stdout) as {
        records: {
          id: string;
          outcome: { kind: string; detail: string };
          volley?: { name: string; outcome: { kind: string } }[];
        }[];
      }
    ).records.find((each) => ids.has(each.id));
    expect(record?.outcome).toEqual(
      expect.objectContaining({ kind: "target-gone", detail: "pod-kill volley: 3 pods, 3 target-gone" }),
    );
    expect(record?.volley?.map((pod) => [pod.name, pod.outcome.kind]).sort()).toEqual(
      targets.map((target) => [target.name, "target-gone"]).sort(),
    );
    const table = await cli("status", "--closed");
    expect(table.stdout).toMatch(new RegExp(`pod/${targets[0]?.name ?? ""} \\+2`));
  });
});

describe("broadside drift, squeeze and scale: reverted at the deadline, healed externally left alone", () => {
  const namespace = useTestNamespace("it-objects");
  beforeAll(async () => {
    await deploy(namespace(), "api", 2);
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data: { LOG_LEVEL: "info" } },
    });
  });

  it("drifts a ConfigMap key for its duration, then restores it exactly", async () => {
    const result = await cli(
      "drift",
      "configmap/app",
      "-n",
      namespace(),
      "--key",
      "LOG_LEVEL",
      "--value",
      "debug",
      "--duration",
      "2s",
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('data.LOG_LEVEL: "info" -> "debug"');
    expect(result.stdout).toContain("reverted");
    expect(await configValue(namespace(), "app", "LOG_LEVEL")).toBe("info");
  });

  it("drifts a Secret without ever printing it, and deletes the ledger's copy of its values when the record closes", async () => {
    const { core } = adminClients();
    await core.createNamespacedSecret({
      namespace: namespace(),
      body: { metadata: { name: "creds" }, stringData: { PASSWORD: "hunter2-integration" } },
    });
    const result = await cli(
      "drift",
      "secret/creds",
      "-n",
      namespace(),
      "--key",
      "PASSWORD",
      "--value",
      "swordfish-integration",
      "--duration",
      "2s",
      "-o",
      "json",
    );
    expect(result.code, result.stderr).toBe(0);
    for (const text of [result.stdout, result.stderr]) {
      expect(text).not.toContain("hunter2-integration");
      expect(text).not.toContain("swordfish-integration");
    }
    const report = JSON.parse(result.stdout) as { records: { id: string }[] };
    const [record] = report.records;
    if (record === undefined) throw new Error("no ledger record in the result");
    // The record is closed: its values Secret in broadside-system is gone, the audit record stays.
    const values = await core
      .readNamespacedSecret({ name: `ledger-${record.id}`, namespace: "broadside-system" })
      .then(
        () => "present",
        () => "gone",
      );
    expect(values).toBe("gone");
    const closed = await cli("status", "--closed", "-o", "json");
    expect(closed.code, closed.stderr).toBe(0);
    const kept = JSON.parse(closed.stdout) as {
      records: { id: string; original: unknown; prunedAfter: number }[];
    };
    const ours = kept.records.find((each) => each.id === record.id);
    expect(ours).toMatchObject({ original: "<redacted>" });
    expect(ours?.prunedAfter).toBeGreaterThan(Date.now() + 6 * 24 * 3_600_000);
    const secret = await core.readNamespacedSecret({ name: "creds", namespace: namespace() });
    expect(Buffer.from(secret.data?.PASSWORD ?? "", "base64").toString()).toBe("hunter2-integration");
  });

  it("answers a guess of a Secret's value like any other drift: no oracle", async () => {
    const guess = await cli(
      "drift",
      "secret/creds",
      "-n",
      namespace(),
      "--key",
      "PASSWORD",
      "--value",
      "hunter2-integration",
      "--dry-run",
    );
    const wrong = await cli(
      "drift",
      "secret/creds",
      "-n",
      namespace(),
      "--key",
      "PASSWORD",
      "--value",
      "nope",
      "--dry-run",
    );
    expect(guess.code, guess.stderr).toBe(0);
    expect(wrong.code, wrong.stderr).toBe(0);
    expect(guess.stdout).toBe(wrong.stdout);
  });

  it("scales for its duration and back", async () => {
    const result = await cli(
      "scale",
      "deployment/api",
      "-n",
      namespace(),
      "--replicas",
      "3",
      "--duration",
      "1s",
      "-o",
      "json",
    );
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as { recovery: { result: string }[] };
    expect(report.recovery.map((r) => r.result)).toEqual(["reverted"]);
    const deployment = await adminClients().apps.readNamespacedDeployment({
      name: "api",
      namespace: namespace(),
    });
    expect(deployment.spec?.replicas).toBe(2);
  });

  it("records an external heal with its time and leaves the object alone", async () => {
    const injected = await cli(
      "drift",
      "configmap/app",
      "-n",
      namespace(),
      "--key",
      "LOG_LEVEL",
      "--value",
      "trace",
      "--duration",
      "10m",
      "--no-wait",
    );
    expect(injected.code, injected.stderr).toBe(0);
    expect(await configValue(namespace(), "app", "LOG_LEVEL")).toBe("trace");
    // A GitOps reconciler (here: a human) puts its own value back first.
    await adminClients().core.patchNamespacedConfigMap({
      name: "app",
      namespace: namespace(),
      body: [{ op: "replace", path: "/data/LOG_LEVEL", value: "warn" }],
    });
    const healedVersion = (
      await adminClients().core.readNamespacedConfigMap({ name: "app", namespace: namespace() })
    ).metadata?.resourceVersion;
    const halted = await cli("halt", "-o", "json");
    expect(halted.code, halted.stderr).toBe(0);
    const records = (
      JSON.parse(halted.stdout) as {
        records: { result: string; target: { namespace: string }; detail: string }[];
      }
    ).records.filter((r) => r.target.namespace === namespace());
    expect(records.map((r) => r.result)).toEqual(["healed-externally"]);
    expect(records[0]?.detail).toContain("changed to another value by someone else");
    const after = await adminClients().core.readNamespacedConfigMap({ name: "app", namespace: namespace() });
    expect(after.data?.LOG_LEVEL).toBe("warn");
    expect(after.metadata?.resourceVersion).toBe(healedVersion);
  });
});

describe("an external heal during the wait is recorded when it happens, by whom, and ends the wait", () => {
  const namespace = useTestNamespace("it-heal");

  it("stops waiting once a GitOps-like writer restores the value, and names its field manager", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "flags" }, data: { CHECKOUT: "on" } },
    });
    const drift = cli(
      "drift",
      "configmap/flags",
      "-n",
      namespace(),
      "--key",
      "CHECKOUT",
      "--value",
      "off",
      "--duration",
      "10m",
      "-o",
      "json",
    );
    await eventually("the drift to be injected", async () =>
      (await configValue(namespace(), "flags", "CHECKOUT")) === "off" ? true : undefined,
    );
    const patchSentAt = Date.now();
    const patched = await kubectl(
      inject("adminKubeconfig"),
      "-n",
      namespace(),
      "patch",
      "configmap",
      "flags",
      "--type=merge",
      "-p",
      '{"data":{"CHECKOUT":"on"}}',
    );
    expect(patched.code, patched.stderr).toBe(0);
    const result = await drift;
    const finishedAt = Date.now();
    expect(result.code, result.stderr).toBe(0);
    const recovery = first(
      (
        JSON.parse(result.stdout) as {
          recovery: { result: string; at: number; by?: string; detail: string }[];
        }
      ).recovery,
    );
    expect(recovery.result).toBe("healed-externally");
    expect(recovery.by).toBe("kubectl-patch");
    expect(recovery.detail).toContain("restored to the original value by someone else");
    expect(recovery.at).toBeGreaterThanOrEqual(patchSentAt);
    expect(recovery.at).toBeLessThanOrEqual(finishedAt);
    expect(await configValue(namespace(), "flags", "CHECKOUT")).toBe("on");
  });
});

/** Starts the CLI with a failpoint that SIGKILLs it at that point, and waits for it to die. */
describe("the kill switch: halt --hold stops every new fault until resume", () => {
  const namespace = useTestNamespace("it-switch");
  beforeAll(async () => {
    await deploy(namespace(), "web", 2);
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data: { k: "v1" } },
    });
  });

  const killOne = () => cli("kill", "-n", namespace(), "-l", "app=web", "--no-wait");

  it("refuses faults with exit 4 while held, says who and why, and changes nothing", async () => {
    try {
      const held = await cli("halt", "--hold", "--reason", "incident 42");
      expect(held.code, held.stderr).toBe(0);
      expect(held.stderr).toContain("kill switch held: chaos is halted since");
      const before = await versions(namespace());
      const refused = await killOne();
      expect(refused.code).toBe(4);
      expect(refused.stderr).toMatch(
        /^error \[BRD_HALTED\]: chaos is halted since \S+ by .+: incident 42; nothing was changed/,
      );
      const drift = await cli("drift", "configmap/app", "-n", namespace(), "--key", "k", "--value", "v2");
      expect(drift.code).toBe(4);
      expect(drift.stderr).toContain("BRD_HALTED");
      expect(await versions(namespace())).toEqual(before);
      const status = await cli("status", "-o", "json");
      expect((JSON.parse(status.stdout) as { halted?: { reason: string } }).halted?.reason).toBe(
        "incident 42",
      );
    } finally {
      await cli("resume");
    }
  });

  it("honours a hold made by hand with kubectl, and shoots again once it is released", async () => {
    try {
      await adminClients().core.createNamespacedConfigMap({
        namespace: "broadside-system",
        body: { metadata: { name: "broadside-halt" } },
      });
      const refused = await killOne();
      expect(refused.code).toBe(4);
      expect(refused.stderr).toContain("by a ConfigMap made by hand");
      const status = await cli("status");
      expect(status.stdout).toContain("chaos is halted since");
    } finally {
      const resumed = await cli("resume");
      expect(resumed.stdout).toBe("kill switch released: chaos may run again\n");
    }
    expect((await cli("resume")).stdout).toBe("the kill switch was not held\n");
    const shot = await killOne();
    expect(shot.code, shot.stderr).toBe(0);
  });
});

function runUntilKilled(failpoint: string, args: readonly string[]): Promise<NodeJS.Signals | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [join(repoRoot, "bin", "broadside.js"), ...args, "--kubeconfig", inject("adminKubeconfig")],
      {
        env: { ...process.env, BROADSIDE_FAILPOINT: failpoint },
        stdio: "ignore",
      },
    );
    child.on("error", reject);
    child.on("exit", (_code, signal) => {
      resolve(signal);
    });
  });
}

describe("crash safety: SIGKILL while a drift and a squeeze are active, then recover", () => {
  const namespace = useTestNamespace("it-crash");
  beforeAll(async () => {
    await deploy(namespace(), "api", 1);
  });

  it.each(["record-written", "applied", "injected"])(
    "restores both originals exactly after a SIGKILL at %s",
    async (failpoint) => {
      const configMap = `app-${failpoint}`;
      await adminClients().core.createNamespacedConfigMap({
        namespace: namespace(),
        body: { metadata: { name: configMap }, data: { MODE: "calm" } },
      });
      const originalResources = await containerResources(namespace(), "api");
      const [driftSignal, squeezeSignal] = await Promise.all([
        runUntilKilled(failpoint, [
          "drift",
          `configmap/${configMap}`,
          "-n",
          namespace(),
          "--key",
          "MODE",
          "--value",
          "chaos",
          "--duration",
          "4s",
        ]),
        runUntilKilled(failpoint, [
          "squeeze",
          "deployment/api",
          "-n",
          namespace(),
          "--cpu",
          "10m",
          "--memory",
          "10Mi",
          "--duration",
          "4s",
        ]),
      ]);
      expect([driftSignal, squeezeSignal]).toEqual(["SIGKILL", "SIGKILL"]);
      // Both stay open until their deadline: 4 s is long enough that neither process's start-up recovery
      // (nor this status call's) finds the other's record expired.
      expect((await openRecords()).filter((r) => r.target.namespace === namespace())).toHaveLength(2);
      await new Promise((resolve) => setTimeout(resolve, 4200));
      const recovered = await cli("recover", "-o", "json");
      expect(recovered.code, recovered.stderr).toBe(0);
      expect(await configValue(namespace(), configMap, "MODE")).toBe("calm");
      expect(await containerResources(namespace(), "api")).toEqual(originalResources);
      expect((await openRecords()).filter((r) => r.target.namespace === namespace())).toEqual([]);
    },
  );

  it("finishes expired reverts on the start of any other command, here `status`", async () => {
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app-any" }, data: { MODE: "calm" } },
    });
    expect(
      await runUntilKilled("injected", [
        "drift",
        "configmap/app-any",
        "-n",
        namespace(),
        "--key",
        "MODE",
        "--value",
        "chaos",
        "--duration",
        "1s",
      ]),
    ).toBe("SIGKILL");
    expect(await configValue(namespace(), "app-any", "MODE")).toBe("chaos");
    await new Promise((resolve) => setTimeout(resolve, 1200));
    const status = await cli("status");
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toContain("recovered a left-behind fault: config-drift");
    expect(await configValue(namespace(), "app-any", "MODE")).toBe("calm");
  });
});
