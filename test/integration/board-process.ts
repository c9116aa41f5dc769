import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { inject } from "vitest";
import type { LedgerDraft, LedgerRecord, Outcome } from "../../src/core/ledger/record.js";
import { closeRecord, markApplied } from "../../src/core/ledger/state-machine.js";
import { newRecordId, type ConfigMapLedgerStore } from "../../src/kube/ledger-store.js";
import { adminClients, kubectl, repoRoot } from "./harness.js";

/*
 * What the board's integration tests share: `broadside board` run as a process on the sandbox, an
 * operator (a ServiceAccount allowed `operate` on boards.broadside.dev, with a token from `kubectl create
 * token`), and a reader of the spectators' stream.
 */

export interface RunningBoard {
  readonly child: ChildProcess;
  /** The URL the board prints once it listens. */
  readonly url: Promise<string>;
  /** The audit log's JSON lines so far. */
  readonly audit: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

const boards: RunningBoard[] = [];

/** `broadside board` on 127.0.0.1 with a port the system picks; killed by stopBoards(). */
export function startBoard(): RunningBoard {
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
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const audit: Record<string, unknown>[] = [];
  let partial = "";
  child.stderr.on("data", (chunk: Buffer) => {
    const lines = (partial + chunk.toString()).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      try {
        audit.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        audit.push({ msg: `not JSON: ${line}` });
      }
    }
  });
  const url = new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const match = /board listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once("exit", (code) => {
      reject(
        new Error(`the board exited (${String(code)}) before listening: ${JSON.stringify(audit.slice(-5))}`),
      );
    });
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const board = { child, url, audit, exited };
  boards.push(board);
  return board;
}

/** Kills every board this file started. */
export function stopBoards(): void {
  for (const board of boards) board.child.kill("SIGKILL");
}

/**
 * An operator: the ServiceAccount `operator` in `namespace`, allowed `operate` on boards.broadside.dev
 * everywhere through the ClusterRole and binding `clusterRole`, and its token from `kubectl create token`.
 */
export async function createOperator(namespace: string, clusterRole: string): Promise<string> {
  const kube = adminClients();
  await kube.core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: "operator" } } });
  await kube.rbac.createClusterRole({
    body: {
      metadata: { name: clusterRole },
      rules: [{ apiGroups: ["broadside.dev"], resources: ["boards"], verbs: ["operate"] }],
    },
  });
  await kube.rbac.createClusterRoleBinding({
    body: {
      metadata: { name: clusterRole },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterRole },
      subjects: [{ kind: "ServiceAccount", name: "operator", namespace }],
    },
  });
  const minted = await kubectl(
    inject("adminKubeconfig"),
    "create",
    "token",
    "operator",
    "-n",
    namespace,
    "--duration",
    "10m",
  );
  if (minted.code !== 0) throw new Error(`kubectl create token failed: ${minted.stderr}`);
  return minted.stdout.trim();
}

/** Removes the operator's ClusterRole and binding (the ServiceAccount goes with its namespace). */
export async function removeOperator(clusterRole: string): Promise<void> {
  const rbac = adminClients().rbac;
  await rbac.deleteClusterRoleBinding({ name: clusterRole }).catch(() => undefined);
  await rbac.deleteClusterRole({ name: clusterRole }).catch(() => undefined);
}

export interface StreamEvent {
  readonly event: string;
  readonly data: Record<string, unknown>;
  /** Date.now() when the test read it. */
  readonly receivedAt: number;
}

/**
 * Follows the spectators' stream, collecting its events (only those named `only`, when given: a crowd's
 * stream is large) until aborted.
 */
export function followStream(url: string, signal: AbortSignal, only?: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  void (async () => {
    const response = await fetch(`${url}/api/board/events`, { signal });
    const reader = response.body?.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (let chunk = await reader?.read(); chunk !== undefined && !chunk.done; chunk = await reader?.read()) {
      buffer += decoder.decode(chunk.value as Uint8Array, { stream: true });
      const blocks = buffer.split("\n\n");
      buffer = blocks.pop() ?? "";
      events.push(...blocks.flatMap(parseEvent).filter((each) => only === undefined || each.event === only));
    }
  })().catch(() => undefined);
  return events;
}

/** One server-sent event block (`event: ...` and `data: ...` lines); none for a comment. */
function parseEvent(block: string): StreamEvent[] {
  const event = /^event: (.*)$/m.exec(block)?.[1];
  const data = /^data: (.*)$/m.exec(block)?.[1];
  return event === undefined || data === undefined
    ? []
    : [{ event, data: JSON.parse(data) as Record<string, unknown>, receivedAt: Date.now() }];
}

/** A ledger record as the test writes it: what differs between a duel's records. */
export type DuelRecordFields = Omit<LedgerDraft, "id" | "state" | "sensitive" | "deadline" | "actor">;

/**
 * Writes ledger records shaped as `broadside duel` writes them (src/duel/flux.ts for the interval, the
 * engine's paths for the attacks), standing in for a duel's writer: the board's duel view is checked
 * against real ledger ConfigMaps without a Flux in the sandbox. Each record is written pending, then
 * marked applied, with a deadline 10 minutes out; `closeAll` closes whatever the test left open.
 */
export function duelLedger(store: ConfigMapLedgerStore) {
  const written: LedgerRecord[] = [];
  const close = async (record: LedgerRecord, outcome: Outcome): Promise<void> => {
    const current = await store.get(record.id);
    if (current === undefined || current.state === "closed") return;
    await store.update(closeRecord(current, outcome));
  };
  return {
    write: async (fields: DuelRecordFields): Promise<LedgerRecord> => {
      const pending = await store.create({
        ...fields,
        id: newRecordId(Date.now()),
        state: "pending",
        sensitive: false,
        deadline: fields.createdAt + 10 * 60_000,
        actor: { user: "board-duel-test", host: "test", pid: process.pid },
      });
      const active = await store.update(markApplied(pending));
      written.push(active);
      return active;
    },
    close,
    closeAll: async (): Promise<void> => {
      for (const record of written) await close(record, { kind: "reverted", at: Date.now() });
    },
  };
}

/** The interval record of a duel's leg: a Kustomization's /spec/interval, 5m set to 10s. */
function duelInterval(): DuelRecordFields {
  return {
    faultKind: "gitops-interval",
    target: {
      apiVersion: "kustomize.toolkit.fluxcd.io/v1",
      kind: "Kustomization",
      namespace: "flux-system",
      name: "fleet",
      uid: "not-a-real-kustomization",
    },
    path: "/spec/interval",
    original: "5m",
    injected: "10s",
    createdAt: Date.now(),
  };
}

/**
 * A running duel as its ledger shows it: the leg's interval record, then two attacks on the ConfigMap
 * duel-settings of `namespace` (created here): a drift of a key Git defines, and a key added.
 */
export async function writeRunningDuel(
  ledger: ReturnType<typeof duelLedger>,
  namespace: string,
): Promise<{ interval: LedgerRecord; drift: LedgerRecord; added: LedgerRecord }> {
  const created = await adminClients().core.createNamespacedConfigMap({
    namespace,
    body: { metadata: { name: "duel-settings" }, data: { level: "info" } },
  });
  const target = {
    apiVersion: "v1",
    kind: "ConfigMap",
    namespace,
    name: "duel-settings",
    uid: created.metadata?.uid ?? "",
  };
  const interval = await ledger.write(duelInterval());
  const drift = await ledger.write({
    faultKind: "config-drift",
    target,
    path: "/data/level",
    original: "info",
    injected: "debug",
    createdAt: Date.now(),
  });
  const added = await ledger.write({
    faultKind: "config-drift",
    target,
    path: "/data/extra",
    original: { absent: true },
    injected: "on",
    createdAt: Date.now() + 1,
  });
  return { interval, drift, added };
}
