import { existsSync } from "node:fs";
import { mkdtemp, readFile, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openGameday, type Gameday } from "../../src/cli/gameday.js";
import { gamedayDefaults, planGameday } from "../../src/cli/gameday-plan.js";
import { systemClock } from "../../src/core/clock.js";
import { deployDemoFleet } from "../../src/demo/demo.js";
import { demoNamespaces } from "../../src/demo/fleet.js";
import {
  boardClusterRole,
  boardServiceAccount,
  operatorClusterRole,
  operatorServiceAccount,
} from "../../src/demo/gameday-identities.js";
import { ClusterAccessReviewer } from "../../src/kube/access-review.js";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import { adminClients, broadside, config, eventually, httpStatusOf, sandboxDoors } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/*
 * `broadside gameday`'s steps on the shared sandbox (the command itself starts a sandbox of its own, too
 * heavy beside the other files): with the demo fleet deployed, openGameday opts its namespaces in, makes
 * the operator's and the board's identities, starts the board under the board's own ServiceAccount and
 * opens the game with the operator's token. A player joins with the code and hits a pod through the
 * ledger; the identities hold no more than they need; ending it closes the game and stops the board.
 */

const namespaces = demoNamespaces().map((namespace) => namespace.metadata?.name ?? "");

beforeAll(async () => {
  await deployDemoFleet(adminClients(), {
    frontDoorPorts: { kind: "auto" },
    doors: () => sandboxDoors(),
    clock: systemClock,
  });
}, 300_000);

afterAll(async () => {
  const kube = adminClients();
  const ignore = () => undefined;
  for (const name of namespaces) await kube.core.deleteNamespace({ name }).catch(ignore);
  await kube.rbac.deleteClusterRole({ name: operatorClusterRole }).catch(ignore);
  await kube.rbac.deleteClusterRole({ name: boardClusterRole }).catch(ignore);
  for (const name of [boardClusterRole, `${boardClusterRole}-auth-delegator`])
    await kube.rbac.deleteClusterRoleBinding({ name }).catch(ignore);
  const namespace = "broadside-system";
  await kube.rbac.deleteNamespacedRole({ name: boardClusterRole, namespace }).catch(ignore);
  for (const name of [boardClusterRole, operatorServiceAccount])
    await kube.rbac.deleteNamespacedRoleBinding({ name, namespace }).catch(ignore);
  for (const name of [boardServiceAccount, operatorServiceAccount])
    await kube.core.deleteNamespacedServiceAccount({ name, namespace }).catch(ignore);
  for (const name of namespaces) {
    await eventually(
      `namespace ${name} to be gone`,
      async () =>
        (await kube.core.readNamespace({ name }).then(
          () => undefined,
          (error: unknown) => (httpStatusOf(error) === 404 ? true : undefined),
        )) ?? undefined,
      180_000,
    );
  }
}, 300_000);

interface Cell {
  readonly row: number;
  readonly col: number;
  readonly pod?: { readonly name: string; readonly uid: string; readonly ready: boolean };
}

interface BoardState {
  readonly game: {
    readonly namespaces: string[];
    readonly weapons: Record<string, { allowed: boolean }>;
  } | null;
  readonly grids: { readonly namespace: string; readonly ships: { key: string; cells: Cell[] }[] }[];
}

async function post(url: string, path: string, bearer: string | undefined, body: object): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
    },
    body: JSON.stringify(body),
  });
}

/** The API server's SubjectAccessReview for a ServiceAccount of broadside-system: may it? */
async function may(
  serviceAccount: string,
  verb: string,
  resource: string,
  namespace?: string,
): Promise<boolean> {
  const [name = "", ...groupParts] = resource.split(".");
  const user = {
    username: `system:serviceaccount:broadside-system:${serviceAccount}`,
    groups: ["system:serviceaccounts", "system:serviceaccounts:broadside-system", "system:authenticated"],
  };
  const verdict = await new ClusterAccessReviewer(adminClients()).authorize(user, {
    group: groupParts.join("."),
    resource: name,
    verb,
    ...(namespace === undefined ? {} : { namespace }),
  });
  return verdict.allowed;
}

/** Each identity holds what it needs and no more. */
async function expectLeastPrivilege(): Promise<void> {
  const operator = operatorServiceAccount;
  const board = boardServiceAccount;
  expect(await may(operator, "operate", "boards.broadside.dev", "demo-shop")).toBe(true);
  expect(await may(operator, "operate", "boards.broadside.dev", "broadside-system")).toBe(true);
  expect(await may(operator, "operate", "boards.broadside.dev", "default")).toBe(false);
  expect(await may(operator, "delete", "pods", "demo-shop")).toBe(false);
  expect(await may(board, "delete", "pods", "demo-shop")).toBe(true);
  expect(await may(board, "create", "tokenreviews.authentication.k8s.io")).toBe(true);
  expect(await may(board, "create", "subjectaccessreviews.authorization.k8s.io")).toBe(true);
  expect(await may(board, "delete", "deployments.apps", "demo-shop")).toBe(false);
  expect(await may(board, "create", "configmaps", "broadside-system")).toBe(true);
  expect(await may(board, "create", "configmaps", "demo-shop")).toBe(false);
}

/** A player joins with the code and torpedoes a Ready storefront pod; the shot's answer and the pod. */
async function hitStorefront(url: string, code: string) {
  const cell = await eventually("the storefront's ship with Ready pods", async () => {
    const current = (await (await fetch(`${url}/api/board`)).json()) as BoardState;
    const grid = current.grids.find((candidate) => candidate.namespace === "demo-shop");
    const ship = grid?.ships.find((candidate) => candidate.key === "Deployment/storefront");
    const ready = ship?.cells.filter((candidate) => candidate.pod?.ready === true) ?? [];
    return ready.length === 3 ? ready[0] : undefined;
  });
  const joined = (await (await post(url, "/api/join", undefined, { code, nickname: "Ada" })).json()) as {
    token: string;
    playerId: string;
  };
  const shot = await post(url, "/api/shots", joined.token, {
    namespace: "demo-shop",
    row: cell.row,
    col: cell.col,
    weapon: "torpedo",
  });
  return { answer: await shot.json(), pod: cell.pod, playerId: joined.playerId };
}

/** The game is open on the fleet's opted-in namespaces, and the operator's login works from its file. */
async function expectOpened(gameday: Gameday, tokenFile: string, dir: string): Promise<void> {
  const url = gameday.boardUrl;
  expect(gameday.playerUrl).toBe(`${url}/`);
  expect(gameday.code).toMatch(/^[A-Z2-9]{6}$/);
  expect(gameday.operatorUser).toBe("system:serviceaccount:broadside-system:gameday-operator");
  // The operator's token is in a file only its owner reads; so is the board's identity.
  expect((await readFile(tokenFile, "utf8")).trim()).toBe(gameday.operatorToken);
  expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
  expect((await stat(join(dir, "board.kubeconfig"))).mode & 0o777).toBe(0o600);
  const login = await post(url, "/api/operator/login", gameday.operatorToken, {});
  expect(await login.json()).toEqual({ user: gameday.operatorUser, may: "operate boards.broadside.dev" });

  const state = (await (await fetch(`${url}/api/board`)).json()) as BoardState;
  expect(state.game?.namespaces).toEqual(namespaces);
  const allowed = Object.entries(state.game?.weapons ?? {}).filter(([, rule]) => rule.allowed);
  expect(allowed.map(([weapon]) => weapon)).toEqual(["torpedo", "mine"]);
  for (const name of namespaces) {
    const namespace = await adminClients().core.readNamespace({ name });
    expect(namespace.metadata?.annotations?.["broadside.dev/chaos"]).toBe("enabled");
  }
}

describe("a GameDay on the sandbox", () => {
  it("opens a game on the demo fleet under least-privilege identities, lets a player hit a pod, and ends cleanly", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-gameday-"));
    const plan = planGameday(
      {
        name: gamedayDefaults.name,
        keep: false,
        listen: "127.0.0.1:0",
        weapons: "torpedo,mine",
        unsafe: false,
        limitPlayers: "50",
        dir,
        printToken: false,
      },
      dir,
    );
    const auditLines: string[] = [];
    const printed: string[] = [];
    const gameday: Gameday = await openGameday(
      config,
      { out: (text) => printed.push(text), err: (text) => printed.push(text) },
      {
        plan,
        adminKubeconfig: inject("adminKubeconfig"),
        clock: systemClock,
        audit: pino({ base: null }, { write: (line: string) => auditLines.push(line) }),
      },
    );
    let ended = false;
    try {
      const url = gameday.boardUrl;
      await expectOpened(gameday, plan.tokenFile, dir);
      await expectLeastPrivilege();

      // A player hits a storefront pod: the board's own identity deleted it, after the ledger recorded it.
      const hit = await hitStorefront(url, gameday.code);
      expect(hit.answer).toMatchObject({ result: "hit", shot: { nickname: "Ada", pod: hit.pod?.name } });
      const records = await new ConfigMapLedgerStore(adminClients()).list();
      const record = records.find((candidate) => candidate.target.uid === hit.pod?.uid);
      expect(record?.actor.user).toContain(`board player ${hit.playerId}`);
      expect(auditLines.join("\n")).not.toContain(gameday.operatorToken);
      expect(printed.join("")).not.toContain(gameday.operatorToken);

      // The end: the game closed, nothing left open in the ledger, the board stopped, its identity's file gone.
      const result = await gameday.end();
      ended = true;
      expect(result.reverted).toBeGreaterThanOrEqual(0);
      const open = (await new ConfigMapLedgerStore(adminClients()).list()).filter(
        (candidate) => candidate.state !== "closed" && namespaces.includes(candidate.target.namespace),
      );
      expect(open).toEqual([]);
      const actions = auditLines.map((line) => (JSON.parse(line) as { action?: string }).action);
      expect(actions).toContain("close");
      expect(existsSync(join(dir, "board.kubeconfig"))).toBe(false);
      await expect(fetch(`${url}/healthz`)).rejects.toThrow();
    } finally {
      if (!ended) await gameday.end();
    }
  });

  it("refuses a bad flag of broadside gameday naming it, before anything starts", async () => {
    const dir = join(await mkdtemp(join(tmpdir(), "broadside-gameday-")), "never");
    const name = `${integrationSandboxName}-gameday-flags`;
    const run = await broadside("gameday", "--name", name, "--dir", dir, "--weapons", "torpedo,laser");
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("--weapons: weapons[1]: must be one of torpedo, mine, fog, anchor, net");
    expect(run.stdout).toBe("");
    // Nothing was created: no sandbox of that name, no directory for the log and the token.
    const sandboxes = await broadside("sandbox", "list");
    expect(sandboxes.stdout.split("\n")).not.toContain(name);
    expect(existsSync(dir)).toBe(false);
  });
});
