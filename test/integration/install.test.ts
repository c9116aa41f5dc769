import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { parseAllDocuments } from "yaml";
import {
  type RunningAgent,
  boardLabelledPods,
  freeLoopbackPort,
  logged,
  optIntoChaos,
  serviceEndpointPods,
  startElectedAgent,
  startElectedAgentIn,
  until,
} from "./agent-process.js";
import { createOperator, removeOperator } from "./board-process.js";
import { integrationSandboxName } from "./names.js";
import { processIo } from "../../src/cli/options.js";
import { sampleWork } from "../../src/core/node-work-fixture.js";
import { ConfigMapNodeWork } from "../../src/kube/node-work-store.js";
import { sandboxEnvironment } from "../../src/cli/sandbox-commands.js";
import { loadAccessConfig } from "../../src/kube/client.js";
import { createBroadsideNamespace } from "../../src/kube/ledger-store.js";
import { ensureHelm } from "../../src/sandbox/build.js";
import { helmTemplate, installPaths, renderInstall } from "../../src/sandbox/install-manifest.js";
import {
  adminClients,
  config,
  deployAndWait,
  eventually,
  isReady,
  kubectl,
  repoRoot,
  runProgram,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/**
 * The install, least privilege, proven (issue 10): the chart passes `helm lint` and renders for each
 * profile; deploy/broadside.yaml is the chart's default rendering; the rendered manifests go onto the
 * sandbox with server-side apply (the CRDs validated by the API server itself); then `broadside agent`
 * runs as a local process with a token minted for the chart's own ServiceAccount. With that identity it
 * reconciles a PodChaos in the namespace it was given, leaves one elsewhere alone, and an action outside
 * its scope is refused by the API server with 403, which Broadside reports in those words.
 */

const paths = installPaths(repoRoot);
const serviceAccount = "system:serviceaccount:broadside-system:broadside-agent";
let helm = "";

beforeAll(async () => {
  const env = sandboxEnvironment(config, processIo);
  // Built on first use only (cached by version, like the sandbox's binaries): see docs/sandbox.md.
  helm = await ensureHelm({ ...env.build, onProgress: env.onProgress, clock: env.clock });
}, 1_800_000);

/** `broadside daemon` for a node of this sandbox (no pod bodies here: the sandbox's finder finds none). */
function startDaemon(kubeconfig: string, node: string, journal: string): ChildProcess {
  const args = ["daemon", "--node", node, "--runtime", "sandbox", "--sandbox", integrationSandboxName];
  return spawn(
    process.execPath,
    [join(repoRoot, "bin", "broadside.js"), ...args, "--journal", journal, "--kubeconfig", kubeconfig],
    {
      stdio: "ignore",
    },
  );
}

/** The chart rendered with `values`, as objects. */
async function renderedObjects(values: string[] = []): Promise<Manifest[]> {
  return parseAllDocuments(await helmTemplate(helm, paths, values)).map(
    (document) => document.toJSON() as Manifest,
  );
}

/** The agent container's arguments in a rendering. */
function agentArgs(objects: readonly Manifest[]): string[] {
  const agent = objects.find(
    (object) => object.kind === "Deployment" && object.metadata.name === "broadside-agent",
  );
  return agent?.spec.template.spec.containers[0]?.args ?? [];
}

function runHelm(...args: string[]) {
  return runProgram(helm, args);
}

describe("the chart", () => {
  const profiles: Record<string, string[]> = {
    default: [],
    "cluster mode": ["--set", "clusterMode=true"],
    notifications: ["--set", "notifications.enabled=true"],
    board: ["--set", "board.enabled=true"],
  };

  it.each(Object.entries(profiles))("passes helm lint with the %s profile", async (_name, values) => {
    const linted = await runHelm("lint", paths.chart, ...values);
    expect(linted.code, linted.stdout + linted.stderr).toBe(0);
    expect(linted.stdout).toContain("0 chart(s) failed");
  });

  it("renders namespaced RBAC by default, a ClusterRole in cluster mode, the notifications' flag only when asked", async () => {
    const byDefault = await helmTemplate(helm, paths);
    expect(byDefault).toContain("--watch-namespaces=default");
    expect(byDefault).not.toContain("broadside-agent-cluster");
    expect(byDefault).not.toContain("--notifications");

    const cluster = await helmTemplate(helm, paths, profiles["cluster mode"]);
    expect(cluster).toContain("name: broadside-agent-cluster");
    expect(cluster).not.toContain("--watch-namespaces");
    expect(cluster).not.toContain("broadside-agent-namespaces");

    const notifying = await helmTemplate(helm, paths, profiles.notifications);
    expect(notifying).toContain("- --notifications=/etc/broadside/notifications/config.yaml");
    expect(notifying).toContain("name: broadside-notifications");
    expect(notifying).not.toMatch(/hooks\.slack\.com/);
  });

  it("renders the board only when enabled: its flag, its named port, its ClusterIP Service and the review RBAC", async () => {
    const byDefault = await helmTemplate(helm, paths);
    expect(byDefault).not.toContain("--board-listen");
    expect(byDefault).not.toContain("tokenreviews");
    expect(byDefault).not.toContain("broadside-agent-board");

    const board = parseAllDocuments(
      await helmTemplate(helm, paths, ["--set", "board.enabled=true", "--set", "board.audience=gameday"]),
    ).map((document) => document.toJSON() as Manifest);
    const named = (kind: string, name: string) =>
      board.find((object) => object.kind === kind && object.metadata.name === name);
    const agent = named("Deployment", "broadside-agent")?.spec.template.spec.containers[0];
    expect(agent?.args).toEqual(
      expect.arrayContaining(["--board-listen=0.0.0.0:8090", "--board-audience=gameday"]),
    );
    expect(agent?.ports).toContainEqual({ name: "board", containerPort: 8090 });
    expect(named("Service", "broadside-agent-board")?.spec).toMatchObject({
      type: "ClusterIP",
      ports: [{ name: "http-board", port: 8090, targetPort: "board" }],
    });
    expect(named("ClusterRole", "broadside-agent-board")?.rules).toEqual([
      { apiGroups: ["authentication.k8s.io"], resources: ["tokenreviews"], verbs: ["create"] },
      { apiGroups: ["authorization.k8s.io"], resources: ["subjectaccessreviews"], verbs: ["create"] },
    ]);
    expect(named("ClusterRoleBinding", "broadside-agent-board")?.subjects).toEqual([
      { kind: "ServiceAccount", name: "broadside-agent", namespace: "broadside-system" },
    ]);
    expect(named("ClusterRole", "broadside-agent-board-operator")?.rules).toEqual([
      { apiGroups: ["broadside.dev"], resources: ["boards"], verbs: ["operate"] },
    ]);
  });

  it("renders the node daemons only when enabled: a privileged DaemonSet in the host's PID namespace, its own narrow Role, and --node-daemons on the agent", async () => {
    const byDefault = await renderedObjects();
    expect(byDefault.filter((object) => object.metadata.name === "broadside-daemon")).toEqual([]);
    expect(agentArgs(byDefault)).not.toContain("--node-daemons");

    const daemons = await renderedObjects(["--set", "nodeDaemons.enabled=true"]);
    const named = (kind: string) =>
      daemons.find((object) => object.kind === kind && object.metadata.name === "broadside-daemon");
    expect(agentArgs(daemons)).toContain("--node-daemons");
    const pod = named("DaemonSet")?.spec.template.spec;
    expect(pod).toMatchObject({ serviceAccountName: "broadside-daemon", hostPID: true });
    expect(pod?.containers[0]?.args).toEqual([
      "daemon",
      "--node=$(NODE_NAME)",
      "--runtime=cri",
      "--runtime-endpoint=unix:///run/broadside/cri.sock",
      "--journal=/var/lib/broadside/daemon",
    ]);
    expect(pod?.containers[0]?.securityContext).toEqual({ privileged: true });
    // Its identity may watch and answer the ConfigMaps of broadside-system, and do nothing else.
    expect(named("Role")?.rules).toEqual([
      { apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list", "watch", "create", "update"] },
    ]);
    expect(named("RoleBinding")?.subjects).toEqual([
      { kind: "ServiceAccount", name: "broadside-daemon", namespace: "broadside-system" },
    ]);
  });

  it("renders the board's Service for the leader's pod alone: the label, the Downward API, a Role in broadside-system", async () => {
    const byDefault = await helmTemplate(helm, paths);
    const board = parseAllDocuments(await helmTemplate(helm, paths, ["--set", "board.enabled=true"])).map(
      (document) => document.toJSON() as Manifest,
    );
    const named = (kind: string, name: string) =>
      board.find((object) => object.kind === kind && object.metadata.name === name);
    const agent = named("Deployment", "broadside-agent")?.spec.template.spec.containers[0];
    // The Service reaches the pod the leader labels, and no other: its pod name and namespace come from
    // the Downward API, and a Role in broadside-system alone lets it label pods there.
    expect(named("Service", "broadside-agent-board")?.spec).toMatchObject({
      type: "ClusterIP",
      selector: {
        "app.kubernetes.io/name": "broadside",
        "app.kubernetes.io/component": "agent",
        "broadside.dev/board": "leader",
      },
      ports: [{ name: "http-board", port: 8090, targetPort: "board" }],
    });
    expect(agent?.env).toEqual(
      expect.arrayContaining([
        { name: "BROADSIDE_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
        { name: "BROADSIDE_POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
      ]),
    );
    const labeller = named("Role", "broadside-agent-board-leader");
    expect(labeller?.metadata.namespace).toBe("broadside-system");
    expect(labeller?.rules).toEqual([{ apiGroups: [""], resources: ["pods"], verbs: ["list", "patch"] }]);
    expect(named("RoleBinding", "broadside-agent-board-leader")).toMatchObject({
      metadata: { namespace: "broadside-system" },
      roleRef: { kind: "Role", name: "broadside-agent-board-leader" },
      subjects: [{ kind: "ServiceAccount", name: "broadside-agent", namespace: "broadside-system" }],
    });
    // No other RBAC object comes with the board.
    const key = (object: Manifest) => `${object.kind}/${object.metadata.name}`;
    const defaults = new Set(
      parseAllDocuments(byDefault).map((document) => key(document.toJSON() as Manifest)),
    );
    const boardOnly = board.filter((object) => /Role/.test(object.kind) && !defaults.has(key(object)));
    expect(boardOnly.map(key).sort()).toEqual([
      "ClusterRole/broadside-agent-board",
      "ClusterRole/broadside-agent-board-operator",
      "ClusterRoleBinding/broadside-agent-board",
      "Role/broadside-agent-board-leader",
      "RoleBinding/broadside-agent-board-leader",
    ]);
    expect(byDefault).not.toContain("BROADSIDE_POD_NAME");
  });

  it("refuses a protected namespace or an empty list in watchNamespaces, naming the value", async () => {
    const refused = await runHelm(
      "template",
      "broadside",
      paths.chart,
      "--set",
      "watchNamespaces={kube-system}",
    );
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("watchNamespaces: namespace kube-system is protected");
    const empty = await runHelm("template", "broadside", paths.chart, "--set", "watchNamespaces=null");
    expect(empty.stderr).toContain("watchNamespaces: give at least one namespace, or set clusterMode=true");
  });

  it("rendered with its defaults is deploy/broadside.yaml, which the API server accepts as it is", async () => {
    // A dry run creates nothing, so the namespace its objects go to must exist (as `apply` makes it first).
    await createBroadsideNamespace(adminClients().core, "broadside-system");
    const committed = await readFile(paths.rendered, "utf8");
    expect(await renderInstall(helm, paths), "deploy/broadside.yaml is stale: npm run render-install").toBe(
      committed,
    );
    const dryRun = await kubectl(
      inject("adminKubeconfig"),
      "apply",
      "--server-side",
      "--dry-run=server",
      "-f",
      paths.rendered,
    );
    expect(dryRun.code, dryRun.stderr).toBe(0);
  });
});

/** The fields of a rendered object these tests read. */
interface Manifest {
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly spec: {
    readonly template: {
      readonly spec: {
        readonly containers: {
          readonly args: string[];
          readonly ports: object[];
          readonly env?: object[];
          readonly securityContext?: object;
        }[];
      };
    };
  };
  readonly rules?: object[];
  readonly subjects?: object[];
}

function agentTail(agent: RunningAgent): string {
  return agent.logs
    .slice(-20)
    .map((line) => JSON.stringify(line))
    .join("\n");
}

describe("the agent with the chart's own ServiceAccount token", () => {
  const inside = useTestNamespace("it-install-in");
  const outside = useTestNamespace("it-install-out");
  let rendered = "";
  let tokenKubeconfig = "";
  let installedCrds = false;
  const operatorRole = () => `broadside-board-operator-${inside()}`;

  beforeAll(async () => {
    const admin = inject("adminKubeconfig");
    for (const namespace of [inside(), outside()]) {
      await optIntoChaos(namespace);
      await deployAndWait(namespace, testDeployment("web", 3));
    }
    installedCrds = (await kubectl(admin, "get", "crd", "podchaos.broadside.dev")).code !== 0;
    // The chart as a user installs it, given this test's namespace instead of `default`.
    const dir = await mkdtemp(join(tmpdir(), "broadside-install-"));
    rendered = join(dir, "broadside.yaml");
    // With the board, so its Service and its RBAC are installed and used below.
    await writeFile(
      rendered,
      await helmTemplate(helm, paths, [
        "--set",
        `watchNamespaces={${inside()}}`,
        "--set",
        "board.enabled=true",
        "--set",
        "nodeDaemons.enabled=true",
      ]),
    );
    const applied = await kubectl(admin, "apply", "--server-side", "-f", rendered);
    expect(applied.code, applied.stderr).toBe(0);
    const established = await kubectl(
      admin,
      "wait",
      "--for=condition=Established",
      "--timeout=60s",
      "crd",
      "--all",
    );
    expect(established.code, established.stderr).toBe(0);
    tokenKubeconfig = join(dir, "agent.kubeconfig");
    await writeFile(tokenKubeconfig, await serviceAccountKubeconfig(), { mode: 0o600 });
  }, 600_000);

  afterAll(async () => {
    const admin = inject("adminKubeconfig");
    // What the chart made outside the test namespaces; broadside-system itself stays (other files use it).
    await kubectl(
      admin,
      "delete",
      "--ignore-not-found",
      "-n",
      "broadside-system",
      "deployment/broadside-agent",
      "service/broadside-agent-metrics",
      "service/broadside-agent-board",
      "serviceaccount/broadside-agent",
      "role/broadside-agent",
      "rolebinding/broadside-agent",
      "role/broadside-agent-board-leader",
      "rolebinding/broadside-agent-board-leader",
      "daemonset/broadside-daemon",
      "serviceaccount/broadside-daemon",
      "role/broadside-daemon",
      "rolebinding/broadside-daemon",
    );
    await kubectl(
      admin,
      "delete",
      "--ignore-not-found",
      "clusterrole/broadside-agent-crds",
      "clusterrole/broadside-agent-namespaces",
      "clusterrolebinding/broadside-agent-crds",
      "clusterrolebinding/broadside-agent-namespaces",
      "clusterrole/broadside-agent-board",
      "clusterrolebinding/broadside-agent-board",
      "clusterrole/broadside-agent-board-operator",
    );
    await removeOperator(operatorRole());
    if (installedCrds) await kubectl(admin, "delete", "-f", paths.chartCrds);
  });

  /** A kubeconfig whose only credential is a token minted through the TokenRequest API. */
  async function serviceAccountKubeconfig(account = "broadside-agent"): Promise<string> {
    const minted = await adminClients().core.createNamespacedServiceAccountToken({
      name: account,
      namespace: "broadside-system",
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const admin = loadAccessConfig({ kubeconfigPath: inject("adminKubeconfig") });
    const cluster = admin.getCurrentCluster();
    if (cluster === null) throw new Error("the admin kubeconfig has no cluster");
    const token = new KubeConfig();
    token.loadFromOptions({
      clusters: [cluster],
      users: [{ name: account, token: minted.status?.token ?? "" }],
      contexts: [{ name: account, cluster: cluster.name, user: account }],
      currentContext: account,
    });
    return token.exportConfig();
  }

  async function podChaos(namespace: string, name: string): Promise<void> {
    const manifest = join(tmpdir(), `podchaos-${namespace}-${name}.yaml`);
    await writeFile(
      manifest,
      [
        "apiVersion: broadside.dev/v1alpha1",
        "kind: PodChaos",
        "metadata:",
        `  name: ${name}`,
        `  namespace: ${namespace}`,
        "spec:",
        "  action: pod-kill",
        "  mode: one",
        "  selector:",
        "    labelSelectors:",
        "      app: web",
        "",
      ].join("\n"),
    );
    const applied = await kubectl(inject("adminKubeconfig"), "apply", "-f", manifest);
    expect(applied.code, applied.stderr).toBe(0);
  }

  async function statusOf(namespace: string, name: string) {
    const object = (await adminClients().custom.getNamespacedCustomObjectStatus({
      group: "broadside.dev",
      version: "v1alpha1",
      plural: "podchaos",
      namespace,
      name,
    })) as {
      status?: { conditions?: { type: string; status: string; reason: string }[]; targets?: unknown[] };
    };
    return object.status;
  }

  async function podUids(namespace: string): Promise<string[]> {
    const pods = await adminClients().core.listNamespacedPod({ namespace });
    return pods.items.map((pod) => pod.metadata?.uid ?? "").sort();
  }

  it("is the chart's ServiceAccount: the API server knows the token as it", async () => {
    const whoami = await kubectl(
      tokenKubeconfig,
      "auth",
      "whoami",
      "-o",
      "jsonpath={.status.userInfo.username}",
    );
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toBe(serviceAccount);
  });

  it("runs a daemon pod on every node, and the daemon with the chart's own daemon token watches and answers its node's work", async () => {
    const nodes = (await adminClients().core.listNode()).items.map((node) => node.metadata?.name ?? "");
    // kwok runs the DaemonSet's pods (no image is pulled): one per node, scheduled by the controller.
    await eventually("a daemon pod on every node", async () => {
      const pods = await adminClients().core.listNamespacedPod({
        namespace: "broadside-system",
        labelSelector: "app.kubernetes.io/component=daemon",
      });
      const running = pods.items.filter((pod) => pod.status?.phase === "Running");
      const onNodes = running.map((pod) => pod.spec?.nodeName ?? "").sort();
      return onNodes.join() === [...nodes].sort().join() ? true : undefined;
    });

    // The daemon itself, as a local process with the identity the DaemonSet's pods get.
    const dir = await mkdtemp(join(tmpdir(), "broadside-daemon-"));
    const daemonKubeconfig = join(dir, "daemon.kubeconfig");
    await writeFile(daemonKubeconfig, await serviceAccountKubeconfig("broadside-daemon"), { mode: 0o600 });
    const node = nodes[0] ?? "";
    const daemon = startDaemon(daemonKubeconfig, node, join(dir, "journal"));
    try {
      // Work for its node aimed at a protected namespace: the daemon must read it and answer Refused.
      const store = new ConfigMapNodeWork(adminClients().core, "broadside-system");
      const work = await store.create({
        ...sampleWork,
        ledgerId: `${sampleWork.ledgerId.slice(0, -6)}${randomBytes(3).toString("hex")}`,
        node,
        pod: { ...sampleWork.pod, namespace: "kube-system" },
        createdAt: Date.now(),
        deadline: Date.now() + 60_000,
      });
      try {
        const answered = await eventually(
          "the daemon's answer",
          async () => (await store.read(work.name))?.status,
        );
        expect(answered).toMatchObject({ phase: "Refused", message: "namespace kube-system is protected" });
      } finally {
        await store.remove(work.name);
      }
    } finally {
      daemon.kill("SIGTERM");
    }
  });

  it("leads, kills a pod for a PodChaos in its namespace, writes status and Events, and leaves another namespace alone", async () => {
    const untouched = await podUids(outside());
    const agent = startElectedAgent(tokenKubeconfig, "--watch-namespaces", inside());
    await eventually(
      "the agent to lead",
      () => agent.logs.find((line) => line.msg === "leading: reconciling"),
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${agentTail(agent)}`, { cause: error });
    });
    const lease = await adminClients()
      .config.makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: "broadside-agent", namespace: "broadside-system" });
    expect(lease.spec?.holderIdentity).toBeTruthy();

    await podChaos(outside(), "elsewhere");
    await podChaos(inside(), "kill-one");
    const status = await eventually(
      "the PodChaos in the watched namespace to be injected and recovered",
      async () => {
        const current = await statusOf(inside(), "kill-one");
        return current?.conditions?.find((c) => c.type === "Recovered")?.status === "True"
          ? current
          : undefined;
      },
      120_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${agentTail(agent)}`, { cause: error });
    });
    expect(status.conditions?.find((c) => c.type === "Injected")).toMatchObject({
      status: "True",
      reason: "Shot",
    });
    expect(status.targets).toHaveLength(1);
    const live = (await adminClients().core.listNamespacedPod({ namespace: inside() })).items.filter(
      (pod) => pod.metadata?.deletionTimestamp === undefined,
    );
    expect(live.filter(isReady)).toHaveLength(3);
    const reasons = await eventually("the PodChaos's Events", async () => {
      const listed = await adminClients().core.listNamespacedEvent({
        namespace: inside(),
        fieldSelector: "involvedObject.kind=PodChaos,involvedObject.name=kill-one",
      });
      const seen = listed.items.map((event) => event.reason ?? "").sort();
      return seen.includes("Recovered") ? seen : undefined;
    });
    expect(reasons).toEqual(["Recovered", "Shot"]);

    // Outside its namespaces: no status written, no pod touched; the agent never even watched it.
    expect(await statusOf(outside(), "elsewhere")).toBeUndefined();
    expect(await podUids(outside())).toEqual(untouched);
    // Every request the agent made was allowed: no refusal anywhere in its log.
    const refusals = agent.logs.filter((line) => /forbidden|\b403\b/i.test(JSON.stringify(line)));
    expect(refusals, agentTail(agent)).toEqual([]);
  });

  it("serves the board with the chart's RBAC: the operator's login reviewed, a game opened, a torpedo and an anchor hit", async () => {
    // The agent runs "in" one of the chart's pods (kwok runs them); the other carries a stale leader label.
    const [own, other] = await eventually("the chart's two agent pods, Ready", async () => {
      const pods = await adminClients().core.listNamespacedPod({
        namespace: "broadside-system",
        labelSelector: "app.kubernetes.io/name=broadside,app.kubernetes.io/component=agent",
      });
      const ready = pods.items.filter(isReady).map((pod) => pod.metadata?.name ?? "");
      return ready.length === 2 ? ready.sort() : undefined;
    });
    if (own === undefined || other === undefined) throw new Error("no chart pods");
    const stale = await kubectl(
      inject("adminKubeconfig"),
      ...["label", "pod", other, "-n", "broadside-system", "broadside.dev/board=leader"],
    );
    expect(stale.code, stale.stderr).toBe(0);
    const port = await freeLoopbackPort();
    const agent = startElectedAgentIn(
      { namespace: "broadside-system", name: own },
      tokenKubeconfig,
      ...["--watch-namespaces", inside(), "--board-listen", `127.0.0.1:${port}`],
    );
    await logged(agent, "board serving: leading");
    // With the chart's Role, the leader moved the label to its own pod: the chart's Service reaches it alone.
    const endpoints = () => serviceEndpointPods("broadside-system", "broadside-agent-board");
    await until("the board's Service to reach the leader's pod alone", endpoints, [own]);
    expect(await boardLabelledPods("broadside-system")).toEqual([own]);
    const url = `http://127.0.0.1:${port}`;
    const post = (path: string, bearer: string | undefined, body: object) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
        },
        body: JSON.stringify(body),
      });
    // TokenReview and SubjectAccessReview, created by the chart's ServiceAccount.
    const operator = await createOperator(inside(), operatorRole());
    const login = await eventually("the operator's login", async () => {
      const response = await post("/api/operator/login", operator, {});
      return response.status === 200 ? ((await response.json()) as { user: string }) : undefined;
    });
    expect(login.user).toBe(`system:serviceaccount:${inside()}:operator`);
    // Outside the agent's namespaces no game opens: the rail names --watch-namespaces.
    const elsewhere = await post("/api/operator/game", operator, { namespaces: [outside()] });
    expect(elsewhere.status).toBe(400);
    expect(await elsewhere.text()).toContain("outside this agent's namespaces");
    const opened = await post("/api/operator/game", operator, {
      namespaces: [inside()],
      weapons: ["torpedo", "anchor"],
      revertAfter: "5m",
    });
    expect(opened.status, await opened.clone().text()).toBe(201);
    const { code } = (await opened.json()) as { code: string };
    const player = (await (await post("/api/join", undefined, { code, nickname: "Grace" })).json()) as {
      token: string;
    };
    const cell = await eventually("web's ship with 3 Ready pods", async () => {
      const state = (await (await fetch(`${url}/api/board`)).json()) as {
        grids: {
          ships: { key: string; cells: { row: number; col: number; pod?: { ready: boolean } }[] }[];
        }[];
      };
      const ship = state.grids[0]?.ships.find((candidate) => candidate.key === "Deployment/web");
      const ready = ship?.cells.filter((candidate) => candidate.pod?.ready === true) ?? [];
      return ready.length === 3 ? ready[0] : undefined;
    });
    const fire = (weapon: string) =>
      post("/api/shots", player.token, { namespace: inside(), row: cell.row, col: cell.col, weapon });
    const torpedo = await fire("torpedo");
    expect(torpedo.status, await torpedo.clone().text()).toBe(200);
    expect(await torpedo.json()).toMatchObject({ result: "hit" });
    // The anchor waits for the player's reload and for the ship's repair (its cap): 429s until then.
    await eventually(
      "the anchor to hit",
      async () => {
        const anchor = await fire("anchor");
        if (anchor.status === 429) return undefined;
        expect(anchor.status, await anchor.clone().text()).toBe(200);
        expect(await anchor.json()).toMatchObject({ result: "hit" });
        return true;
      },
      120_000,
    );
    const squeezed = await adminClients().apps.readNamespacedDeployment({ namespace: inside(), name: "web" });
    expect(squeezed.spec?.template.spec?.containers[0]?.resources?.limits).toMatchObject({ cpu: "50m" });
    // The agent stops: its board stops and reverts the anchor, as `broadside board` does, and its pod
    // loses the label, so the Service reaches no pod.
    agent.child.kill("SIGTERM");
    expect(await agent.exited, agentTail(agent)).toBe(0);
    expect(await boardLabelledPods("broadside-system")).toEqual([]);
    await until("the board's Service to reach no pod", endpoints, []);
    const restored = await adminClients().apps.readNamespacedDeployment({ namespace: inside(), name: "web" });
    expect(restored.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
    });
    const refusals = agent.logs.filter((line) => /forbidden|\b403\b/i.test(JSON.stringify(line)));
    expect(refusals, agentTail(agent)).toEqual([]);
  });

  it("is refused by the API server outside its scope, and Broadside says who was refused what, and where", async () => {
    const untouched = await podUids(outside());
    const killed = await runProgram(process.execPath, [
      join(repoRoot, "bin", "broadside.js"),
      "kill",
      "--kubeconfig",
      tokenKubeconfig,
      "-n",
      outside(),
      "-l",
      "app=web",
    ]);
    expect(killed.code, killed.stderr).toBe(4);
    expect(killed.stderr).toMatch(
      /^error \[BRD_KUBE_FORBIDDEN\]: the Kubernetes API answered 403 \(forbidden\): /m,
    );
    expect(killed.stderr).toContain(`User "${serviceAccount}" cannot`);
    expect(killed.stderr).toContain(outside());
    expect(killed.stderr).not.toMatch(/Headers|audit-id|HTTP-Code/);
    expect(await podUids(outside())).toEqual(untouched);
  });
});
