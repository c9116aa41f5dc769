import { beforeAll, describe, expect, inject, it } from "vitest";
import { readConfig } from "../../src/cli/config.js";
import { processIo } from "../../src/cli/options.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { sandboxRestartComponent } from "../../src/sandbox/sandbox.js";
import {
  applyManifest,
  useBroadsideCrds,
  logged,
  optIntoChaos,
  podKillOne,
  startAgent,
} from "./agent-process.js";
import {
  adminClients,
  broadside,
  deployAndWait,
  eventually,
  testDeployment,
  useTestNamespace,
} from "./harness.js";
import { integrationSandboxName } from "./names.js";

/**
 * The agent across a kube-apiserver restart: nothing it owes is lost. A drift whose deadline falls while
 * the API server is down is reverted once it is back (the ledger is read again, not remembered), and a
 * PodChaos created after the restart is reconciled (the informers watched again on their own). The agent
 * process keeps running throughout.
 */

const environment = {
  ...sandboxEnvironment(readConfig(process.env), processIo),
  onProgress: () => undefined,
};

useBroadsideCrds("podchaos.broadside.dev");

describe("broadside agent across a kube-apiserver restart", () => {
  const namespace = useTestNamespace("it-agent-restart");

  beforeAll(async () => {
    await optIntoChaos(namespace());
    await deployAndWait(namespace(), testDeployment("web", 2));
  });

  it("reverts a drift whose deadline passed during the restart, and reconciles a PodChaos created after it", async () => {
    const agent = startAgent("--resync", "5s");
    await logged(agent, "leading: reconciling");

    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "app" }, data: { LOG_LEVEL: "info" } },
    });
    const injected = await broadside(
      ...["drift", "configmap/app", "-n", namespace(), "--key", "LOG_LEVEL", "--value", "debug"],
      ...["--duration", "2s", "--no-wait", "--kubeconfig", inject("adminKubeconfig")],
    );
    expect(injected.code, injected.stderr).toBe(0);
    const read = async () =>
      (await adminClients().core.readNamespacedConfigMap({ name: "app", namespace: namespace() })).data
        ?.LOG_LEVEL;
    expect(await read()).toBe("debug");
    const restartStarted = Date.now();
    // The drift's deadline (2 s) passes while the API server is stopped and started again (about 10 s).
    await sandboxRestartComponent(environment, integrationSandboxName, "kube-apiserver");
    expect(Date.now() - restartStarted).toBeGreaterThan(2_000);
    await eventually(
      "the agent to revert the drift once the API server is back",
      async () => ((await read()) === "info" ? true : undefined),
      60_000,
    );
    expect(await logged(agent, "ledger record recovered")).toMatchObject({
      result: "reverted",
      target: { namespace: namespace(), name: "app" },
    });

    await applyManifest(podKillOne(namespace(), "after-restart"));
    const injectedCondition = await eventually(
      "the PodChaos created after the restart to be injected",
      async () => {
        const object = (await adminClients().custom.getNamespacedCustomObjectStatus({
          group: "broadside.dev",
          version: "v1alpha1",
          plural: "podchaos",
          namespace: namespace(),
          name: "after-restart",
        })) as { status?: { conditions?: { type: string; status: string; reason?: string }[] } };
        const injected = object.status?.conditions?.find((condition) => condition.type === "Injected");
        return injected?.status === "True" ? injected : undefined;
      },
      120_000,
    );
    expect(injectedCondition.reason).toBe("Shot");
    // The same process did all of it: it never exited.
    expect(agent.child.exitCode).toBeNull();
  });
});
