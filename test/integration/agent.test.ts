import { CoordinationV1Api } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import {
  applyManifest,
  logged,
  optIntoChaos,
  podKillOne,
  startElectedAgent,
  useBroadsideCrds,
} from "./agent-process.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  isReady,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * `broadside agent` as a process of its own against the sandbox: it serves its health and metrics, takes
 * the Lease, and reverts a fault at its deadline though the command that injected it has long exited
 * (`--no-wait`) and no other Broadside command runs; SIGTERM stops it and releases the Lease.
 */

async function leaseHolder(): Promise<string | undefined> {
  const lease = await adminClients()
    .config.makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "broadside-agent", namespace: "broadside-system" });
  return lease.spec?.holderIdentity ?? undefined;
}

useBroadsideCrds("podchaos.broadside.dev");

describe("broadside agent", () => {
  const namespace = useTestNamespace("it-agent");

  it("serves health and metrics, leads, and reverts a detached fault at its deadline", async () => {
    const agent = startElectedAgent(undefined, "--resync", "30s");
    const serving = await logged(agent, "agent serving");
    const healthUrl = (serving.health as { url: string }).url;
    await logged(agent, "leading: reconciling");
    await eventually("/readyz to answer 200", async () =>
      (await fetch(`${healthUrl}/readyz`)).ok ? true : undefined,
    );
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    expect(metrics).toMatch(/^broadside_leader 1$/m);

    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data: { LOG_LEVEL: "info" } },
    });
    const injected = await broadside(
      "drift",
      "configmap/app",
      "-n",
      namespace(),
      "--key",
      "LOG_LEVEL",
      "--value",
      "debug",
      "--duration",
      "3s",
      "--no-wait",
      "--kubeconfig",
      inject("adminKubeconfig"),
    );
    expect(injected.code, injected.stderr).toBe(0);
    const read = async () =>
      (await adminClients().core.readNamespacedConfigMap({ name: "app", namespace: namespace() })).data
        ?.LOG_LEVEL;
    expect(await read()).toBe("debug");
    // No Broadside command runs from here on: only the agent can put the value back.
    await eventually(
      "the agent to revert the drift",
      async () => ((await read()) === "info" ? true : undefined),
      60_000,
    );
    const recovered = await logged(agent, "ledger record recovered");
    expect(recovered).toMatchObject({ result: "reverted", target: { namespace: namespace(), name: "app" } });
    expect(await leaseHolder()).toMatch(/_[0-9a-f]{12}$/);

    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    // Released on the way out, so a standby would take over at once.
    expect(await leaseHolder()).toBeFalsy();
  });

  it("hands over when the leader is SIGKILLed: the standby takes over within the lease and reverts at the deadline", async () => {
    const first = startElectedAgent(undefined, "--resync", "30s");
    await logged(first, "leading: reconciling");
    const second = startElectedAgent(undefined, "--resync", "30s");
    await logged(second, "new leader observed");
    // A standby keeps its caches warm and changes nothing.
    expect(second.logs.some((line) => line.msg === "leading: reconciling")).toBe(false);

    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "handover" }, data: { LOG_LEVEL: "info" } },
    });
    const injectedFrom = Date.now();
    const injected = await broadside(
      "drift",
      "configmap/handover",
      "-n",
      namespace(),
      "--key",
      "LOG_LEVEL",
      "--value",
      "debug",
      "--duration",
      "10s",
      "--no-wait",
      "--kubeconfig",
      inject("adminKubeconfig"),
    );
    expect(injected.code, injected.stderr).toBe(0);

    first.child.kill("SIGKILL");
    const killedAt = Date.now();
    const leading = await logged(second, "leading: reconciling");
    // The protocol's bound, not a speed figure: the lease (3 s), at most two jittered retries (2 x 2.2 x
    // 0.5 s), and 2 s for a loaded 2-core machine.
    const takeoverMs = Number(leading.time) - killedAt;
    console.log(`[agent] the standby led ${takeoverMs} ms after the leader's SIGKILL`);
    expect(takeoverMs).toBeLessThanOrEqual(3_000 + 2_200 + 2_000);

    const recovered = await logged(second, "ledger record recovered");
    expect(recovered).toMatchObject({ result: "reverted", target: { name: "handover" } });
    // At the deadline, not before: the new leader armed it from the record alone.
    expect(Number(recovered.at)).toBeGreaterThanOrEqual(injectedFrom + 10_000);
    const configMap = await adminClients().core.readNamespacedConfigMap({
      name: "handover",
      namespace: namespace(),
    });
    expect(configMap.data?.LOG_LEVEL).toBe("info");
    second.child.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("refuses a bad flag before it connects, naming it", async () => {
    const result = await broadside(
      "agent",
      "--leader-elect-retry-period",
      "5ms",
      "--kubeconfig",
      "/nonexistent",
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--leader-elect-retry-period");
    const timings = await broadside(
      "agent",
      "--leader-elect-lease-duration",
      "3s",
      "--leader-elect-renew-deadline",
      "5s",
      "--kubeconfig",
      "/nonexistent",
    );
    expect(timings.code).toBe(2);
    expect(timings.stderr).toContain("--leader-elect-renew-deadline");
  });
});

interface PodChaosStatus {
  observedGeneration?: number;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  targets?: { name: string; outcome: string; ledgerRecord?: string; milestones?: Record<string, number> }[];
}

describe("broadside agent reconciles a PodChaos applied with kubectl", () => {
  const namespace = useTestNamespace("it-podchaos");

  beforeAll(async () => {
    // Opt-in is the agent's default: the namespace says chaos is welcome.
    await optIntoChaos(namespace());
    await deployAndWait(namespace(), testDeployment("web", 3));
  });

  async function statusOf(name: string): Promise<PodChaosStatus | undefined> {
    const object = (await adminClients().custom.getNamespacedCustomObjectStatus({
      group: "broadside.dev",
      version: "v1alpha1",
      plural: "podchaos",
      namespace: namespace(),
      name,
    })) as { status?: PodChaosStatus };
    return object.status;
  }

  const condition = (status: PodChaosStatus | undefined, type: string) =>
    status?.conditions?.find((c) => c.type === type);

  it("kills one pod once, and writes the target, its ledger record and its recovery milestones to the status", async () => {
    const agent = startElectedAgent();
    await logged(agent, "leading: reconciling");
    await applyManifest(podKillOne(namespace(), "kill-one"));
    const status = await eventually(
      "the PodChaos to be injected and recovered",
      async () => {
        const current = await statusOf("kill-one");
        return condition(current, "Recovered")?.status === "True" ? current : undefined;
      },
      120_000,
    ).catch(async (error: unknown) => {
      const seen = JSON.stringify(await statusOf("kill-one"));
      const tail = agent.logs.slice(-15).map((line) => JSON.stringify(line));
      throw new Error(`${String(error)}\nstatus: ${seen}\nagent:\n${tail.join("\n")}`, { cause: error });
    });
    expect(status.observedGeneration).toBe(1);
    expect(condition(status, "Injected")).toMatchObject({ status: "True", reason: "Shot" });
    expect(status.targets).toHaveLength(1);
    const [target] = status.targets ?? [];
    expect(target?.outcome).toBe("recovered");
    expect(target?.ledgerRecord).toMatch(/^\d{8}t\d{6}-[0-9a-f]{6}$/);
    expect(target?.milestones?.readyMs).toBeGreaterThan(0);

    // One shot per generation: the Deployment is whole again and nothing else was killed.
    const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
    const live = pods.items.filter((pod) => pod.metadata?.deletionTimestamp === undefined);
    expect(live.filter(isReady)).toHaveLength(3);
    const served = agent.logs.find((line) => line.msg === "agent serving")?.health as { url: string };
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    expect(metrics).toMatch(/^broadside_shots_total\{fault="pod-kill",outcome="accepted"\} 1$/m);
    const events = await eventually("the PodChaos's events", async () => {
      const listed = await adminClients().core.listNamespacedEvent({
        namespace: namespace(),
        fieldSelector: "involvedObject.kind=PodChaos,involvedObject.name=kill-one",
      });
      const reasons = listed.items.map((event) => event.reason).sort();
      return reasons.includes("Recovered") ? reasons : undefined;
    });
    expect(events).toEqual(["Recovered", "Shot"]);
    const printed = await kubectl(inject("adminKubeconfig"), "get", "podchaos", "-n", namespace());
    expect(printed.stdout).toMatch(/kill-one\s+pod-kill\s+one\s+True\s+True/);
  });
});
