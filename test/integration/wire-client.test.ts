import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parse, stringify } from "yaml";
import { apiErrorMessage, apiStatus } from "../../src/kube/api-errors.js";
import { defaultApiRateLimits } from "../../src/kube/rate-limits.js";
import { trimPod } from "../../src/kube/trimmed.js";
import { readWireKubeconfig } from "../../src/kube/wire/kubeconfig.js";
import {
  httpsExchange,
  wireConnection,
  WireTransport,
  type WireAnswer,
} from "../../src/kube/wire/transport.js";
import { systemClock } from "../../src/core/clock.js";
import {
  adminClients,
  deployAndWait,
  eventually,
  kubectl,
  repoRoot,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/*
 * The pod verbs' wire client on the sandbox (issue 14, ADR 0024). A cold `kill` reaches the API server
 * over node:https without loading @kubernetes/client-node, for the kubeconfigs the wire client serves (a
 * client certificate, a bearer token), its recovery's watches included; a kubeconfig it does not serve (an exec plugin) falls back to
 * client-node and works the same. Which code a command loaded is read from the bundle itself: a module
 * hook records every URL the process loads, and esbuild's metafile says which sources each chunk holds.
 */

const execFileAsync = promisify(execFile);
const namespace = useTestNamespace("wire");
const serviceAccounts = { admin: "wire-admin", nobody: "wire-nobody" };
const bindingName = () => `broadside-wire-admin-${namespace()}`;
let workDir = "";

interface Outcome {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** The sources of every chunk of dist/bundle the command loaded. */
  readonly sources: readonly string[];
}

/** Runs the CLI as a user would, recording which chunks of the bundle it loads. */
async function broadsideRecorded(...args: string[]): Promise<Outcome> {
  const log = join(workDir, `loads-${Date.now()}-${Math.random().toString(16).slice(2)}.txt`);
  const argv = [
    "--import",
    join(repoRoot, "test", "fixtures", "record-loads.mjs"),
    join(repoRoot, "bin", "broadside.js"),
    ...args,
  ];
  let result: { code: number; stdout: string; stderr: string };
  try {
    const { stdout, stderr } = await execFileAsync(process.execPath, argv, {
      cwd: repoRoot,
      env: { ...process.env, BROADSIDE_TEST_LOAD_LOG: log },
      timeout: 120_000,
    });
    result = { code: 0, stdout, stderr };
  } catch (error: unknown) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    result = { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
  return { ...result, sources: await sourcesLoaded(log) };
}

async function sourcesLoaded(log: string): Promise<string[]> {
  const meta = JSON.parse(await readFile(join(repoRoot, "dist", "bundle", "meta.json"), "utf8")) as {
    outputs: Record<string, { inputs: Record<string, unknown> }>;
  };
  const urls = (await readFile(log, "utf8")).split("\n").filter((line) => line.includes("/dist/bundle/"));
  return urls.flatMap((url) => {
    const output = `dist/bundle/${url.slice(url.lastIndexOf("/") + 1)}`;
    return Object.keys(meta.outputs[output]?.inputs ?? {});
  });
}

const loadsClientNode = (outcome: Outcome): boolean =>
  outcome.sources.some((source) => source.includes("node_modules/@kubernetes/client-node/"));

/** A kubeconfig of the sandbox's cluster with another user entry. */
async function kubeconfigWithUser(file: string, user: Record<string, unknown>): Promise<string> {
  const admin = parse(await readFile(inject("adminKubeconfig"), "utf8")) as {
    clusters: { name: string; cluster: Record<string, unknown> }[];
  };
  const [cluster] = admin.clusters;
  const path = join(workDir, file);
  const document = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "sandbox", cluster: cluster?.cluster }],
    users: [{ name: "tester", user }],
    contexts: [{ name: "sandbox", context: { cluster: "sandbox", user: "tester", namespace: namespace() } }],
    "current-context": "sandbox",
  };
  await writeFile(path, stringify(document), { mode: 0o600 });
  return path;
}

async function tokenOf(serviceAccount: string): Promise<string> {
  const minted = await kubectl(
    inject("adminKubeconfig"),
    "create",
    "token",
    serviceAccount,
    "-n",
    namespace(),
  );
  expect(minted.code, minted.stderr).toBe(0);
  return minted.stdout.trim();
}

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), "broadside-wire-"));
  const admin = inject("adminKubeconfig");
  for (const name of Object.values(serviceAccounts)) {
    const created = await kubectl(admin, "create", "serviceaccount", name, "-n", namespace());
    expect(created.code, created.stderr).toBe(0);
  }
  const bound = await kubectl(
    admin,
    "create",
    "clusterrolebinding",
    bindingName(),
    "--clusterrole=cluster-admin",
    `--serviceaccount=${namespace()}:${serviceAccounts.admin}`,
  );
  expect(bound.code, bound.stderr).toBe(0);
  const optedIn = await kubectl(admin, "annotate", "namespace", namespace(), "broadside.dev/chaos=enabled");
  expect(optedIn.code, optedIn.stderr).toBe(0);
  await deployAndWait(namespace(), testDeployment("web", 3));
});

afterAll(async () => {
  await adminClients()
    .rbac.deleteClusterRoleBinding({ name: bindingName() })
    .catch(() => undefined);
});

describe("a cold shot over the wire client", () => {
  it("kills a pod with the sandbox's client certificate without loading client-node", async () => {
    const before = await adminClients().core.listNamespacedPod({
      namespace: namespace(),
      labelSelector: "app=web",
    });
    const shot = await broadsideRecorded(
      "kill",
      "-n",
      namespace(),
      "-l",
      "app=web",
      "--no-wait",
      "--grace-period",
      "0",
      "-o",
      "json",
      "--kubeconfig",
      inject("adminKubeconfig"),
    );
    expect(shot.code, shot.stderr).toBe(0);
    const result = JSON.parse(shot.stdout) as { targets: { name: string }[] };
    expect(result.targets).toHaveLength(1);
    const victim = result.targets[0]?.name;
    expect(shot.stderr).toContain(`pod-kill ${namespace()}/${victim ?? "?"}: accepted`);
    expect(before.items.map((pod) => pod.metadata?.name)).toContain(victim);
    // The chunks it loaded hold the CLI's own code, and none of client-node's or zod's (its ledger
    // records are plainly valid: core/ledger/plain-record.ts).
    expect(shot.sources.some((source) => source.endsWith("dist/kube/wire/transport.js"))).toBe(true);
    expect(loadsClientNode(shot)).toBe(false);
    expect(shot.sources.filter((source) => source.includes("node_modules/zod/"))).toEqual([]);
    await eventually("the shot pod to be gone", async () => {
      const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
      return pods.items.every((pod) => pod.metadata?.name !== victim) ? true : undefined;
    });
  });

  it("times the recovery of a waiting kill over its own watches, still without client-node", async () => {
    const shot = await broadsideRecorded(
      "kill",
      "-n",
      namespace(),
      "-l",
      "app=web",
      "--grace-period",
      "0",
      "-o",
      "json",
      "--kubeconfig",
      inject("adminKubeconfig"),
    );
    expect(shot.code, shot.stderr).toBe(0);
    const result = JSON.parse(shot.stdout) as {
      complete: boolean;
      targets: { shot: { accepted: boolean }; timeline: { goneMs?: number } }[];
      workloads: { status: string; restoredMs?: number }[];
    };
    expect(result.targets.map((target) => target.shot.accepted)).toEqual([true]);
    // The victim's and the workload's milestones came from the wire client's watches.
    expect(result.complete).toBe(true);
    expect(result.targets[0]?.timeline.goneMs).toBeGreaterThanOrEqual(0);
    expect(result.workloads[0]?.status).toBe("restored");
    expect(result.workloads[0]?.restoredMs).toBeGreaterThan(0);
    expect(shot.sources.some((source) => source.endsWith("dist/kube/wire/watch-source.js"))).toBe(true);
    expect(loadsClientNode(shot)).toBe(false);
  });

  it("plans with a ServiceAccount's bearer token, and names the user the API server refused", async () => {
    const allowed = await kubeconfigWithUser("admin-token.yaml", {
      token: await tokenOf(serviceAccounts.admin),
    });
    const plan = await broadsideRecorded("kill", "-l", "app=web", "--dry-run", "--kubeconfig", allowed);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`${namespace()}/web-`);
    expect(loadsClientNode(plan)).toBe(false);

    const refused = await kubeconfigWithUser("nobody-token.yaml", {
      token: await tokenOf(serviceAccounts.nobody),
    });
    const denied = await broadsideRecorded("kill", "-l", "app=web", "--dry-run", "--kubeconfig", refused);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain("[BRD_KUBE_FORBIDDEN]");
    expect(denied.stderr).toContain(`system:serviceaccount:${namespace()}:${serviceAccounts.nobody}`);
    expect(denied.stderr).not.toContain("BRD_INTERNAL");
  });

  it("falls back to client-node for a kubeconfig with an exec plugin, with the same plan", async () => {
    const token = await tokenOf(serviceAccounts.admin);
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token },
    });
    // The plugin is /bin/echo printing the credential: an argv, no shell.
    const exec = await kubeconfigWithUser("exec.yaml", {
      exec: {
        apiVersion: "client.authentication.k8s.io/v1",
        command: "/bin/echo",
        args: [credential],
        interactiveMode: "Never",
      },
    });
    const plan = await broadsideRecorded("kill", "-l", "app=web", "--dry-run", "--kubeconfig", exec);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toContain(`${namespace()}/web-`);
    expect(loadsClientNode(plan)).toBe(true);
  });
});

/** The wire transport of a kubeconfig, with every answer it received kept. */
async function recordingTransport(kubeconfig: string) {
  const wire = await readWireKubeconfig({ home: "", inCluster: false, flagPath: kubeconfig });
  if (wire === undefined) throw new Error(`the wire client does not serve ${kubeconfig}`);
  const exchange = httpsExchange(wireConnection(wire.target));
  const answers: WireAnswer[] = [];
  const transport = new WireTransport(
    async (request) => {
      const answer = await exchange(request);
      answers.push(answer);
      return answer;
    },
    defaultApiRateLimits,
    systemClock,
    { requests: 0 },
  );
  return { transport, answers };
}

describe("the pods' LIST in protobuf (ADR 0035)", () => {
  it("gives the pods exactly as the JSON LIST gives them, trimmed, and answered in protobuf", async () => {
    const path = `/api/v1/namespaces/${namespace()}/pods`;
    const { transport, answers } = await recordingTransport(inject("adminKubeconfig"));
    const fromProtobuf = await transport.pods(path);
    expect(answers[0]?.headers["content-type"]).toBe("application/vnd.kubernetes.protobuf");
    expect(answers[0]?.bytes?.length ?? 0).toBeGreaterThan(0);
    // client-node's clients list the wire's JSON, every field of it (client.ts listWire).
    const fromJson = await adminClients().wire.pods(path);
    expect(fromProtobuf).toHaveLength(3);
    // Pods change between two LISTs only if the cluster changes them; the deployment is settled.
    expect(fromProtobuf).toEqual(fromJson.map(trimPod));
    expect(fromProtobuf.map((pod) => JSON.stringify(pod))).toEqual(
      fromJson.map((pod) => JSON.stringify(trimPod(pod))),
    );
  });

  it("turns a refusal sent in protobuf into the Status the server sends as JSON", async () => {
    const refused = await kubeconfigWithUser("nobody-protobuf.yaml", {
      token: await tokenOf(serviceAccounts.nobody),
    });
    const path = `/api/v1/namespaces/${namespace()}/pods`;
    const { transport, answers } = await recordingTransport(refused);
    const error = await transport.pods(path).catch((failure: unknown) => failure);
    expect(answers[0]?.bytes).toBeDefined();
    expect(apiStatus(error)).toBe(403);
    const asJson = await transport.send({ method: "GET", path });
    expect(asJson.headers["content-type"]).toBe("application/json");
    expect(JSON.parse((error as { body: string }).body)).toStrictEqual(JSON.parse(asJson.text));
    expect(apiErrorMessage(error)).toContain(
      `system:serviceaccount:${namespace()}:${serviceAccounts.nobody}`,
    );
  });
});
