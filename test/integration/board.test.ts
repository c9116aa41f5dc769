import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createIfMissing } from "../../src/kube/api-errors.js";
import { operatorAccess } from "../../src/board/server.js";
import { ClusterAccessReviewer } from "../../src/kube/access-review.js";
import type { DuelView } from "../../src/core/board/duel-view.js";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import {
  createOperator,
  duelLedger,
  followStream,
  removeOperator,
  startBoard,
  stopBoards,
  writeRunningDuel,
  type StreamEvent,
} from "./board-process.js";
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
 * The GameDay board on the sandbox (issue 11), as `broadside board` serves it: an operator logs in with
 * a ServiceAccount's token (TokenReview, then a SubjectAccessReview for `operate boards.broadside.dev`)
 * and opens a game on an opted-in namespace; a player joins and fires at a ship's cell; the pod is
 * deleted after its ledger record was written, and the spectators' stream reports the hit and the kill.
 * The duel view (issue 13): a duel's ledger records, as the board reads them in /api/board and its stream.
 */

const namespace = useTestNamespace("board");
const clusterRole = () => `broadside-board-operator-${namespace()}`;

afterAll(async () => {
  stopBoards();
  await removeOperator(clusterRole());
});

interface Cell {
  readonly row: number;
  readonly col: number;
  readonly pod?: { readonly name: string; readonly uid: string; readonly ready: boolean };
}

describe("broadside board on the sandbox", () => {
  it("lets a ServiceAccount operator open a game, a player hit a pod, the ledger record it and the stream tell it", async () => {
    const admin = inject("adminKubeconfig");
    const annotated = await kubectl(
      admin,
      "annotate",
      "namespace",
      namespace(),
      "broadside.dev/chaos=enabled",
    );
    expect(annotated.code, annotated.stderr).toBe(0);
    await deployAndWait(namespace(), testDeployment("web", 4));
    // A demo-style workload that reads its configuration from a ConfigMap: the fog's target.
    await adminClients().core.createNamespacedConfigMap({
      namespace: namespace(),
      body: { metadata: { name: "tuned-settings" }, data: { level: "info" } },
    });
    const tuned = testDeployment("tuned", 2);
    const container = tuned.spec?.template.spec?.containers[0];
    if (container !== undefined) {
      container.env = [
        { name: "LEVEL", valueFrom: { configMapKeyRef: { name: "tuned-settings", key: "level" } } },
      ];
    }
    await deployAndWait(namespace(), tuned);
    const token = await createOperator(namespace(), clusterRole());
    const board = startBoard();
    const url = await board.url;
    const post = (path: string, bearer: string | undefined, body: object) =>
      fetch(`${url}${path}`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
        },
        body: JSON.stringify(body),
      });

    // The operator's login: the API server says who the token is and that RBAC lets it operate boards.
    expect((await post("/api/operator/login", `${token.slice(0, -4)}AAAA`, {})).status).toBe(401);
    const login = await eventually("the ClusterRoleBinding to take effect", async () => {
      const response = await post("/api/operator/login", token, {});
      return response.status === 200 ? ((await response.json()) as { user: string }) : undefined;
    });
    expect(login.user).toBe(`system:serviceaccount:${namespace()}:operator`);

    const opened = await post("/api/operator/game", token, {
      namespaces: [namespace()],
      weapons: ["torpedo", "fog", "anchor"],
      revertAfter: "5m",
    });
    expect(opened.status, await opened.clone().text()).toBe(201);
    const { code } = (await opened.json()) as { code: string };

    const stop = new AbortController();
    const events = followStream(url, stop.signal);
    try {
      // The ship of web, with four Ready pods in its cells.
      const cell = await eventually("web's ship with Ready pods", async () => {
        const state = (await (await fetch(`${url}/api/board`)).json()) as {
          grids: { ships: { key: string; cells: Cell[] }[] }[];
        };
        const ship = state.grids[0]?.ships.find((candidate) => candidate.key === "Deployment/web");
        const ready = ship?.cells.filter((candidate) => candidate.pod?.ready === true) ?? [];
        return ready.length === 4 ? ready[0] : undefined;
      });
      const pod = cell.pod;
      if (pod === undefined) throw new Error("no pod in the cell");

      const joined = (await (await post("/api/join", undefined, { code, nickname: "Ada" })).json()) as {
        token: string;
        playerId: string;
      };
      const shot = await post("/api/shots", joined.token, {
        namespace: namespace(),
        row: cell.row,
        col: cell.col,
        weapon: "torpedo",
      });
      expect(shot.status).toBe(200);
      expect(await shot.json()).toMatchObject({ result: "hit", shot: { nickname: "Ada", pod: pod.name } });

      // The pod is going, and the ledger wrote it down, naming the player.
      await eventually("the pod to be deleted", async () => {
        const pods = await adminClients().core.listNamespacedPod({ namespace: namespace() });
        const victim = pods.items.find((candidate) => candidate.metadata?.uid === pod.uid);
        return victim === undefined || victim.metadata?.deletionTimestamp !== undefined ? true : undefined;
      });
      const records = await new ConfigMapLedgerStore(adminClients()).list();
      const record = records.find((candidate) => candidate.target.uid === pod.uid);
      expect(record).toMatchObject({
        faultKind: "pod-kill",
        state: "closed",
        target: { kind: "Pod", namespace: namespace(), name: pod.name },
        outcome: { kind: "target-gone" },
      });
      expect(record?.actor.user).toContain(`board player ${joined.playerId}`);

      // The stream tells the hit, and the sea's kill from the watch event.
      await eventually("the stream to report the hit and the kill", () => {
        const hit = events.find(
          (e) => e.event === "shot" && JSON.stringify(e.data).includes(`"result":"hit"`),
        );
        const kill = events.find(
          (e) => e.event === "sea" && JSON.stringify(e.data).includes(`"podUid":"${pod.uid}"`),
        );
        return hit !== undefined && kill !== undefined ? true : undefined;
      });
      expect(events[0]?.event).toBe("state");
      const audited = board.audit.find((line) => line["action"] === "shot");
      expect(audited).toMatchObject({ playerId: joined.playerId, result: "hit", pod: pod.name });
      const everything = JSON.stringify(board.audit);
      expect(everything).not.toContain(token);
      expect(everything).not.toContain(joined.token);

      await fogAndAnchor(url, code, events);
    } finally {
      stop.abort();
    }
    const closed = await fetch(`${url}/api/operator/game`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(closed.status).toBe(200);
    board.child.kill("SIGTERM");
    expect(await board.exited).toBe(0);
    // The board reverted the squeeze as it stopped: the template holds its own resources again.
    const restored = await adminClients().apps.readNamespacedDeployment({
      namespace: namespace(),
      name: "tuned",
    });
    expect(restored.spec?.template.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: "100m", memory: "64Mi" },
    });
    const open = (await new ConfigMapLedgerStore(adminClients()).list()).filter(
      (record) => record.state !== "closed" && record.target.namespace === namespace(),
    );
    expect(open).toEqual([]);
  });

  it("shows a running duel from its ledger records in /api/board and on the stream, then none once they close", async () => {
    // The test writes the ledger records itself (board-process.ts duelLedger), shaped as `broadside duel`
    // writes them: it stands in for a duel's writer, so the board is checked against the real ledger
    // ConfigMaps without a Flux in the sandbox.
    const ledger = duelLedger(new ConfigMapLedgerStore(adminClients()));
    const board = startBoard();
    const url = await board.url;
    const duelOf = async (): Promise<DuelView> =>
      ((await (await fetch(`${url}/api/board`)).json()) as { duel: DuelView }).duel;
    expect((await duelOf()).running).toBe(false);
    const stop = new AbortController();
    const events = followStream(url, stop.signal, "duel");
    try {
      const { interval, drift, added } = await writeRunningDuel(ledger, namespace());
      const running = await eventually("the board's duel with two attacks holding", async () => {
        const duel = await duelOf();
        return duel.running && duel.attacks.length === 2 ? duel : undefined;
      });
      expect(running.attacks.map((attack) => attack.restorer)).toEqual(["open", "open"]);
      expect(running.since).toBe(interval.createdAt);

      // Flux heals the first, 2269 ms after its record; Broadside's revert ends the second (a miss).
      await ledger.close(drift, {
        kind: "healed-externally",
        at: drift.createdAt + 2_269,
        by: "kustomize-controller",
      });
      await ledger.close(added, { kind: "reverted", at: added.createdAt + 30_000 });
      const scored = await eventually("the heal and the miss on the board", async () => {
        const duel = await duelOf();
        return duel.tally.healsByGitOps === 1 && duel.tally.misses === 1 ? duel : undefined;
      });
      expect(scored.attacks.find((attack) => attack.id === drift.id)).toMatchObject({
        restorer: "gitops",
        restoredBy: "kustomize-controller",
        healMs: 2_269,
        target: `configmap ${namespace()}/duel-settings /data/level`,
      });
      expect(scored.attacks.find((attack) => attack.id === added.id)?.restorer).toBe("broadside");

      // The leg ends: its interval is reverted, and the board shows no duel.
      await ledger.close(interval, { kind: "reverted", at: Date.now() });
      await eventually("no duel on the board", async () => ((await duelOf()).running ? undefined : true));
      const streamed = await eventually("the stream's duel ended", () => {
        const views = events.map((event) => (event.data as { duel: DuelView }).duel);
        return views.at(-1)?.running === false ? views : undefined;
      });
      // The stream told the same story, each view whole: running with the heal, then over.
      expect(streamed.some((view) => view.running && view.tally.healsByGitOps === 1)).toBe(true);
      expect(board.audit.filter((line) => line["msg"] === "duel view")).toEqual([]);
    } finally {
      stop.abort();
      await ledger.closeAll();
    }
  });

  it("grants with the Role docs/board.md shows exactly what the board asks: operate boards.broadside.dev", async () => {
    // The doc's own YAML, so the doc cannot drift from what the API server accepts (kubectl create role
    // refuses a resource no API serves; a Role in YAML does not).
    const doc = await readFile(join(repoRoot, "docs", "board.md"), "utf8");
    const role = /```yaml\n(apiVersion: rbac\.authorization\.k8s\.io\/v1\nkind: Role\b[^`]*)```/.exec(
      doc,
    )?.[1];
    if (role === undefined) throw new Error("docs/board.md no longer shows the operator's Role in YAML");
    const admin = inject("adminKubeconfig");
    const account = `${namespace()}:doc-operator`;
    const binding = `doc-operator-${namespace()}`;
    // What the board asks (src/board/server.ts operatorAccess), as the doc shows it.
    const canOperate = async (): Promise<string> => {
      const verdict = await new ClusterAccessReviewer(adminClients()).authorize(
        { username: `system:serviceaccount:${account}`, groups: ["system:serviceaccounts"] },
        { ...operatorAccess, namespace: "broadside-system" },
      );
      return verdict.allowed ? "yes" : "no";
    };
    expect(await canOperate()).toBe("no");
    // Broadside's namespace exists once anything wrote a ledger record; this test may run alone.
    await createIfMissing(() =>
      adminClients().core.createNamespace({ body: { metadata: { name: "broadside-system" } } }),
    );
    const dir = await mkdtemp(join(tmpdir(), "board-role-"));
    try {
      await writeFile(join(dir, "role.yaml"), role);
      const applied = await kubectl(admin, "apply", "-f", join(dir, "role.yaml"));
      expect(applied.code, applied.stderr).toBe(0);
      const bound = await kubectl(
        admin,
        ...["create", "rolebinding", binding, "-n", "broadside-system"],
        ...["--role", "board-operator", "--serviceaccount", account],
      );
      expect(bound.code, bound.stderr).toBe(0);
      const granted = await eventually("the binding to take effect", async () =>
        (await canOperate()) === "yes" ? "yes" : undefined,
      );
      expect(granted).toBe("yes");
    } finally {
      await rm(dir, { recursive: true, force: true });
      await kubectl(admin, "delete", "rolebinding", binding, "-n", "broadside-system", "--ignore-not-found");
      await kubectl(
        admin,
        "delete",
        "role",
        "board-operator",
        "-n",
        "broadside-system",
        "--ignore-not-found",
      );
    }
  });
});

/**
 * Fog: Grace drifts tuned's ConfigMap, the ledger names her, and kustomize-controller puts it back: a heal
 * by GitOps on the stream, the scoreboard and the record. Anchor: Linus squeezes tuned (the board reverts
 * it as it stops, which the test checks after).
 */
async function fogAndAnchor(url: string, code: string, events: readonly StreamEvent[]): Promise<void> {
  const post = (path: string, bearer: string | undefined, body: object) =>
    fetch(`${url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(bearer === undefined ? {} : { authorization: `Bearer ${bearer}` }),
      },
      body: JSON.stringify(body),
    });
  // Fog: Grace drifts tuned's ConfigMap; the ledger names her; kustomize-controller puts it back.
  const tunedCell = await eventually("tuned's ship with Ready pods", async () => {
    const state = (await (await fetch(`${url}/api/board`)).json()) as {
      grids: { ships: { key: string; cells: Cell[] }[] }[];
    };
    const ship = state.grids[0]?.ships.find((candidate) => candidate.key === "Deployment/tuned");
    const ready = ship?.cells.filter((candidate) => candidate.pod?.ready === true) ?? [];
    return ready.length === 2 ? ready[0] : undefined;
  });
  const grace = (await (await post("/api/join", undefined, { code, nickname: "Grace" })).json()) as {
    token: string;
    playerId: string;
  };
  const fog = await post("/api/shots", grace.token, {
    namespace: namespace(),
    row: tunedCell.row,
    col: tunedCell.col,
    weapon: "fog",
  });
  expect(await fog.json()).toMatchObject({ result: "hit", shot: { weapon: "fog" } });
  const drifted = await adminClients().core.readNamespacedConfigMap({
    namespace: namespace(),
    name: "tuned-settings",
  });
  expect(drifted.data).toEqual({ level: "broadside-fog" });
  const fogRecord = (await new ConfigMapLedgerStore(adminClients()).list()).find(
    (candidate) =>
      candidate.faultKind === "config-drift" &&
      candidate.target.namespace === namespace() &&
      candidate.target.name === "tuned-settings",
  );
  expect(fogRecord).toMatchObject({ state: "active", path: "/data/level" });
  expect(fogRecord?.actor.user).toContain(`board player ${grace.playerId}`);
  await adminClients().core.replaceNamespacedConfigMap({
    namespace: namespace(),
    name: "tuned-settings",
    fieldManager: "kustomize-controller",
    body: Object.assign(drifted, { data: { level: "info" } }),
  });
  const healed = await eventually("the stream to tell the heal by GitOps", () =>
    events.find((e) => e.event === "drift" && JSON.stringify(e.data).includes(`"state":"restored"`)),
  );
  expect(healed.data).toMatchObject({ drift: { restoredBy: "kustomize-controller", healer: "gitops" } });
  const scored = (await (await fetch(`${url}/api/board`)).json()) as {
    scoreboard: { drifts: { heals: Record<string, number>; restored: number } };
  };
  expect(scored.scoreboard.drifts).toMatchObject({ restored: 1, heals: { gitops: 1, broadside: 0 } });
  const fogClosed = await eventually("the fog's record to close as healed", async () =>
    (await new ConfigMapLedgerStore(adminClients()).list()).find(
      (candidate) => candidate.id === fogRecord?.id && candidate.state === "closed",
    ),
  );
  expect(fogClosed).toMatchObject({ outcome: { kind: "healed-externally", by: "kustomize-controller" } });

  // Anchor: Linus squeezes tuned; the board reverts it when it stops.
  const linus = (await (await post("/api/join", undefined, { code, nickname: "Linus" })).json()) as {
    token: string;
  };
  const anchor = await post("/api/shots", linus.token, {
    namespace: namespace(),
    row: tunedCell.row,
    col: tunedCell.col,
    weapon: "anchor",
  });
  expect(await anchor.json()).toMatchObject({ result: "hit", shot: { weapon: "anchor" } });
  const squeezed = await adminClients().apps.readNamespacedDeployment({
    namespace: namespace(),
    name: "tuned",
  });
  expect(squeezed.spec?.template.spec?.containers[0]?.resources?.limits).toEqual({
    cpu: "50m",
    memory: "64Mi",
  });
}
