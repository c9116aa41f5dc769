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
  boardDriftClusterRole,
  boardServiceAccount,
  operatorClusterRole,
  operatorServiceAccount,
} from "../../src/demo/gameday-identities.js";
import { ClusterAccessReviewer } from "../../src/kube/access-review.js";
import { connect } from "../../src/kube/client.js";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import { adminClients, broadside, config, eventually, httpStatusOf, sandboxDoors } from "./harness.js";
import { integrationSandboxName } from "./names.js";

/*
 * `broadside gameday`'s steps on the shared sandbox (the command itself starts a sandbox of its own, too
 * heavy beside the other files): with the demo fleet deployed, openGameday opts its namespaces in, makes
 * the operator's and the board's identities, starts the board under the board's own ServiceAccount and
 * opens the game with the operator's token. A player joins with the code and hits a pod through the
 * ledger, others fire a fog and an anchor at checkout through the board's own identity; the identities
 * hold no more than they need (the grants for fog and anchor reach the game's namespaces only, asked with
 * SubjectAccessReviews and tried with the board's own token); ending it closes the game, reverts the fog
 * and the anchor and stops the board.
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
  await kube.rbac.deleteClusterRole({ name: boardDriftClusterRole }).catch(ignore);
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
  // Fog and anchor: exactly the engine's verbs (get, list, watch, patch; workloads' reads are cluster-wide
  // already), in the game's namespaces only.
  for (const namespace of namespaces) {
    for (const verb of ["get", "list", "watch", "patch"]) {
      expect(await may(board, verb, "configmaps", namespace), `${verb} configmaps in ${namespace}`).toBe(
        true,
      );
    }
    for (const workload of ["deployments", "statefulsets", "daemonsets"]) {
      expect(await may(board, "patch", `${workload}.apps`, namespace), `patch ${workload}`).toBe(true);
      expect(await may(board, "update", `${workload}.apps`, namespace), `update ${workload}`).toBe(false);
    }
    for (const verb of ["create", "update", "delete", "deletecollection"]) {
      expect(await may(board, verb, "configmaps", namespace), `${verb} configmaps in ${namespace}`).toBe(
        false,
      );
    }
  }
  for (const outside of ["default", "kube-system", "kube-public"]) {
    expect(await may(board, "patch", "configmaps", outside), `patch configmaps in ${outside}`).toBe(false);
    expect(await may(board, "get", "configmaps", outside), `get configmaps in ${outside}`).toBe(false);
    expect(await may(board, "patch", "deployments.apps", outside), `patch deployments in ${outside}`).toBe(
      false,
    );
    expect(await may(board, "patch", "daemonsets.apps", outside), `patch daemonsets in ${outside}`).toBe(
      false,
    );
  }
  // Cluster-wide, which a ClusterRoleBinding would grant: no.
  expect(await may(board, "patch", "configmaps")).toBe(false);
  expect(await may(board, "patch", "deployments.apps")).toBe(false);
}

/**
 * The board's own token, outside the game's namespaces: the API server refuses its patches (403), before
 * it looks at the object, so these test-only patches (which would change nothing) prove the grant's edge.
 */
async function expectRefusedOutside(boardKubeconfig: string): Promise<void> {
  const asBoard = connect({ kubeconfigPath: boardKubeconfig });
  const unchanged = [{ op: "test", path: "/metadata/namespace", value: "default" }];
  const refusals = await Promise.all([
    asBoard.core
      .patchNamespacedConfigMap(
        { name: "kube-root-ca.crt", namespace: "default", body: unchanged },
        asBoard.jsonPatch,
      )
      .then(
        () => 200,
        (error: unknown) => httpStatusOf(error),
      ),
    asBoard.apps
      .patchNamespacedDeployment(
        { name: "anything", namespace: "default", body: unchanged },
        asBoard.jsonPatch,
      )
      .then(
        () => 200,
        (error: unknown) => httpStatusOf(error),
      ),
    asBoard.core.readNamespacedConfigMap({ name: "kube-root-ca.crt", namespace: "kube-system" }).then(
      () => 200,
      (error: unknown) => httpStatusOf(error),
    ),
  ]);
  expect(refusals).toEqual([403, 403, 403]);
  // Inside a game namespace the same token may read the ConfigMap it may fog.
  const inside = await asBoard.core.readNamespacedConfigMap({
    name: "checkout-config",
    namespace: "demo-payments",
  });
  expect(inside.data?.["payment.timeout"]).toBe("5s");
}

/** A Ready cell of the ship, once all its `replicas` pods are Ready on the board. */
async function readyCell(url: string, namespace: string, ship: string, replicas: number): Promise<Cell> {
  return eventually(`${namespace}'s ${ship} with ${replicas} Ready pods`, async () => {
    const current = (await (await fetch(`${url}/api/board`)).json()) as BoardState;
    const grid = current.grids.find((candidate) => candidate.namespace === namespace);
    const cells = grid?.ships.find((candidate) => candidate.key === ship)?.cells ?? [];
    const ready = cells.filter((candidate) => candidate.pod?.ready === true);
    return ready.length === replicas ? ready[0] : undefined;
  });
}

/** A player joins with the code and fires `weapon` at the cell; the shot's answer and the player's id. */
async function fire(
  url: string,
  code: string,
  nickname: string,
  aim: { namespace: string; cell: Cell; weapon: string },
) {
  const joined = (await (await post(url, "/api/join", undefined, { code, nickname })).json()) as {
    token: string;
    playerId: string;
  };
  const shot = await post(url, "/api/shots", joined.token, {
    namespace: aim.namespace,
    row: aim.cell.row,
    col: aim.cell.col,
    weapon: aim.weapon,
  });
  expect(shot.status).toBe(200);
  return {
    answer: (await shot.json()) as { result: string; shot: Record<string, unknown> },
    playerId: joined.playerId,
  };
}

/** A player joins with the code and torpedoes a Ready storefront pod; the shot's answer and the pod. */
async function hitStorefront(url: string, code: string) {
  const cell = await readyCell(url, "demo-shop", "Deployment/storefront", 3);
  const { answer, playerId } = await fire(url, code, "Ada", {
    namespace: "demo-shop",
    cell,
    weapon: "torpedo",
  });
  return { answer, pod: cell.pod, playerId };
}

/** What checkout's fog and anchor change: its ConfigMap's data and its container's resources, as now. */
async function checkoutNow() {
  const kube = adminClients();
  const config = await kube.core.readNamespacedConfigMap({
    name: "checkout-config",
    namespace: "demo-payments",
  });
  const deployment = await kube.apps.readNamespacedDeployment({
    name: "checkout",
    namespace: "demo-payments",
  });
  return {
    data: config.data,
    resources: JSON.parse(
      JSON.stringify(deployment.spec?.template.spec?.containers[0]?.resources),
    ) as unknown,
  };
}

/**
 * Grace fogs checkout (its mounted ConfigMap drifts) and Linus anchors it (its container squeezed), both
 * through the GameDay's board under its own identity, each recorded in the ledger first with the player.
 */
async function fogAndAnchorCheckout(url: string, code: string) {
  const before = await checkoutNow();
  const cell = await readyCell(url, "demo-payments", "Deployment/checkout", 2);
  const fog = await fire(url, code, "Grace", { namespace: "demo-payments", cell, weapon: "fog" });
  expect(fog.answer).toMatchObject({ result: "hit", shot: { weapon: "fog", nickname: "Grace" } });
  expect(String(fog.answer.shot["object"])).toMatch(/^ConfigMap\/checkout-config \/data\//);
  const anchor = await fire(url, code, "Linus", { namespace: "demo-payments", cell, weapon: "anchor" });
  expect(anchor.answer).toMatchObject({ result: "hit", shot: { weapon: "anchor", nickname: "Linus" } });
  expect(String(anchor.answer.shot["object"])).toContain(
    "Deployment/checkout /spec/template/spec/containers/0/resources",
  );
  const drifted = await checkoutNow();
  expect(Object.values(drifted.data ?? {})).toContain("broadside-fog");
  expect(drifted.resources).toMatchObject({ limits: { cpu: "50m", memory: "64Mi" } });
  const records = (await new ConfigMapLedgerStore(adminClients()).list()).filter(
    (record) => record.target.namespace === "demo-payments" && record.state !== "closed",
  );
  expect(records.map((record) => record.faultKind).sort()).toEqual(
    expect.arrayContaining(["config-drift", "resource-squeeze"]),
  );
  const actors = records.map((record) => record.actor.user).join("\n");
  expect(actors).toContain(`board player ${fog.playerId}`);
  expect(actors).toContain(`board player ${anchor.playerId}`);
  return { before, ids: records.map((record) => record.id) };
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
  expect(allowed.map(([weapon]) => weapon)).toEqual(["torpedo", "mine", "fog", "anchor"]);
  for (const name of namespaces) {
    const namespace = await adminClients().core.readNamespace({ name });
    expect(namespace.metadata?.annotations?.["broadside.dev/chaos"]).toBe("enabled");
  }
}

describe("a GameDay on the sandbox", () => {
  it("opens a game on the demo fleet under least-privilege identities, lets players hit a pod, fog and anchor, and ends reverting them", async () => {
    const dir = await mkdtemp(join(tmpdir(), "broadside-gameday-"));
    const plan = planGameday(
      {
        name: gamedayDefaults.name,
        keep: false,
        listen: "127.0.0.1:0",
        weapons: gamedayDefaults.weapons,
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
      await expectRefusedOutside(join(dir, "board.kubeconfig"));

      // A player hits a storefront pod: the board's own identity deleted it, after the ledger recorded it.
      const hit = await hitStorefront(url, gameday.code);
      expect(hit.answer).toMatchObject({ result: "hit", shot: { nickname: "Ada", pod: hit.pod?.name } });
      const records = await new ConfigMapLedgerStore(adminClients()).list();
      const record = records.find((candidate) => candidate.target.uid === hit.pod?.uid);
      expect(record?.actor.user).toContain(`board player ${hit.playerId}`);
      expect(auditLines.join("\n")).not.toContain(gameday.operatorToken);
      expect(printed.join("")).not.toContain(gameday.operatorToken);

      // A fog and an anchor at checkout, through the board's own identity (the game lasts them 60 s).
      const drifts = await fogAndAnchorCheckout(url, gameday.code);

      // The end: the game closed, nothing left open in the ledger, the board stopped, its identity's file gone.
      const result = await gameday.end();
      ended = true;
      expect(result.reverted).toBeGreaterThanOrEqual(0);
      const open = (await new ConfigMapLedgerStore(adminClients()).list()).filter(
        (candidate) => candidate.state !== "closed" && namespaces.includes(candidate.target.namespace),
      );
      expect(open).toEqual([]);
      // The fog and the anchor were put back by Broadside when the game ended, long before their 60 s.
      expect(await checkoutNow()).toEqual(drifts.before);
      const closed = (await new ConfigMapLedgerStore(adminClients()).list()).filter((candidate) =>
        drifts.ids.includes(candidate.id),
      );
      expect(
        closed.map((candidate) => (candidate.state === "closed" ? candidate.outcome.kind : candidate.state)),
      ).toEqual(drifts.ids.map(() => "reverted"));
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
