import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { KubeClients } from "../../src/kube/client.js";
import { boardNamespace } from "./fleet.js";

/**
 * `broadside board` as a process of its own (the compiled CLI, bin/broadside.js), an operator allowed to
 * open a game on it (a ServiceAccount with `operate boards.broadside.dev`, and a token minted for it), and
 * a spectator's stream read as the screen reads it.
 */

export interface BoardProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly url: string;
  stop(): Promise<void>;
}

/** Starts the board on a port of its own on 127.0.0.1; its audit log (stderr) goes to `logFile`. */
export async function startBoard(
  repoRoot: string,
  kubeconfig: string,
  logFile: string,
): Promise<BoardProcess> {
  const args = [
    join(repoRoot, "bin", "broadside.js"),
    "board",
    "--kubeconfig",
    kubeconfig,
    "--listen",
    "127.0.0.1:0",
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  child.stderr.pipe(createWriteStream(logFile));
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      resolve();
    }),
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /board listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => {
      reject(new Error(`the board exited (${String(code)}) before listening; see ${logFile}`));
    });
  });
  return {
    child,
    pid: child.pid ?? 0,
    url,
    stop: async () => {
      if (child.exitCode === null) child.kill("SIGTERM");
      await Promise.race([exited, sleep(20_000)]);
      if (child.exitCode === null) child.kill("SIGKILL");
    },
  };
}

const operatorRole = "broadside-bench-board-operator";

/** A ServiceAccount `operator` in the fleet's namespace, allowed to operate boards; returns its token. */
export async function operatorToken(kube: KubeClients): Promise<string> {
  await kube.core.createNamespacedServiceAccount({
    namespace: boardNamespace,
    body: { metadata: { name: "operator" } },
  });
  await kube.rbac.createClusterRole({
    body: {
      metadata: { name: operatorRole },
      rules: [{ apiGroups: ["broadside.dev"], resources: ["boards"], verbs: ["operate"] }],
    },
  });
  await kube.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: operatorRole },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: operatorRole },
      subjects: [{ kind: "ServiceAccount", name: "operator", namespace: boardNamespace }],
    },
  });
  const minted = await kube.core.createNamespacedServiceAccountToken({
    name: "operator",
    namespace: boardNamespace,
    body: { spec: { audiences: [], expirationSeconds: 3 * 3600 } },
  });
  return minted.status?.token ?? "";
}

/** Opens a game on the fleet's namespace (retried while RBAC settles); resolves once its sea is listed. */
export async function openGame(url: string, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
  for (let attempt = 0; attempt < 60; attempt += 1) {
    const response = await fetch(`${url}/api/operator/game`, {
      method: "POST",
      headers,
      body: JSON.stringify({ namespaces: [boardNamespace] }),
    });
    if (response.status === 201) return;
    const text = await response.text();
    if (response.status !== 403) throw new Error(`opening the game: HTTP ${response.status} ${text}`);
    await sleep(500);
  }
  throw new Error("the operator could not open a game in 30 s");
}

export async function closeGame(url: string, token: string): Promise<void> {
  await fetch(`${url}/api/operator/game`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${token}` },
  });
}

/** Cells on the board that hold a Ready pod, from GET /api/board. */
export async function readyCells(url: string): Promise<number> {
  const state = (await (await fetch(`${url}/api/board`)).json()) as {
    grids: { ships: { cells: { pod?: { ready: boolean } }[] }[] }[];
  };
  return state.grids
    .flatMap((grid) => grid.ships.flatMap((ship) => ship.cells))
    .filter((cell) => cell.pod?.ready).length;
}

export interface SeaArrival {
  readonly type: "kill" | "repaired";
  readonly podUid: string;
  /** performance.now() when the stream's bytes of this event were read. */
  readonly receivedAt: number;
}

/**
 * The spectators' stream (GET /api/board/events), read as a browser's EventSource reads it: each `sea`
 * event is stamped (performance.now()) when its bytes arrive and handed to `onSea`. Other events (the
 * first `state`, the scoreboard) are skipped unparsed.
 */
export function followStream(url: string, onSea: (arrival: SeaArrival) => void): { stop(): void } {
  const abort = new AbortController();
  void (async () => {
    const response = await fetch(`${url}/api/board/events`, { signal: abort.signal });
    const reader = response.body?.getReader();
    if (reader === undefined) throw new Error("the stream has no body");
    const decoder = new TextDecoder();
    let buffer = "";
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      const receivedAt = performance.now();
      buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      for (const block of blocks) {
        if (!block.startsWith("event: sea\n")) continue;
        const data = /^data: (.*)$/m.exec(block)?.[1] ?? "{}";
        const event = (JSON.parse(data) as { event: { type: "kill" | "repaired"; podUid: string } }).event;
        onSea({ type: event.type, podUid: event.podUid, receivedAt });
      }
    }
  })().catch((error: unknown) => {
    if (!abort.signal.aborted) process.stderr.write(`[bench:board] the stream failed: ${String(error)}\n`);
  });
  return {
    stop: () => {
      abort.abort();
    },
  };
}
