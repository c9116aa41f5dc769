import { pino, type Logger } from "pino";
import { noDuel, type DuelView } from "../core/board/duel-view.js";
import type { GridView, PodFacts, SeaState } from "../core/board/sea.js";
import type { JoinLimits } from "../core/board/join-limits.js";
import { PlayerTokens } from "../core/board/tokens.js";
import { FakeClock } from "../core/fake-clock.js";
import type {
  AccessAttributes,
  AccessReviewer,
  AccessVerdict,
  ReviewedUser,
  TokenVerdict,
} from "../kube/access-review.js";
import { Board } from "./board.js";
import type { BoardEngine, BoardShot, BoardShotResult, DuelSource, HaltResult, SeaFeed } from "./ports.js";
import { buildBoardApp, type BoardRoute } from "./server.js";
import type { FastifyInstance } from "fastify";

/*
 * For the board's unit tests: small in-memory implementations of the board's own seams (the access
 * reviewer, the engine port, the sea feed) and a board app wired over them with a FakeClock, so every
 * route runs as in production with no cluster and no module mocked.
 */

/** Knows a few bearer tokens and which user may operate boards in which namespaces. */
export class MemoryReviewer implements AccessReviewer {
  readonly users = new Map<string, ReviewedUser>();
  readonly grants = new Set<string>();
  readonly asked: AccessAttributes[] = [];

  authenticate(token: string): Promise<TokenVerdict> {
    const user = this.users.get(token);
    return Promise.resolve(
      user === undefined
        ? { authenticated: false, reason: "invalid bearer token" }
        : { authenticated: true, user },
    );
  }

  authorize(user: ReviewedUser, attributes: AccessAttributes): Promise<AccessVerdict> {
    this.asked.push(attributes);
    const granted = this.grants.has(`${user.username}|${attributes.verb}|${attributes.namespace ?? ""}`);
    return Promise.resolve(
      granted
        ? { allowed: true }
        : {
            allowed: false,
            reason: `${user.username} may not ${attributes.verb} boards in ${attributes.namespace ?? "the cluster"}`,
          },
    );
  }
}

/** Records the shots it is asked to fire and answers with `answer`. */
export class MemoryBoardEngine implements BoardEngine {
  readonly fired: BoardShot[] = [];
  halts = 0;
  stops = 0;
  answer: (shot: BoardShot) => BoardShotResult = () => ({
    accepted: true,
    ledgerId: `ledger-${this.fired.length}`,
  });
  /** Namespaces that are not opted in. */
  readonly refused = new Set<string>();

  fire(shot: BoardShot): Promise<BoardShotResult> {
    this.fired.push(shot);
    return Promise.resolve(this.answer(shot));
  }

  stop(): Promise<number> {
    this.stops += 1;
    return Promise.resolve(0);
  }

  halt(by: string, reason: string): Promise<HaltResult> {
    this.halts += 1;
    return Promise.resolve({ hold: { by, reason, since: 0 }, reverted: 2 });
  }

  refuseNamespaces(namespaces: readonly string[]): Promise<readonly string[]> {
    return Promise.resolve(
      namespaces.filter((name) => this.refused.has(name)).map((name) => `namespace ${name} has not opted in`),
    );
  }
}

/** A duel view a test sets by hand, as the ledger's informer would tell it. */
export class MemoryDuelSource implements DuelSource {
  private current: DuelView = noDuel;
  private readonly listeners = new Set<(view: DuelView) => void>();

  view(): DuelView {
    return this.current;
  }

  subscribe(listener: (view: DuelView) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  set(view: DuelView): void {
    this.current = view;
    for (const listener of this.listeners) listener(view);
  }
}

/** The pods of a Deployment `web` of `count` Ready pods. */
export function webPods(count: number): PodFacts[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `web-${index}`,
    uid: `web-uid-${index}`,
    workload: { kind: "Deployment" as const, name: "web" },
    phase: "Running",
    ready: true,
    deleting: false,
    createdAt: index,
  }));
}

/**
 * Every namespace followed holds Deployment web with `replicas` Ready pods; `seas` keeps each sea it was
 * given, so a test can play the cluster's later events into it.
 */
export function fixedSea(replicas: number): SeaFeed & { stopped: number; seas: SeaState[] } {
  const feed = {
    stopped: 0,
    seas: [] as SeaState[],
    follow: (namespaces: readonly string[], sea: SeaState) => {
      feed.seas.push(sea);
      for (const namespace of namespaces) {
        sea.syncNamespace({
          namespace,
          workloads: [{ kind: "Deployment", name: "web", replicas }],
          pods: webPods(replicas),
        });
      }
      return Promise.resolve({
        stop: () => {
          feed.stopped += 1;
          return Promise.resolve();
        },
      });
    },
  };
  return feed;
}

export const operatorToken = "operator-token-7f3a9c";
export const strangerToken = "stranger-token-1b2c3d";
export const operatorNamespace = "broadside-system";

export interface BoardFixture {
  readonly app: FastifyInstance;
  readonly routes: readonly BoardRoute[];
  readonly board: Board;
  readonly engine: MemoryBoardEngine;
  readonly reviewer: MemoryReviewer;
  readonly clock: FakeClock;
  readonly seaFeed: ReturnType<typeof fixedSea>;
  readonly duel: MemoryDuelSource;
  /** Every line the audit log and the server's log wrote. */
  readonly logLines: string[];
  readonly audit: Logger;
}

/** A board whose operator "alice" may operate boards in broadside-system and shop; "mallory" nowhere. */
export function boardFixture(
  options: { readonly replicas?: number; readonly joinLimits?: JoinLimits } = {},
): BoardFixture {
  const clock = new FakeClock(1_000_000);
  const logLines: string[] = [];
  const audit = pino({ base: null }, { write: (line: string) => logLines.push(line) });
  const reviewer = new MemoryReviewer();
  reviewer.users.set(operatorToken, { username: "alice", groups: ["system:authenticated"] });
  reviewer.users.set(strangerToken, { username: "mallory", groups: ["system:authenticated"] });
  for (const namespace of [operatorNamespace, "shop"]) reviewer.grants.add(`alice|operate|${namespace}`);
  const engine = new MemoryBoardEngine();
  const seaFeed = fixedSea(options.replicas ?? 4);
  const duel = new MemoryDuelSource();
  const board = new Board({
    engine,
    seaFeed,
    tokens: new PlayerTokens({ secret: Buffer.alloc(32, 7), clock }),
    clock,
    audit,
    newCode: () => "ABC234",
    duel,
    ...(options.joinLimits === undefined ? {} : { joinLimits: options.joinLimits }),
  });
  const { app, routes } = buildBoardApp({ board, reviewer, operatorNamespace, log: audit });
  return { app, routes, board, engine, reviewer, clock, seaFeed, duel, logLines, audit };
}

/** The cells of every ship of the grid, and one cell of water. */
export function cellsOf(grid: GridView | undefined): {
  ship: { row: number; col: number; pod: string }[];
  water: { row: number; col: number };
} {
  if (grid === undefined) throw new Error("no grid");
  const ship = grid.ships.flatMap((s) =>
    s.cells.map((cell) => ({ row: cell.row, col: cell.col, pod: cell.pod?.name ?? "" })),
  );
  const taken = new Set(ship.map((cell) => `${cell.row},${cell.col}`));
  for (let row = 0; row < grid.side; row += 1) {
    for (let col = 0; col < grid.side; col += 1) {
      if (!taken.has(`${row},${col}`)) return { ship, water: { row, col } };
    }
  }
  throw new Error("no water");
}
