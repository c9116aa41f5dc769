import { Watch, type V1Deployment, type V1Pod } from "@kubernetes/client-node";
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { request as httpsRequest, type RequestOptions } from "node:https";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, inject, it } from "vitest";
import { refusalReasons } from "../../src/core/board/limits.js";
import { Duration } from "../../src/core/duration.js";
import { nearestRank } from "../../src/core/percentile.js";
import { ConfigMapLedgerStore, broadsideNamespace, ledgerObjectName } from "../../src/kube/ledger-store.js";
import type { KubeClients } from "../../src/kube/client.js";
import { defaultApiRateLimits } from "../../src/kube/throttled-http.js";
import { adminClients, eventually, isReady, kubectl, repoRoot, useTestNamespace } from "./harness.js";
import { followStream, type StreamEvent } from "./board-process.js";

/*
 * The board under a crowd (issue 11, "Load"): a real `broadside board` process on the sandbox, a fleet of
 * 20 Deployments of 10 pods (kwok makes them Ready), and 100 players, each an HTTP client of its own on
 * 127.0.1.N that joins with the game's code and then clicks 10 times a second for 60 s at cells of the
 * fleet. The shots the limits admit are exactly what docs/board.md's arithmetic allows, derived here
 * from the game's limits and the repairs the sea reported; no ship ever has fewer Ready pods than its
 * cap allows; the board's API traffic stays under its client's limit; every refusal is a 429 with a
 * Retry-After and a reason; and every pod is back by the end. Click-to-accepted latencies are reported,
 * not asserted (performance is never asserted in tests).
 */

const namespace = useTestNamespace("board-load");
const clusterRole = () => `broadside-board-load-operator-${namespace()}`;

const ships = 20;
const replicas = 10;
const players = 100;
const clickIntervalMs = 100;
const loadMs = 60_000;
/** Every click's stamps and answer. */
const clicks: Click[] = [];

interface Click {
  readonly player: number;
  readonly sentAt: number;
  readonly receivedAt: number;
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: ShotAnswer & RefusalAnswer;
}

interface ShotAnswer {
  readonly result?: "hit" | "miss" | "deflected";
  /** `at`: when the limits admitted the shot, on the board's clock (epoch ms). */
  readonly shot?: { readonly at: number; readonly pod?: string };
}

interface RefusalAnswer {
  readonly error?: { readonly code: string };
  readonly limit?: string;
  readonly reason?: string;
  readonly retryAfterSeconds?: number;
}

let board: ChildProcess | undefined;

afterAll(async () => {
  board?.kill("SIGKILL");
  const kube = adminClients();
  await kube.rbac.deleteClusterRoleBinding({ name: clusterRole() }).catch(() => undefined);
  await kube.rbac.deleteClusterRole({ name: clusterRole() }).catch(() => undefined);
  // The shots' ledger records (closed, one per hit) go with the namespace they were about.
  const records = await new ConfigMapLedgerStore(kube).list().catch(() => []);
  for (const record of records.filter((candidate) => candidate.target.namespace === namespace())) {
    await kube.core
      .deleteNamespacedConfigMap({ name: ledgerObjectName(record.id), namespace: broadsideNamespace })
      .catch(() => undefined);
  }
});

/** A Deployment `name` of `replicas` pods labelled app=<name>, small enough for 200 on 3 kwok nodes. */
function shipDeployment(name: string): V1Deployment {
  return {
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          terminationGracePeriodSeconds: 2,
          containers: [
            {
              name: "app",
              image: "registry.invalid/app:1",
              resources: { requests: { cpu: "10m", memory: "16Mi" } },
            },
          ],
        },
      },
    },
  };
}

const shipNames = Array.from({ length: ships }, (_, index) => `ship-${String(index).padStart(2, "0")}`);

async function deployFleet(): Promise<void> {
  const kube = adminClients();
  for (const name of shipNames) {
    await kube.apps.createNamespacedDeployment({ namespace: namespace(), body: shipDeployment(name) });
  }
  await eventually(
    `${ships * replicas} Ready pods`,
    async () => {
      const pods = await kube.core.listNamespacedPod({ namespace: namespace() });
      const ready = pods.items.filter((pod) => isReady(pod) && pod.metadata?.deletionTimestamp === undefined);
      return ready.length === ships * replicas ? true : undefined;
    },
    300_000,
  );
}

/** An operator: a ServiceAccount allowed `operate` on boards.broadside.dev, and a token minted for it. */
async function operatorToken(): Promise<string> {
  const kube = adminClients();
  await kube.core.createNamespacedServiceAccount({
    namespace: namespace(),
    body: { metadata: { name: "operator" } },
  });
  await kube.rbac.createClusterRole({
    body: {
      metadata: { name: clusterRole() },
      rules: [{ apiGroups: ["broadside.dev"], resources: ["boards"], verbs: ["operate"] }],
    },
  });
  await kube.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterRole() },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole() },
      subjects: [{ kind: "ServiceAccount", name: "operator", namespace: namespace() }],
    },
  });
  const minted = await kube.core.createNamespacedServiceAccountToken({
    name: "operator",
    namespace: namespace(),
    body: { spec: { audiences: [], expirationSeconds: 1800 } },
  });
  return minted.status?.token ?? "";
}

/**
 * `broadside board` on 127.0.0.1 (a port of its own); resolves with its URL. Its audit log (stderr) goes
 * to `auditFile`, a file rather than a pipe, so the test's own load never holds the board's writes up.
 */
function startBoard(auditFile: string): Promise<string> {
  const log = openSync(auditFile, "w");
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, "bin", "broadside.js"),
      "board",
      "--kubeconfig",
      inject("adminKubeconfig"),
      "--listen",
      "127.0.0.1:0",
    ],
    { stdio: ["ignore", "pipe", log] },
  );
  closeSync(log);
  board = child;
  return new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /board listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => {
      reject(new Error(`the board exited (${String(code)}); its log: ${auditFile}`));
    });
  });
}

/** A shot as the board's audit log has it: `at` is the time its limits decided, on the board's clock. */
interface AuditedShot {
  readonly playerId: string;
  readonly result: "hit" | "miss" | "deflected" | "refused";
  readonly limit?: "player" | "game" | "ship";
  readonly detail?: string;
  readonly at: number;
}

function auditedShots(auditFile: string): AuditedShot[] {
  return readFileSync(auditFile, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as AuditedShot & { action?: string })
    .filter((line) => line.action === "shot");
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | undefined;
  readonly body: unknown;
  readonly sentAt: number;
  readonly receivedAt: number;
}

/**
 * One HTTP request to the board through `agent` (a player's own kept-alive connections from its own
 * loopback address), JSON in and out.
 */
function call(
  agent: Agent,
  url: URL,
  method: string,
  path: string,
  body?: object,
  token?: string,
  resent = false,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {
    ...(payload === undefined ? {} : { "content-type": "application/json" }),
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  };
  const sentAt = Date.now();
  return new Promise((resolve, reject) => {
    const sent = request(
      { agent, hostname: url.hostname, port: url.port, method, path, headers },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({
            status: response.statusCode ?? 0,
            retryAfter: response.headers["retry-after"],
            body: text === "" ? undefined : (JSON.parse(text) as unknown),
            sentAt,
            receivedAt: Date.now(),
          });
        });
      },
    );
    sent.on("error", (error: NodeJS.ErrnoException) => {
      // The keep-alive race: the board closed an idle connection (keepAliveTimeout) just as the player's
      // agent reused it, so the request never reached the board. A browser sends such a request again
      // on a new connection (Node's documentation of `reusedSocket` shows the same); so does a player
      // here, once. A request the board did handle is never resent: its audit line would be counted twice.
      if (sent.reusedSocket && error.code === "ECONNRESET" && !resent) {
        resetsResent += 1;
        call(agent, url, method, path, body, token, true).then(resolve, reject);
        return;
      }
      reject(error);
    });
    sent.end(payload);
  });
}

/** Requests resent after the keep-alive race (`call`), printed with the load's figures. */
let resetsResent = 0;

interface Player {
  readonly index: number;
  readonly agent: Agent;
  readonly token: string;
}

/**
 * Player `index` joins from its own address, 127.0.1.(index + 1), as a phone in the audience would.
 * POST /api/join is rate-limited per address (a few joins per 10 s); a 429 is retried after its
 * Retry-After, so the test holds whatever that limit's numbers.
 */
async function joinGame(url: URL, code: string, index: number): Promise<Player> {
  // At most 4 connections at once, as a browser holds about 6 per origin: clicks beyond wait for one.
  const agent = new Agent({ keepAlive: true, maxSockets: 4, localAddress: `127.0.1.${index + 1}` });
  for (let attempt = 0; attempt < 20; attempt += 1) {
    const answer = await call(agent, url, "POST", "/api/join", { code, nickname: `player ${index}` });
    if (answer.status === 200) return { index, agent, token: (answer.body as { token: string }).token };
    if (answer.status !== 429) throw new Error(`join: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
    await sleep(Number(answer.retryAfter ?? "1") * 1000);
  }
  throw new Error(`player ${index} could not join in 20 attempts`);
}

interface Cell {
  readonly row: number;
  readonly col: number;
  readonly pod?: { readonly ready: boolean };
}

interface BoardState {
  readonly grids: readonly {
    readonly namespace: string;
    readonly ships: readonly { readonly key: string; readonly cells: readonly Cell[] }[];
  }[];
}

/** The fleet's cells once every ship is on the board with all its pods Ready. */
async function fleetCells(url: URL): Promise<Cell[]> {
  return eventually("every ship on the board, all pods Ready", async () => {
    const state = (await (await fetch(new URL("/api/board", url))).json()) as BoardState;
    const cells = state.grids[0]?.ships.flatMap((ship) => ship.cells) ?? [];
    const ready = cells.filter((cell) => cell.pod?.ready === true);
    return ready.length === ships * replicas ? cells : undefined;
  });
}

/** Player `player` clicks every 100 ms for the load's 60 s from `start` (+ its phase), at random ship cells. */
async function clickFor(url: URL, player: Player, cells: readonly Cell[], start: number): Promise<void> {
  const phase = (player.index * clickIntervalMs) / players;
  const pending: Promise<void>[] = [];
  for (let k = 0; k < loadMs / clickIntervalMs; k += 1) {
    const due = start + phase + k * clickIntervalMs;
    await sleep(Math.max(0, due - Date.now()));
    const cell = cells[Math.floor(Math.random() * cells.length)] ?? { row: 0, col: 0 };
    const shot = { namespace: namespace(), row: cell.row, col: cell.col, weapon: "torpedo" };
    const sentAt = Date.now();
    pending.push(
      call(player.agent, url, "POST", "/api/shots", shot, player.token).then(
        (answer) => {
          clicks.push({
            player: player.index,
            sentAt,
            receivedAt: answer.receivedAt,
            status: answer.status,
            retryAfter: answer.retryAfter,
            body: answer.body as ShotAnswer & RefusalAnswer,
          });
        },
        (error: unknown) => {
          // A click the board never answered: status 0, which the test's status check reports.
          const body = { error: { code: String(error) } };
          clicks.push({
            player: player.index,
            sentAt,
            receivedAt: Date.now(),
            status: 0,
            retryAfter: undefined,
            body,
          });
        },
      ),
    );
  }
  await Promise.all(pending);
}

interface SeaEvent {
  readonly type: "kill" | "repaired";
  readonly podUid: string;
  readonly at: number;
}

/** The spectators' stream's `sea` events so far (kills and repairs, stamped by the board). */
function seaEvents(stream: readonly StreamEvent[]): SeaEvent[] {
  return stream.map((each) => (each.data as { event: SeaEvent }).event);
}

/**
 * Ready pods per ship as the cluster has them: a watch of the namespace's pods (after a list), and the
 * fewest Ready, not terminating pods each ship had at any moment since.
 */
async function watchShipReadiness(signal: AbortSignal): Promise<Map<string, number>> {
  const kube = adminClients();
  const listed = await kube.core.listNamespacedPod({ namespace: namespace() });
  const pods = new Map<string, { ship: string; up: boolean }>();
  const fewest = new Map<string, number>();
  const note = (pod: V1Pod, gone: boolean): string => {
    const ship = pod.metadata?.labels?.["app"] ?? "";
    const up = !gone && isReady(pod) && pod.metadata?.deletionTimestamp === undefined;
    pods.set(pod.metadata?.uid ?? "", { ship, up });
    return ship;
  };
  const count = (ship: string): void => {
    const ready = [...pods.values()].filter((known) => known.ship === ship && known.up).length;
    fewest.set(ship, Math.min(fewest.get(ship) ?? ready, ready));
  };
  for (const pod of listed.items) note(pod, false);
  for (const ship of shipNames) count(ship);
  const watching = await new Watch(kube.config).watch(
    `/api/v1/namespaces/${namespace()}/pods`,
    { resourceVersion: listed.metadata?.resourceVersion ?? "0" },
    (type: string, pod: V1Pod) => {
      count(note(pod, type === "DELETED"));
    },
    () => undefined,
  );
  signal.addEventListener("abort", () => {
    watching.abort();
  });
  return fewest;
}

/**
 * The API server's count of resource requests (apiserver_request_total), leaving out leases, events,
 * status subresources and WATCH (counted when a watch ends): the board's DELETEs, ledger writes and
 * kill-switch reads, plus, from other clients, kube-controller-manager's pod creates and kwok's final
 * pod deletes. The metric names no client, so this over-counts the board: an upper bound of its rate.
 */
async function requestCount(kube: KubeClients): Promise<number> {
  const server = new URL(kube.config.getCurrentCluster()?.server ?? "");
  const options: RequestOptions = {};
  await kube.config.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    const sent = httpsRequest(
      { ...options, hostname: server.hostname, port: server.port, path: "/metrics", method: "GET" },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          resolve(Buffer.concat(chunks).toString("utf8"));
        });
      },
    );
    sent.on("error", reject);
    sent.end();
  });
  let total = 0;
  for (const match of text.matchAll(/^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$/gm)) {
    const labels = match[1] ?? "";
    const resource = /resource="([^"]*)"/.exec(labels)?.[1] ?? "";
    const noise =
      ["", "leases", "events"].includes(resource) ||
      /subresource="[^"]+"/.test(labels) ||
      labels.includes('verb="WATCH"');
    if (!noise) total += Number(match[2]);
  }
  return total;
}

/** Samples the request count about once a second until `until`: the requests per second in each interval. */
async function sampleRequestRate(until: number): Promise<number[]> {
  const kube = adminClients();
  const rates: number[] = [];
  let before = { at: Date.now(), count: await requestCount(kube) };
  while (Date.now() < until) {
    await sleep(1_000);
    const now = { at: Date.now(), count: await requestCount(kube) };
    rates.push(((now.count - before.count) * 1000) / (now.at - before.at));
    before = now;
  }
  return rates;
}

function percentiles(values: readonly number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: nearestRank(sorted, 50) ?? Number.NaN,
    p99: nearestRank(sorted, 99) ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * The limit's rule, replayed over its decisions as the board made them (docs/board.md, "Shot limits"): a
 * token bucket in whole numbers, `shots` per `perMs` with a burst of `shots` (the budget's sliding
 * window is the same rule with no refill between: see budgetAllows). Each decision is `[at, admitted]`;
 * returns how many the rule would have decided otherwise. Decisions of the same ms are replayed
 * admissions first: within a ms nothing frees, so a refusal there came after them.
 */
function bucketMismatches(decisions: readonly (readonly [number, boolean])[], rate: Rate): number {
  const capacity = rate.shots * rate.perMs;
  let credit = capacity;
  let last = Number.NEGATIVE_INFINITY;
  let mismatches = 0;
  for (const [at, admitted] of ordered(decisions)) {
    credit = Math.min(capacity, credit + (last === Number.NEGATIVE_INFINITY ? 0 : (at - last) * rate.shots));
    last = at;
    const allows = credit >= rate.perMs;
    if (allows !== admitted) mismatches += 1;
    if (admitted) credit -= rate.perMs;
  }
  return mismatches;
}

/** The budget's rule: a shot is allowed when fewer than `shots` were admitted in (at - perMs, at]. */
function budgetMismatches(decisions: readonly (readonly [number, boolean])[], rate: Rate): number {
  const admittedAt: number[] = [];
  let mismatches = 0;
  for (const [at, admitted] of ordered(decisions)) {
    const inWindow = admittedAt.filter((earlier) => earlier > at - rate.perMs).length;
    if (inWindow < rate.shots !== admitted) mismatches += 1;
    if (admitted) admittedAt.push(at);
  }
  return mismatches;
}

function ordered(decisions: readonly (readonly [number, boolean])[]): (readonly [number, boolean])[] {
  return [...decisions].sort(
    ([a, admittedA], [b, admittedB]) => a - b || Number(admittedB) - Number(admittedA),
  );
}

interface Rate {
  readonly shots: number;
  readonly perMs: number;
}

/**
 * The decisions each limit made, replayed against its rule. A player's bucket sees every shot the player
 * fired (hits, deflected, misses) and its "reloading" refusals; the budget sees the shots admitted at
 * ships and its own refusals (the limits are asked player, ship, budget, so a shot refused earlier never
 * reached it). The ship cap's decisions need the sea's view of Ready pods: it is checked on the cluster.
 */
function replayLimits(audited: readonly AuditedShot[], limits: Limits): { player: number; game: number } {
  const fired = (shot: AuditedShot): boolean => shot.result !== "refused";
  const byPlayer = new Map<string, (readonly [number, boolean])[]>();
  for (const shot of audited) {
    if (!fired(shot) && shot.limit !== "player") continue;
    const decisions = byPlayer.get(shot.playerId) ?? [];
    decisions.push([shot.at, fired(shot)]);
    byPlayer.set(shot.playerId, decisions);
  }
  const budget = audited.flatMap((shot): (readonly [number, boolean])[] =>
    shot.result === "hit" || shot.result === "deflected"
      ? [[shot.at, true]]
      : shot.limit === "game"
        ? [[shot.at, false]]
        : [],
  );
  return {
    player: [...byPlayer.values()].reduce(
      (sum, decisions) => sum + bucketMismatches(decisions, limits.player),
      0,
    ),
    game: budgetMismatches(budget, limits.game),
  };
}

interface GameLimits {
  readonly player: { readonly shots: number; readonly per: string };
  readonly game: { readonly shots: number; readonly per: string };
}

interface Limits {
  readonly player: Rate;
  readonly game: Rate;
}

function checkRefusals(refused: readonly Click[]): void {
  for (const click of refused) {
    expect(click.retryAfter).toMatch(/^[1-9]\d*$/);
    expect(click.body.retryAfterSeconds).toBe(Number(click.retryAfter));
    expect(Object.values(refusalReasons)).toContain(click.body.reason);
    expect(click.body.reason).toBe(refusalReasons[click.body.limit as keyof typeof refusalReasons]);
  }
}

/**
 * The limits' arithmetic over the load's budget windows (60 of 1 s), counted from the first admitted
 * shot on the board's clock (docs/board.md, "Shot limits"): the least of the budget (3 a window), the
 * ships' caps (floor(10 / 2) each at once, and each repair the sea reported in those windows, or shot
 * the cluster deflected, gives a pod back to its ship) and the players' buckets (1 per 3 s each).
 */
function arithmetic(shots: readonly AuditedShot[], sea: readonly SeaEvent[], limits: Limits) {
  const atShips = shots.filter((shot) => shot.result === "hit" || shot.result === "deflected");
  const first = Math.min(...atShips.map((shot) => shot.at));
  const windows = loadMs / limits.game.perMs;
  const end = first + windows * limits.game.perMs;
  const inWindows = (at: number): boolean => at >= first && at < end;
  const budget = limits.game.shots * windows;
  const caps = ships * Math.floor(replicas / 2);
  const repairs = sea.filter((event) => event.type === "repaired" && inWindows(event.at)).length;
  const deflected = atShips.filter((shot) => shot.result === "deflected" && inWindows(shot.at)).length;
  const shipBound = caps + repairs + deflected;
  const playerBound =
    players * limits.player.shots * Math.ceil((windows * limits.game.perMs) / limits.player.perMs);
  const counted = atShips.filter((shot) => inWindows(shot.at)).length;
  const idle = idleMs(
    atShips.map((shot) => shot.at),
    limits.game,
  );
  console.log(
    [
      `  the limits' arithmetic over the ${windows} budget windows from the first admitted shot: min(budget ${limits.game.shots} x ${windows} = ${budget}, ships ${caps} + ${repairs} repairs + ${deflected} deflected = ${shipBound}, players ${playerBound}) = ${Math.min(budget, shipBound, playerBound)}`,
      `  admitted at ships in those windows: ${counted}; over the whole load, the budget's slots stood free ${idle} ms in all while the board decided no shot that could take one`,
    ].join("\n"),
  );
  return { budget, shipBound, playerBound };
}

function report(
  limits: Limits,
  leastReady: number,
  rate: { readonly mean: number; readonly max: number },
): void {
  const fired = clicks.filter((click) => click.status === 200);
  const latency = percentiles(
    fired.filter((click) => click.body.result === "hit").map((c) => c.receivedAt - c.sentAt),
  );
  const refused = clicks.filter((click) => click.status === 429);
  const byLimit = (limit: string) => refused.filter((click) => click.body.limit === limit).length;
  const result = (kind: string) => fired.filter((click) => click.body.result === kind).length;
  console.log(
    [
      `board load: ${players} players x ${1000 / clickIntervalMs} clicks/s x ${loadMs / 1000} s = ${clicks.length} clicks`,
      `  answered: ${result("hit")} hit, ${result("deflected")} deflected, ${result("miss")} miss; refused ${byLimit("player")} reloading, ${byLimit("game")} budget, ${byLimit("ship")} ship`,
      `  limits: ${limits.player.shots} per ${limits.player.perMs} ms per player, ${limits.game.shots} per ${limits.game.perMs} ms per game`,
      `  fewest Ready pods of any ship: ${leastReady} of ${replicas} (its cap leaves ${replicas - Math.floor(replicas / 2)})`,
      `  API requests/s (the server's count, an upper bound of the board's): mean ${rate.mean.toFixed(1)}, max ${rate.max.toFixed(1)}; the client's limit ${defaultApiRateLimits.qps}`,
      `  click to accepted (hit): p50 ${latency.p50} ms, p99 ${latency.p99} ms, max ${latency.max} ms`,
      `  clicks sent again after the keep-alive race (a reused connection reset before the board read them): ${resetsResent}`,
      `  machine load average (1, 5, 15 min): ${loadavg()
        .map((load) => load.toFixed(1))
        .join(", ")}`,
    ].join("\n"),
  );
}

describe("the board under 100 players clicking 10 times a second for 60 s", () => {
  it("admits exactly what the limits allow, keeps every ship above its cap and the API under its limit, and every pod comes back", async () => {
    const annotated = await kubectl(
      inject("adminKubeconfig"),
      "annotate",
      "namespace",
      namespace(),
      "broadside.dev/chaos=enabled",
    );
    expect(annotated.code, annotated.stderr).toBe(0);
    await deployFleet();
    const token = await operatorToken();
    const logDir = mkdtempSync(join(tmpdir(), "broadside-board-load-"));
    const auditFile = join(logDir, "board.log");
    const url = new URL(await startBoard(auditFile));
    const operator = new Agent({ keepAlive: true });
    const opened = await eventually("the operator's ClusterRoleBinding to take effect", async () => {
      const answer = await call(
        operator,
        url,
        "POST",
        "/api/operator/game",
        { namespaces: [namespace()] },
        token,
      );
      return answer.status === 201 ? answer : undefined;
    });
    const { code, game } = opened.body as { code: string; game: { limits: GameLimits } };
    const playerPer = Duration.parse(game.limits.player.per, "player.per").milliseconds;
    const gamePer = Duration.parse(game.limits.game.per, "game.per").milliseconds;
    const cells = await fleetCells(url);

    const stop = new AbortController();
    const stream = followStream(url.toString().replace(/\/$/, ""), stop.signal, "sea");
    const fewestReady = await watchShipReadiness(stop.signal);
    try {
      const crowd = await Promise.all(
        Array.from({ length: players }, (_, index) => joinGame(url, code, index)),
      );
      const start = Date.now() + 500;
      const [rates] = await Promise.all([
        sampleRequestRate(start + loadMs),
        ...crowd.map((player) => clickFor(url, player, cells, start)),
      ]);

      // Every pod back: each ship has all its pods Ready and none terminating, each kill its repair.
      await deployFleetRecovered();
      await eventually("a repair on the sea for every kill", () => {
        const sea = seaEvents(stream);
        const repaired = new Set(sea.filter((e) => e.type === "repaired").map((e) => e.podUid));
        const kills = sea.filter((e) => e.type === "kill");
        return kills.every((kill) => repaired.has(kill.podUid)) ? true : undefined;
      });

      // Every refusal is a 429 with a Retry-After of whole seconds and one of the three reasons; nothing else failed.
      const statuses = [...new Set(clicks.map((click) => click.status))].sort();
      // A click the board never answered says why (its client error, e.g. a reset connection) and when.
      const unanswered = clicks
        .filter((click) => click.status === 0)
        .map(
          (click) =>
            `${(click.body as { error: { code: string } }).error.code} ${String(click.sentAt - start)} ms in`,
        );
      expect(
        statuses,
        `the board's log: ${auditFile}; unanswered: ${unanswered.slice(0, 5).join("; ")}`,
      ).toEqual([200, 429]);
      checkRefusals(clicks.filter((click) => click.status === 429));

      // Every click is in the audit log, with the time its limits decided on the board's clock.
      const audited = auditedShots(auditFile);
      expect(audited).toHaveLength(clicks.length);
      const limits = {
        player: { shots: game.limits.player.shots, perMs: playerPer },
        game: { shots: game.limits.game.shots, perMs: gamePer },
      };
      const mismatches = replayLimits(audited, limits);
      const bounds = arithmetic(audited, seaEvents(stream), limits);
      const leastReady = Math.min(...shipNames.map((name) => fewestReady.get(name) ?? 0));
      const rate = { mean: rates.reduce((a, b) => a + b, 0) / rates.length, max: Math.max(...rates) };
      report(limits, leastReady, rate);

      // Exactly what the limits allow, decision by decision: the per-player buckets and the budget replayed
      // over what the board decided, with the ships' caps checked on the cluster itself below.
      expect(mismatches).toEqual({ player: 0, game: 0 });
      // The repairs kwok makes within seconds give the ships far more than the budget: the budget binds.
      expect(bounds.shipBound).toBeGreaterThan(bounds.budget);
      expect(bounds.playerBound).toBeGreaterThan(bounds.budget);
      // No ship ever had fewer Ready pods than its cap leaves it; the API traffic stayed under the limit.
      expect(leastReady).toBeGreaterThanOrEqual(replicas - Math.floor(replicas / 2));
      expect(rate.max).toBeLessThan(defaultApiRateLimits.qps);
      rmSync(logDir, { recursive: true, force: true });
    } finally {
      stop.abort();
    }
    const closed = await call(operator, url, "DELETE", "/api/operator/game", undefined, token);
    expect(closed.status).toBe(200);
    board?.kill("SIGTERM");
  }, 900_000);
});

/** Every ship has all its pods Ready and none terminating. */
async function deployFleetRecovered(): Promise<void> {
  const kube = adminClients();
  await eventually(
    "every pod of the fleet back",
    async () => {
      const pods = await kube.core.listNamespacedPod({ namespace: namespace() });
      const terminating = pods.items.filter((pod) => pod.metadata?.deletionTimestamp !== undefined);
      const ready = pods.items.filter((pod) => isReady(pod));
      return terminating.length === 0 && ready.length === ships * replicas ? true : undefined;
    },
    180_000,
  );
}

/**
 * How long the budget's slots stood free in total: each slot is reused by the shot `allowed` places
 * later, which came `gap - per` ms after the slot freed. Reported: it is why a minute can fall short of
 * its windows (a slot freed while no eligible click was on its way).
 */
function idleMs(times: readonly number[], rate: Rate): number {
  const sorted = [...times].sort((a, b) => a - b);
  let idle = 0;
  for (let i = 0; i + rate.shots < sorted.length; i += 1) {
    idle += (sorted[i + rate.shots] ?? 0) - (sorted[i] ?? 0) - rate.perMs;
  }
  return idle;
}
