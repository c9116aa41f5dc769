import { afterAll, describe, expect, inject, it } from "vitest";
import { ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import { createOperator, followStream, removeOperator, startBoard, stopBoards } from "./board-process.js";
import {
  adminClients,
  deployAndWait,
  eventually,
  kubectl,
  testDeployment,
  useTestNamespace,
} from "./harness.js";

/*
 * The GameDay board on the sandbox (issue 11), as `broadside board` serves it: an operator logs in with
 * a ServiceAccount's token (TokenReview, then a SubjectAccessReview for `operate boards.broadside.dev`)
 * and opens a game on an opted-in namespace; a player joins and fires at a ship's cell; the pod is
 * deleted after its ledger record was written, and the spectators' stream reports the hit and the kill.
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

    const opened = await post("/api/operator/game", token, { namespaces: [namespace()] });
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
  });
});
