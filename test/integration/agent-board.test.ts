import { CoordinationV1Api } from "@kubernetes/client-node";
import { afterAll, describe, expect, inject, it } from "vitest";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import {
  type RunningAgent,
  boardLabelledPods,
  freeLoopbackPort,
  logged,
  optIntoChaos,
  serviceEndpointPods,
  startElectedAgentIn,
  until,
} from "./agent-process.js";
import { createOperator, removeOperator } from "./board-process.js";
import {
  adminClients,
  deployAndWait,
  eventually,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/*
 * The board served by the resident agent (`broadside agent --board-listen`, issue 11; docs/board.md, "In
 * the cluster"): two replicas on the sandbox, each with its own board port. The leader serves the board:
 * a ServiceAccount operator logs in and opens a game, a player joins and fires a torpedo that kills a pod
 * (recorded in the ledger first, naming the player, and in the board's audit log) and a fog that drifts a
 * ConfigMap. The standby answers every route 503 BRD_BOARD_STANDBY naming the leader, and takes no shot.
 * Then the Lease is taken from the leader: its board stops taking shots at once, the fog is reverted, and
 * the port stands by; once the Lease is free again a replica leads and serves a fresh board.
 *
 * Each replica runs "in" a pod of a Deployment standing for the chart's (BROADSIDE_POD_NAME, as the chart's
 * Downward API sets it), beside a Service selecting those pods and the leader's label, as the chart's
 * `broadside-agent-board` does: its EndpointSlice names the leader's pod alone, none while nobody leads,
 * then the next leader's.
 */

const namespace = useTestNamespace("agent-board");
const replicas = useTestNamespace("agent-board-replicas");
const clusterRole = () => `broadside-board-operator-${namespace()}`;

afterAll(async () => {
  await removeOperator(clusterRole());
});

interface Cell {
  readonly row: number;
  readonly col: number;
  readonly pod?: { readonly name: string; readonly uid: string; readonly ready: boolean };
}

interface BoardState {
  readonly game: { readonly id: string } | null;
  readonly grids: { readonly ships: { readonly key: string; readonly cells: Cell[] }[] }[];
}

function tail(agent: RunningAgent): string {
  return agent.logs
    .slice(-15)
    .map((line) => JSON.stringify(line))
    .join("\n");
}

/** The last of the agent's board's three states it logged. */
function boardState(agent: RunningAgent): string | undefined {
  const states = ["board standing by", "board serving: leading", "board stopped: no longer leading"];
  return agent.logs.filter((line) => states.includes(String(line.msg))).at(-1)?.msg;
}

function request(url: string, method: string, bearer: string | undefined, body?: object) {
  return fetch(url, {
    method,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function configValue(): Promise<string | undefined> {
  const map = await adminClients().core.readNamespacedConfigMap({
    namespace: namespace(),
    name: "fleet-settings",
  });
  return map.data?.["level"];
}

/** web (4 pods) and tuned (2 pods, reading the ConfigMap fleet-settings: a fog's target), opted in. */
async function deployFleet(): Promise<void> {
  await optIntoChaos(namespace());
  await deployAndWait(namespace(), testDeployment("web", 4));
  await adminClients().core.createNamespacedConfigMap({
    namespace: namespace(),
    body: { metadata: { name: "fleet-settings" }, data: { level: "info" } },
  });
  const tuned = testDeployment("tuned", 2);
  const container = tuned.spec?.template.spec?.containers[0];
  if (container !== undefined) {
    container.env = [
      { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "fleet-settings", key: "level" } } },
    ];
  }
  await deployAndWait(namespace(), tuned);
}

/**
 * Two pods standing for the chart's replicas, and the board's Service over them: the first two pods' names.
 * The second carries the leader's label already, as a leader that hung would have left it.
 */
async function deployReplicas(): Promise<[string, string]> {
  await deployAndWait(replicas(), testDeployment("agent", 2));
  await adminClients().core.createNamespacedService({
    namespace: replicas(),
    body: {
      metadata: { name: "board" },
      spec: {
        selector: { app: "agent", "broadside.dev/board": "leader" },
        ports: [{ name: "http-board", port: 8090, targetPort: 8090 }],
      },
    },
  });
  const pods = await adminClients().core.listNamespacedPod({
    namespace: replicas(),
    labelSelector: "app=agent",
  });
  const [first, second] = pods.items.map((pod) => pod.metadata?.name ?? "");
  if (first === undefined || second === undefined) throw new Error("the replicas' pods are not there");
  const stale = await kubectl(
    inject("adminKubeconfig"),
    ...["label", "pod", second, "-n", replicas(), "broadside.dev/board=leader"],
  );
  expect(stale.code, stale.stderr).toBe(0);
  await until("the stale label's endpoint", () => serviceEndpointPods(replicas(), "board"), [second]);
  return [first, second];
}

/** A shot by `player` at `cell` of the board at `base`. */
function fire(base: string, player: string, cell: Cell, weapon: string) {
  return request(`${base}/api/shots`, "POST", player, {
    namespace: namespace(),
    row: cell.row,
    col: cell.col,
    weapon,
  });
}

/** The Ready cells of `ship` on the board at `base`, once it has `ready` of them. */
function readyCells(base: string, ship: string, ready: number): Promise<Cell[]> {
  return eventually(`${ship}'s ship with ${ready} Ready pods`, async () => {
    const state = (await (await fetch(`${base}/api/board`)).json()) as BoardState;
    const found = state.grids[0]?.ships.find((candidate) => candidate.key === ship);
    const cells = found?.cells.filter((candidate) => candidate.pod?.ready === true) ?? [];
    return cells.length === ready ? cells : undefined;
  });
}

/** The Lease's holder now. */
async function leaseHolder(): Promise<string | undefined> {
  const lease = await adminClients()
    .config.makeApiClient(CoordinationV1Api)
    .readNamespacedLease({ name: "broadside-agent", namespace: "broadside-system" });
  return lease.spec?.holderIdentity ?? undefined;
}

/** Whether the pod with `uid` is deleted or being deleted. */
async function podGoing(uid: string): Promise<true | undefined> {
  const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
  const victim = pods.items.find((candidate) => candidate.metadata?.uid === uid);
  return victim === undefined || victim.metadata?.deletionTimestamp !== undefined ? true : undefined;
}

describe("the board served by the agent's leader", () => {
  it("serves games on the leader only, and stops taking shots and reverts when leadership is lost", async () => {
    await deployFleet();
    const token = await createOperator(namespace(), clusterRole());

    const [leaderPod, standbyPod] = await deployReplicas();
    const admin = inject("adminKubeconfig");

    // Two replicas, each holding its board port; the first leads, the second stands by.
    const leaderPort = await freeLoopbackPort();
    const leader = startElectedAgentIn(
      { namespace: replicas(), name: leaderPod },
      admin,
      ...["--board-listen", `127.0.0.1:${leaderPort}`],
    );
    await logged(leader, "board serving: leading");
    const standbyPort = await freeLoopbackPort();
    const standby = startElectedAgentIn(
      { namespace: replicas(), name: standbyPod },
      admin,
      ...["--board-listen", `127.0.0.1:${standbyPort}`],
    );
    await logged(standby, "board standing by");
    // The leader took the stale label off the standby's pod and put it on its own: the Service reaches it alone.
    await until(
      "the board's Service to reach the leader alone",
      () => serviceEndpointPods(replicas(), "board"),
      [leaderPod],
    );
    expect(await boardLabelledPods(replicas())).toEqual([leaderPod]);
    expect(await logged(leader, "board pod labelled: leader")).toMatchObject({ unlabelled: [standbyPod] });
    const url = `http://127.0.0.1:${leaderPort}`;
    const standbyUrl = `http://127.0.0.1:${standbyPort}`;
    const identity = await eventually("the Lease to name the leader", leaseHolder);

    // The leader: the operator's login (TokenReview, SubjectAccessReview), a game on the namespace.
    expect((await request(`${url}/api/operator/game`, "POST", undefined, {})).status).toBe(401);
    const login = await eventually("the ClusterRoleBinding to take effect", async () => {
      const response = await request(`${url}/api/operator/login`, "POST", token);
      return response.status === 200 ? ((await response.json()) as { user: string }) : undefined;
    });
    expect(login.user).toBe(`system:serviceaccount:${namespace()}:operator`);
    const opened = await request(`${url}/api/operator/game`, "POST", token, {
      namespaces: [namespace()],
      weapons: ["torpedo", "fog"],
      revertAfter: "5m",
    });
    expect(opened.status, await opened.clone().text()).toBe(201);
    const { code } = (await opened.json()) as { code: string };

    const [cell] = await readyCells(url, "Deployment/web", 4);
    const pod = cell?.pod;
    if (cell === undefined || pod === undefined) throw new Error("no pod in web's cell");
    const joined = await request(`${url}/api/join`, "POST", undefined, { code, nickname: "Ada" });
    expect(joined.status).toBe(200);
    const player = (await joined.json()) as { token: string; playerId: string };

    // The standby serves no game and takes no shot, whatever it is sent: 503, naming the leader.
    const refusedShot = await fire(standbyUrl, player.token, cell, "torpedo");
    expect(refusedShot.status).toBe(503);
    expect(refusedShot.headers.get("retry-after")).toBe("5");
    expect(refusedShot.headers.get("content-security-policy")).toContain("default-src 'none'");
    const refusal = (await refusedShot.json()) as { error: { code: string; message: string } };
    expect(refusal.error.code).toBe("BRD_BOARD_STANDBY");
    expect(refusal.error.message).toContain(identity);
    for (const [method, path] of [
      ["POST", "/api/operator/login"],
      ["POST", "/api/join"],
      ["GET", "/api/board"],
    ] as const) {
      expect((await request(`${standbyUrl}${path}`, method, token)).status, path).toBe(503);
    }
    expect(await (await fetch(`${standbyUrl}/healthz`)).text()).toBe("ok\n");
    const untouched = await adminClients().core.readNamespacedPod({ namespace: namespace(), name: pod.name });
    expect(untouched.metadata?.deletionTimestamp).toBeUndefined();
    expect(standby.logs.filter((line) => line["action"] === "shot")).toEqual([]);

    // The leader takes the torpedo: the pod is deleted, the ledger and the audit log name the player.
    const shot = await fire(url, player.token, cell, "torpedo");
    expect(shot.status, await shot.clone().text()).toBe(200);
    expect(await shot.json()).toMatchObject({ result: "hit", shot: { nickname: "Ada", pod: pod.name } });
    await eventually("the pod to be deleted", () => podGoing(pod.uid));
    const ledger = new ConfigMapLedgerStore(adminClients());
    const record = (await ledger.list()).find((candidate) => candidate.target.uid === pod.uid);
    expect(record).toMatchObject({ faultKind: "pod-kill", target: { kind: "Pod", name: pod.name } });
    expect(record?.actor.user).toContain(`board player ${player.playerId}`);
    const audited = await eventually("the shot in the board's audit log", () =>
      leader.logs.find((line) => line["component"] === "board" && line["action"] === "shot"),
    );
    expect(audited).toMatchObject({ playerId: player.playerId, result: "hit", pod: pod.name });
    expect(JSON.stringify(leader.logs)).not.toContain(player.token);
    expect(JSON.stringify(leader.logs)).not.toContain(token);

    // A fog in flight: the ConfigMap tuned reads is drifted, to be kept for 5 minutes.
    const [fogCell] = await readyCells(url, "Deployment/tuned", 2);
    if (fogCell === undefined) throw new Error("no cell of tuned");
    await eventually("the player's bucket to reload", async () => {
      const fog = await fire(url, player.token, fogCell, "fog");
      if (fog.status === 429) return undefined;
      expect(fog.status, await fog.clone().text()).toBe(200);
      expect(await fog.json()).toMatchObject({ result: "hit" });
      return true;
    });
    expect(await configValue()).not.toBe("info");

    // The Lease taken from the leader (as a partition would): its board stops at once, the fog reverted.
    // A MicroTime: the API server wants six decimals.
    const renewTime = new Date().toISOString().replace(/Z$/, "000Z");
    const stolen = await kubectl(
      inject("adminKubeconfig"),
      ...["patch", "lease", "broadside-agent", "-n", "broadside-system", "--type", "merge", "-p"],
      JSON.stringify({ spec: { holderIdentity: "elsewhere", renewTime, leaseDurationSeconds: 15 } }),
    );
    expect(stolen.code, stolen.stderr).toBe(0);
    await logged(leader, "board stopped: no longer leading");
    // Its pod lost the label as its board stopped: while "elsewhere" holds the Lease, no pod is the board's.
    await logged(leader, "board pod unlabelled");
    expect(await boardLabelledPods(replicas())).toEqual([]);
    await until("the board's Service to reach no pod", () => serviceEndpointPods(replicas(), "board"), []);
    const lostShot = await eventually("the old leader's port to stand by", async () => {
      const response = await fire(url, player.token, cell, "torpedo").catch(() => undefined);
      return response?.status === 503 ? response : undefined;
    });
    expect(((await lostShot.json()) as { error: { code: string } }).error.code).toBe("BRD_BOARD_STANDBY");
    expect(await configValue()).toBe("info");
    const fogRecords = (await ledger.list()).filter(
      (candidate) => candidate.faultKind === "config-drift" && candidate.target.namespace === namespace(),
    );
    expect(fogRecords.length).toBeGreaterThan(0);
    expect(fogRecords.every((candidate) => candidate.state === "closed")).toBe(true);
    expect(fogRecords[0]).toMatchObject({ outcome: { kind: "reverted" } });

    // Once the stolen Lease expires, a replica leads again and serves a fresh board: no game open.
    const next = await eventually(
      "a replica to serve the board again",
      () => [leader, standby].find((agent) => boardState(agent) === "board serving: leading"),
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${tail(leader)}\n${tail(standby)}`, { cause: error });
    });
    const [nextUrl, nextPod] = next === leader ? [url, leaderPod] : [standbyUrl, standbyPod];
    await until(
      "the board's Service to reach the next leader alone",
      () => serviceEndpointPods(replicas(), "board"),
      [nextPod],
    );
    expect(await boardLabelledPods(replicas())).toEqual([nextPod]);
    const fresh = (await (await fetch(`${nextUrl}/api/board`)).json()) as BoardState;
    expect(fresh.game).toBeNull();
    const oldToken = await fire(nextUrl, player.token, cell, "torpedo");
    expect(oldToken.status).toBe(401);

    for (const agent of [leader, standby]) agent.child.kill("SIGTERM");
    expect(await leader.exited, tail(leader)).toBe(0);
    expect(await standby.exited, tail(standby)).toBe(0);
    // The leader that stopped took its label with it.
    expect(await boardLabelledPods(replicas())).toEqual([]);
  }, 300_000);
});
