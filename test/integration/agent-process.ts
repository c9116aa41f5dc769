import { DiscoveryV1Api, PatchStrategy, setHeaderOptions, type V1Endpoint } from "@kubernetes/client-node";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, inject } from "vitest";
import { stringify } from "yaml";
import { adminClients, eventually, kubectl, repoRoot } from "./harness.js";

/**
 * `broadside agent` as a process of its own against the sandbox, its JSON log lines collected, killed
 * after each test (the files that start agents per test: agent, agent-schedule, agent-notify,
 * agent-chaos-mesh, install).
 */

export interface RunningAgent {
  readonly child: ChildProcess;
  /** Every JSON log line so far. */
  readonly logs: { msg?: string; [field: string]: unknown }[];
  /** Everything written to stderr, as text. */
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

const agents: RunningAgent[] = [];

afterEach(() => {
  for (const agent of agents.splice(0)) agent.child.kill("SIGKILL");
});

/** Starts an agent on the sandbox as the only replica (no Lease), on ephemeral loopback ports. */
export function startAgent(...extra: string[]): RunningAgent {
  return spawnAgent(inject("adminKubeconfig"), ["--no-leader-elect", ...extra]);
}

/** Starts an agent as the only replica on the cluster of `kubeconfig` (a sandbox of a test's own). */
export function startAgentOn(kubeconfig: string, ...extra: string[]): RunningAgent {
  return spawnAgent(kubeconfig, ["--no-leader-elect", ...extra]);
}

/** A 3 s lease: a handover fits in a test. */
const shortLease = [
  "--leader-elect-lease-duration",
  "3s",
  "--leader-elect-renew-deadline",
  "2s",
  "--leader-elect-retry-period",
  "500ms",
];

/**
 * Starts a leader-elected agent with a 3 s lease (a handover fits in a test), on ephemeral loopback
 * ports, as the identity of `kubeconfig`.
 */
export function startElectedAgent(kubeconfig: string = inject("adminKubeconfig"), ...extra: string[]) {
  return spawnAgent(kubeconfig, [...shortLease, ...extra]);
}

/**
 * As startElectedAgent, as if it ran in `pod` (BROADSIDE_POD_NAME and BROADSIDE_POD_NAMESPACE, as the
 * chart's Downward API sets them): its board labels that pod while it leads.
 */
export function startElectedAgentIn(
  pod: { readonly namespace: string; readonly name: string },
  kubeconfig: string,
  ...extra: string[]
): RunningAgent {
  return spawnAgent(kubeconfig, [...shortLease, ...extra], {
    BROADSIDE_POD_NAME: pod.name,
    BROADSIDE_POD_NAMESPACE: pod.namespace,
  });
}

function spawnAgent(kubeconfig: string, flags: readonly string[], env: NodeJS.ProcessEnv = {}): RunningAgent {
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
      ...flags,
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } },
  );
  const logs: RunningAgent["logs"] = [];
  let text = "";
  let partial = "";
  child.stderr.on("data", (chunk: Buffer) => {
    text += chunk.toString();
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as RunningAgent["logs"][number]);
      } catch {
        logs.push({ msg: `not JSON: ${line}` });
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => {
    child.once("exit", (code) => {
      resolve(code);
    });
  });
  const agent = { child, logs, stderr: () => text, exited };
  agents.push(agent);
  return agent;
}

/** The first log line with `message`, waiting for it; the agent's last lines in the error otherwise. */
export async function logged(agent: RunningAgent, message: string) {
  try {
    return await eventually(
      `the agent to log "${message}"`,
      () => agent.logs.find((line) => line.msg === message),
      60_000,
    );
  } catch (error: unknown) {
    const tail = agent.logs.slice(-20).map((line) => JSON.stringify(line));
    throw new Error(`${String(error)}; the agent's last log lines:\n${tail.join("\n")}`, { cause: error });
  }
}

/** The value of one series on the agent's /metrics, or undefined when it has none. */
export async function scrape(agent: RunningAgent, series: string): Promise<number | undefined> {
  const serving = await logged(agent, "agent serving");
  const url = (serving.metrics as { url: string }).url;
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/**
 * Applies `directory`'s CRDs with server-side apply, as a user installs them, and waits until they are
 * served. Returns whether they were new, so the caller removes only what it installed.
 */
export async function installCrds(
  directory: string,
  probe: string,
  admin: string = inject("adminKubeconfig"),
): Promise<boolean> {
  const installed = (await kubectl(admin, "get", "crd", probe)).code !== 0;
  const applied = await kubectl(admin, "apply", "--server-side", "-f", directory);
  if (applied.code !== 0) throw new Error(`kubectl apply -f ${directory}: ${applied.stderr}`);
  const established = await kubectl(
    admin,
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd",
    "--all",
  );
  if (established.code !== 0) throw new Error(`CRDs not established: ${established.stderr}`);
  return installed;
}

/** Annotates `namespace` broadside.dev/chaos=enabled: the agent is opt-in, so its pods become targets. */
export async function optIntoChaos(namespace: string): Promise<void> {
  await adminClients().core.patchNamespace(
    { name: namespace, body: { metadata: { annotations: { "broadside.dev/chaos": "enabled" } } } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  );
}

/** `kubectl apply -f` of `document`, written to a file as a user writes one. */
export async function applyManifest(document: object): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), "broadside-manifest-"));
  const manifest = join(directory, "manifest.yaml");
  await writeFile(manifest, stringify(document));
  const applied = await kubectl(inject("adminKubeconfig"), "apply", "-f", manifest);
  if (applied.code !== 0) throw new Error(`kubectl apply: ${applied.stderr}`);
}

/** A broadside.dev PodChaos killing one pod labelled app=web. */
export function podKillOne(namespace: string, name: string) {
  return {
    apiVersion: "broadside.dev/v1alpha1",
    kind: "PodChaos",
    metadata: { name, namespace },
    spec: { action: "pod-kill", mode: "one", selector: { labelSelectors: { app: "web" } } },
  };
}

/**
 * Broadside's CRDs (deploy/crds/) for this file's tests, as a user installs them: applied before them,
 * and removed after them when this file installed them (`probe` is one CRD's name, to tell).
 */
export function useBroadsideCrds(probe: string): void {
  const directory = join(repoRoot, "deploy", "crds");
  let installed = false;
  beforeAll(async () => {
    installed = await installCrds(directory, probe);
  });
  afterAll(async () => {
    if (installed) await kubectl(inject("adminKubeconfig"), "delete", "-f", directory);
  });
}

/** A loopback port nobody holds now: a board's port, the same for a standby and a leader. */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  if (address === null || typeof address === "string") throw new Error("no loopback port");
  return address.port;
}

/** The pods of `namespace` that carry the label the agent's board puts on the leader's pod, by name. */
export async function boardLabelledPods(namespace: string): Promise<string[]> {
  const pods = await adminClients().core.listNamespacedPod({
    namespace,
    labelSelector: "broadside.dev/board=leader",
  });
  return pods.items.map((pod) => pod.metadata?.name ?? "").sort();
}

/** The pods the EndpointSlices of Service `service` name, as the endpoint-slice controller wrote them. */
export async function serviceEndpointPods(namespace: string, service: string): Promise<string[]> {
  const slices = await adminClients()
    .config.makeApiClient(DiscoveryV1Api)
    .listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` });
  return slices.items
    .flatMap((slice) => orNone(slice.endpoints))
    .flatMap((endpoint) => (endpoint.targetRef?.name === undefined ? [] : [endpoint.targetRef.name]))
    .sort();
}

/** The API sends null for an EndpointSlice with no endpoints, whatever client-node's type says. */
function orNone(endpoints: readonly V1Endpoint[] | null): readonly V1Endpoint[] {
  return endpoints ?? [];
}

/** Waits until `read` equals `expected`, naming what it saw last when it does not. */
export async function until<T>(what: string, read: () => Promise<T>, expected: T, timeoutMs = 60_000) {
  let last: T | undefined;
  try {
    await eventually(
      what,
      async () => {
        last = await read();
        return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
      },
      timeoutMs,
    );
  } catch (error: unknown) {
    throw new Error(`${String(error)}; last seen: ${JSON.stringify(last)}`, { cause: error });
  }
}
