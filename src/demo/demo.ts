import type { Clock } from "../core/clock.js";
import { connect, createIfMissing, type KubeClients } from "../kube/client.js";
import { waitFor } from "../sandbox/bootstrap.js";
import {
  defaultLifecycle,
  sandboxDown,
  sandboxNames,
  sandboxUp,
  type SandboxEnvironment,
  type SandboxState,
} from "../sandbox/sandbox.js";
import {
  checkout,
  checkoutConfig,
  demoDeployment,
  demoNamespaces,
  demoService,
  demoWorkloads,
  storefrontBudget,
} from "./fleet.js";

export interface DemoOptions {
  readonly sandboxName: string;
  readonly keepSandbox: boolean;
  readonly sandbox: SandboxEnvironment;
  /** Times the deployment, for the story. */
  readonly clock: Clock;
  /** The demo's story, for the terminal. */
  readonly print: (line: string) => void;
  readonly progress: (line: string) => void;
}

/** The example `broadside demo` runs: a pod-kill Schedule on the 2-replica checkout, probed at 5 Hz. */
export const demoExample = "examples/schedule-pod-kill-2-replicas.yaml";

/**
 * Brings the sandbox up, deploys the fleet, waits until it is Available and its front doors answer,
 * then hands over to `body` (the CLI runs the demo's example there). A sandbox the demo started is
 * stopped afterwards unless keepSandbox.
 */
export async function withDemoFleet<T>(
  options: DemoOptions,
  body: (state: SandboxState) => Promise<T>,
): Promise<T> {
  const { print } = options;
  const startedHere = !(await sandboxNames(options.sandbox)).includes(options.sandboxName);
  const state = await sandboxUp(
    { name: options.sandboxName, nodes: 3, lifecycle: defaultLifecycle },
    options.sandbox,
  );
  try {
    print(
      `Broadside demo on sandbox "${state.name}" (${state.apiServer}, Kubernetes ${state.versions.kubernetes})`,
    );
    const deployStarted = options.clock.now();
    await deployDemoFleet(connect({ kubeconfigPath: state.adminKubeconfig }));
    print(`Fleet deployed, Available and serving in ${options.clock.now() - deployStarted} ms:`);
    for (const w of demoWorkloads)
      print(
        `  ${w.namespace}/${w.name}: ${w.replicas}/${w.replicas} ready, http://127.0.0.1:${w.frontDoorPort}/`,
      );
    print("");
    return await body(state);
  } finally {
    if (startedHere && !options.keepSandbox) {
      options.progress(`stopping sandbox "${options.sandboxName}" (run the demo with --keep to explore it)`);
      await sandboxDown(options.sandbox, options.sandboxName);
    }
  }
}

/** Deploys the fleet (what exists is kept) and waits until it is Available and its front doors answer. */
export async function deployDemoFleet(kube: KubeClients): Promise<void> {
  await deployFleet(kube);
  await waitForFleet(kube);
  await waitForFrontDoors();
}

/**
 * The sandbox's traffic process opens each Service's front door once it sees the Service; a probe
 * started before that would measure the start-up, not the experiment.
 */
async function waitForFrontDoors(): Promise<void> {
  for (const workload of demoWorkloads) {
    const url = `http://127.0.0.1:${workload.frontDoorPort}/`;
    await waitFor(`the front door of ${workload.name} (${url}) to answer`, 60_000, async () => {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
      return response?.status === 200;
    });
  }
}

async function deployFleet(kube: KubeClients): Promise<void> {
  for (const namespace of demoNamespaces())
    await createIfMissing(() => kube.core.createNamespace({ body: namespace }));
  for (const workload of demoWorkloads) {
    const namespace = workload.namespace;
    await createIfMissing(() =>
      kube.apps.createNamespacedDeployment({ namespace, body: demoDeployment(workload) }),
    );
    await createIfMissing(() =>
      kube.core.createNamespacedService({ namespace, body: demoService(workload) }),
    );
  }
  const budget = storefrontBudget();
  await createIfMissing(() =>
    kube.policy.createNamespacedPodDisruptionBudget({
      namespace: budget.metadata?.namespace ?? "",
      body: budget,
    }),
  );
  await createIfMissing(() =>
    kube.core.createNamespacedConfigMap({ namespace: checkout.namespace, body: checkoutConfig() }),
  );
}

async function waitForFleet(kube: KubeClients): Promise<void> {
  await waitFor("the demo fleet to become Available", 120_000, async () => {
    const statuses = await Promise.all(
      demoWorkloads.map((w) => kube.apps.readNamespacedDeployment({ name: w.name, namespace: w.namespace })),
    );
    return statuses.every(
      (d) =>
        (d.status?.availableReplicas ?? 0) === d.spec?.replicas &&
        d.status?.readyReplicas === d.spec.replicas,
    );
  });
}
