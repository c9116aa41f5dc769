import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { Clock } from "../core/clock.js";
import { BroadsideError } from "../core/errors.js";
import { connect, type KubeClients } from "../kube/client.js";
import { createIfMissing } from "../kube/api-errors.js";
import { waitFor } from "../sandbox/bootstrap.js";
import type { SandboxName } from "../sandbox/sandbox-name.js";
import {
  defaultLifecycle,
  sandboxDown,
  sandboxFrontDoors,
  sandboxNames,
  sandboxStatus,
  sandboxUp,
  type SandboxEnvironment,
  type SandboxState,
} from "../sandbox/sandbox.js";
import { frontDoorPortAnnotation } from "../sandbox/traffic/front-door-port.js";
import type { DoorsReport } from "../sandbox/traffic/front-doors.js";
import { loopbackHost } from "../sandbox/traffic/loopback.js";
import {
  assertPortsFree,
  isPortInUse,
  portInUseError,
  type PortNeed,
} from "../sandbox/traffic/port-check.js";
import {
  checkout,
  checkoutConfig,
  demoDeployment,
  demoNamespaces,
  demoService,
  demoWorkloads,
  storefrontBudget,
  type DemoWorkload,
} from "./fleet.js";
import { frontDoorOrder, frontDoorPortOf, type FrontDoorPorts } from "./front-door-ports.js";

export interface DemoOptions {
  readonly sandboxName: SandboxName;
  readonly keepSandbox: boolean;
  readonly sandbox: SandboxEnvironment;
  /** Where the fleet's front doors listen (--front-door-ports, BROADSIDE_FRONT_DOOR_PORTS). */
  readonly frontDoorPorts: FrontDoorPorts;
  /** Times the deployment, and the wait for the front doors. */
  readonly clock: Clock;
  /** The demo's story, for the terminal. */
  readonly print: (line: string) => void;
  readonly progress: (line: string) => void;
}

/** The example `broadside demo` runs: a pod-kill Schedule on the 2-replica checkout, probed at 5 Hz. */
export const demoExample = "examples/schedule-pod-kill-2-replicas.yaml";

/** What to do about a front door's port held by someone else. */
export const frontDoorPortRemedy =
  "stop it, or choose other ports: --front-door-ports BASE, P1,P2,P3 or auto (or BROADSIDE_FRONT_DOOR_PORTS)";

/** A demo workload's front door, once it answers. */
export interface DemoDoor {
  readonly workload: DemoWorkload;
  readonly port: number;
  readonly url: string;
}

export interface FleetOptions {
  readonly frontDoorPorts: FrontDoorPorts;
  /** The front doors as the sandbox's traffic process reports them (GET /doors). */
  readonly doors: () => Promise<DoorsReport | undefined>;
  readonly clock: Clock;
}

/**
 * Checks the front doors' ports, brings the sandbox up, deploys the fleet, waits until it is Available
 * and its front doors answer, then hands over to `body` (the CLI runs the demo's example there). A
 * sandbox the demo started is stopped afterwards unless keepSandbox.
 */
export async function withDemoFleet<T>(
  options: DemoOptions,
  body: (state: SandboxState) => Promise<T>,
): Promise<T> {
  const { print, clock } = options;
  const startedHere = !(await sandboxNames(options.sandbox)).includes(options.sandboxName);
  // Before anything starts: a taken port fails now, naming its holder, not after a minute of waiting.
  await assertDemoPortsFree(options, startedHere);
  const state = await sandboxUp(
    { name: options.sandboxName, nodes: 3, lifecycle: defaultLifecycle },
    options.sandbox,
  );
  try {
    print(
      `Broadside demo on sandbox "${state.name}" (${state.apiServer}, Kubernetes ${state.versions.kubernetes})`,
    );
    const deployStarted = clock.now();
    const doors = await deployDemoFleet(connect({ kubeconfigPath: state.adminKubeconfig }), {
      frontDoorPorts: options.frontDoorPorts,
      doors: () => sandboxFrontDoors(options.sandbox, state),
      clock,
    });
    print(`Fleet deployed, Available and serving in ${clock.now() - deployStarted} ms:`);
    for (const { workload: w, url } of doors)
      print(`  ${w.namespace}/${w.name}: ${w.replicas}/${w.replicas} ready, ${url}`);
    print("");
    return await body(state);
  } finally {
    if (startedHere && !options.keepSandbox) {
      options.progress(`stopping sandbox "${options.sandboxName}" (run with --keep to explore it)`);
      await sandboxDown(options.sandbox, options.sandboxName);
    }
  }
}

function doorName(workload: DemoWorkload): string {
  return `the front door of ${workload.namespace}/${workload.name}`;
}

/** The fixed ports the fleet's doors need, each with what needs it. */
function portNeeds(ports: FrontDoorPorts): (PortNeed & { readonly workload: DemoWorkload })[] {
  return frontDoorOrder.flatMap((workload) => {
    const port = frontDoorPortOf(ports, workload);
    return port === undefined ? [] : [{ workload, port, what: doorName(workload) }];
  });
}

function doorOf<D extends { namespace: string; service: string }>(
  doors: readonly D[] | undefined,
  workload: DemoWorkload,
): D | undefined {
  return doors?.find((door) => door.namespace === workload.namespace && door.service === workload.name);
}

/**
 * Throws BRD_PORT_IN_USE unless every fixed port is free, or already the same door's in a sandbox
 * reused from an earlier demo.
 */
async function assertDemoPortsFree(options: DemoOptions, startedHere: boolean): Promise<void> {
  const needs = portNeeds(options.frontDoorPorts);
  if (needs.length === 0) return;
  const current = startedHere ? undefined : await currentDoors(options);
  const ownDoor = (need: (typeof needs)[number]): boolean =>
    doorOf(current?.open, need.workload)?.port === need.port;
  await assertPortsFree(
    needs.filter((need) => !ownDoor(need)),
    frontDoorPortRemedy,
  );
}

async function currentDoors(options: DemoOptions): Promise<DoorsReport | undefined> {
  try {
    return await sandboxFrontDoors(
      options.sandbox,
      (await sandboxStatus(options.sandbox, options.sandboxName)).state,
    );
  } catch {
    return undefined;
  }
}

/**
 * Deploys the fleet (what exists is kept; the front doors' ports are set to the ones asked for) and
 * waits until it is Available and its front doors answer. Fails at once with BRD_PORT_IN_USE when the
 * traffic process finds a door's port taken.
 */
export async function deployDemoFleet(kube: KubeClients, options: FleetOptions): Promise<DemoDoor[]> {
  await deployFleet(kube, options.frontDoorPorts);
  await waitForFleet(kube, options.clock);
  return waitForFrontDoors(options);
}

const mergePatch = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);

async function deployFleet(kube: KubeClients, ports: FrontDoorPorts): Promise<void> {
  for (const namespace of demoNamespaces())
    await createIfMissing(() => kube.core.createNamespace({ body: namespace }));
  for (const workload of demoWorkloads) {
    const namespace = workload.namespace;
    const port = frontDoorPortOf(ports, workload);
    await createIfMissing(() =>
      kube.apps.createNamespacedDeployment({ namespace, body: demoDeployment(workload) }),
    );
    await createIfMissing(() =>
      kube.core.createNamespacedService({ namespace, body: demoService(workload, port) }),
    );
    // A Service kept from an earlier demo may have other ports: the traffic process moves its door.
    const annotations = { [frontDoorPortAnnotation]: port === undefined ? null : String(port) };
    await kube.core.patchNamespacedService(
      { name: workload.name, namespace, body: { metadata: { annotations } } },
      mergePatch,
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

async function waitForFleet(kube: KubeClients, clock: Clock): Promise<void> {
  await waitFor(
    "the demo fleet to become Available",
    120_000,
    async () => {
      const statuses = await Promise.all(
        demoWorkloads.map((w) =>
          kube.apps.readNamespacedDeployment({ name: w.name, namespace: w.namespace }),
        ),
      );
      return statuses.every(
        (d) =>
          (d.status?.availableReplicas ?? 0) === d.spec?.replicas &&
          d.status?.readyReplicas === d.spec.replicas,
      );
    },
    clock,
  );
}

const frontDoorTimeoutMs = 60_000;

/**
 * The sandbox's traffic process opens each Service's front door once it sees the Service; a probe
 * started before that would measure the start-up, not the experiment. Its /doors report says where
 * each door listens, and which could not open: a port someone else holds fails the wait at once.
 */
async function waitForFrontDoors(options: FleetOptions): Promise<DemoDoor[]> {
  const { clock } = options;
  const deadline = clock.now() + frontDoorTimeoutMs;
  for (;;) {
    const report = await options.doors();
    const doors = report === undefined ? undefined : await openDoors(report, options);
    if (doors !== undefined && (await allAnswer(doors))) return doors;
    if (clock.now() > deadline) {
      throw new BroadsideError(
        "BRD_TIMEOUT",
        `timed out after ${frontDoorTimeoutMs / 1000}s waiting for the demo's front doors to answer: ${describeDoors(report)}`,
      );
    }
    await clock.sleep(200);
  }
}

/** Every workload's door where it was asked to listen, undefined while one is not there yet. */
async function openDoors(report: DoorsReport, options: FleetOptions): Promise<DemoDoor[] | undefined> {
  await assertNoDoorPortTaken(report, options);
  const doors: DemoDoor[] = [];
  for (const workload of demoWorkloads) {
    const port = doorOf(report.open, workload)?.port;
    const asked = frontDoorPortOf(options.frontDoorPorts, workload);
    // Still where an earlier demo had it, until the traffic process sees the new annotation.
    if (port === undefined || (asked !== undefined && port !== asked)) return undefined;
    doors.push({ workload, port, url: `http://${loopbackHost}:${port}/` });
  }
  return doors;
}

/** BRD_PORT_IN_USE for the doors that failed because someone else holds their port right now. */
async function assertNoDoorPortTaken(report: DoorsReport, options: FleetOptions): Promise<void> {
  const failed = portNeeds(options.frontDoorPorts).filter(
    (need) => doorOf(report.failed, need.workload)?.port === need.port,
  );
  const taken: typeof failed = [];
  for (const need of failed) if (await isPortInUse(need.port)) taken.push(need);
  if (taken.length === 0) return;
  // The traffic process may have taken the port on its retry meanwhile: only a door still failed counts.
  const again = await options.doors();
  const still = taken.filter((need) => doorOf(again?.open, need.workload) === undefined);
  if (still.length > 0) throw await portInUseError(still, frontDoorPortRemedy);
}

async function allAnswer(doors: readonly DemoDoor[]): Promise<boolean> {
  for (const door of doors) {
    const response = await fetch(door.url, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
    if (response?.status !== 200) return false;
  }
  return true;
}

function describeDoors(report: DoorsReport | undefined): string {
  if (report === undefined) return "the sandbox's traffic process does not answer";
  const open = report.open.map((door) => `${door.namespace}/${door.service} open on ${door.port}`);
  const failed = report.failed.map((door) => `${door.namespace}/${door.service} failed: ${door.reason}`);
  return [...open, ...failed].join("; ") || "no front door yet";
}
