import type { V1Pod } from "@kubernetes/client-node";
import { BroadsideError } from "../core/errors.js";
import { connect, createIfMissing, type KubeClients } from "../kube/client.js";
import { podKill } from "../faults/pod-kill.js";
import { isPodReady } from "../kube/pod-facts.js";
import { timeRecovery, type VictimTimeline, type WorkloadRestoration } from "../kube/recovery-timing.js";
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
  /** The demo's story, for the terminal. */
  readonly print: (line: string) => void;
  readonly progress: (line: string) => void;
}

/** Brings the sandbox up, deploys the fleet, kills one checkout pod and shows its replacement. */
export async function runDemo(options: DemoOptions): Promise<DemoTimeline> {
  const { print } = options;
  const startedHere = !(await sandboxNames(options.sandbox)).includes(options.sandboxName);
  const state = await sandboxUp(
    { name: options.sandboxName, nodes: 3, lifecycle: defaultLifecycle },
    options.sandbox,
  );
  try {
    return await fireAndWatch(connect({ kubeconfigPath: state.adminKubeconfig }), state, print);
  } finally {
    if (startedHere && !options.keepSandbox) {
      options.progress(`stopping sandbox "${options.sandboxName}" (run the demo with --keep to explore it)`);
      await sandboxDown(options.sandbox, options.sandboxName);
    }
  }
}

async function fireAndWatch(kube: KubeClients, state: SandboxState, print: (line: string) => void) {
  print(
    `Broadside demo on sandbox "${state.name}" (${state.apiServer}, Kubernetes ${state.versions.kubernetes})`,
  );
  const deployStarted = Date.now();
  await deployFleet(kube);
  await waitForFleet(kube);
  print(`Fleet deployed and Available in ${Date.now() - deployStarted} ms:`);
  for (const w of demoWorkloads) print(`  ${w.namespace}/${w.name}: ${w.replicas}/${w.replicas} ready`);
  const victim = await pickVictim(kube);
  print("");
  print(describeShot(victim));
  const report = await timeRecovery(
    kube,
    [{ pod: victim, owner: { kind: "Deployment", name: checkout.name } }],
    { timeoutMs: 90_000, waitForVictimsGone: true },
    (target) => podKill.fire(kube, target.pod, {}),
  );
  const [victimTimeline] = report.victims;
  if (victimTimeline === undefined) throw new BroadsideError("BRD_INTERNAL", "the shot was not timed");
  const timeline: DemoTimeline = { victim: victimTimeline, workload: report.workloads[0] };
  for (const line of describeTimeline(timeline, checkout.name, checkout.replicas)) print(line);
  if (timeline.workload?.restoredMs === undefined) {
    throw new BroadsideError("BRD_TIMEOUT", `${checkout.name} did not recover within 90s`);
  }
  return timeline;
}

/** The demo's one shot: the victim's milestones and its Deployment's restoration, from watch events. */
export interface DemoTimeline {
  readonly victim: VictimTimeline;
  readonly workload: WorkloadRestoration | undefined;
}

function describeShot(victim: V1Pod): string {
  const name = `${checkout.namespace}/${victim.metadata?.name ?? "?"}`;
  const grace = victim.spec?.terminationGracePeriodSeconds ?? 30;
  return `Firing: deleting pod ${name} on ${victim.spec?.nodeName ?? "?"} (grace period ${grace}s)`;
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

async function pickVictim(kube: KubeClients): Promise<V1Pod> {
  const pods = await kube.core.listNamespacedPod({
    namespace: checkout.namespace,
    labelSelector: `app=${checkout.name}`,
  });
  const ready = pods.items.filter((pod) => isPodReady(pod) && pod.metadata?.deletionTimestamp === undefined);
  const victim = ready[Math.floor(Math.random() * ready.length)];
  if (victim === undefined)
    throw new BroadsideError("BRD_INTERNAL", `no Ready ${checkout.name} pod to delete`);
  return victim;
}

/** The replacement story, one line per milestone, with milliseconds since the DELETE was sent. */
const notSeen = { pod: undefined, createdMs: undefined, scheduledMs: undefined, readyMs: undefined };

/** The replacement's figures; undefined where a milestone was not seen. */
function replacementOf(victim: VictimTimeline) {
  const replacement = victim.replacement.expected ? victim.replacement : notSeen;
  const { createdMs, scheduledMs, readyMs } = replacement;
  return {
    name: replacement.pod?.name ?? "(none)",
    node: replacement.pod?.node ?? "?",
    createdMs,
    scheduledMs,
    readyMs,
  };
}

export function describeTimeline(timeline: DemoTimeline, workload: string, replicas: number): string[] {
  const step = (ms: number | undefined, what: string): string =>
    ms === undefined ? `  ${"(not seen)".padStart(11)}  ${what}` : `  +${String(ms).padStart(7)} ms  ${what}`;
  const { victim } = timeline;
  const replacement = replacementOf(victim);
  const restoredMs = timeline.workload?.restoredMs;
  return [
    step(victim.acceptedMs, "deletion accepted by the API server"),
    step(replacement.createdMs, `replacement ${replacement.name} created by the ReplicaSet controller`),
    step(replacement.scheduledMs, `replacement scheduled to ${replacement.node} by kube-scheduler`),
    step(replacement.readyMs, "replacement Running and Ready (kwok, as kubelet)"),
    step(restoredMs, `deployment ${workload} back at ${replicas}/${replicas} available`),
    step(victim.goneMs, `old pod ${victim.pod.name} gone after its graceful shutdown`),
    "",
    restoredMs === undefined
      ? `${workload} did not recover in time.`
      : `Recovered in ${restoredMs} ms (time to Ready ${replacement.readyMs ?? "?"} ms).`,
  ];
}
