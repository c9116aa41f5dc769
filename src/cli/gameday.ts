import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import type { Clock } from "../core/clock.js";
import { BroadsideError, errorCatalog, type ErrorCode } from "../core/errors.js";
import { optIn, setUpIdentities, writeSecretFile } from "../demo/gameday-identities.js";
import { connect } from "../kube/client.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { startBoard } from "./board-command.js";
import type { CliConfig } from "./config.js";
import type { GamedayPlan } from "./gameday-plan.js";
import { playerUrl } from "./gameday-plan.js";
import type { CliIo } from "./options.js";

/**
 * A GameDay on a cluster whose demo fleet is deployed (`broadside gameday` deploys it on its sandbox;
 * the integration test on the shared one): the fleet's namespaces opted in, the operator's and the
 * board's identities made, the board started in this process under its own identity, and the game
 * opened through the board's HTTP API with the operator's token, so the login the presenter is given is
 * proven to work before anyone is told to use it.
 */

export interface GamedayOptions {
  readonly plan: GamedayPlan;
  /** A kubeconfig allowed to create namespaces' annotations, ServiceAccounts, RBAC and tokens. */
  readonly adminKubeconfig: string;
  readonly clock: Clock;
  /** The board's audit log and its own log: a file, never the terminal. */
  readonly audit: Logger;
}

export interface Gameday {
  /** Where the board listens, as bound (port 0 becomes the one chosen). */
  readonly boardUrl: string;
  /** What the players open, drawn as a QR code. */
  readonly playerUrl: string;
  readonly code: string;
  readonly operatorToken: string;
  readonly operatorUser: string;
  /** When the operator's (and the board's) token expires, epoch ms. */
  readonly expiresAt: number;
  /** Closes the game, reverts every open ledger record, stops the board. */
  end(): Promise<{ readonly reverted: number }>;
}

/** How long RBAC may take to honour the operator's fresh RoleBindings before opening the game fails. */
const grantTimeoutMs = 30_000;

export async function openGameday(config: CliConfig, io: CliIo, options: GamedayOptions): Promise<Gameday> {
  const { plan, clock } = options;
  const kube = connect({ kubeconfigPath: options.adminKubeconfig });
  await optIn(kube, plan.game.namespaces);
  await mkdir(plan.dir, { recursive: true, mode: 0o700 });
  const boardKubeconfig = join(plan.dir, "board.kubeconfig");
  const identities = await setUpIdentities(kube, {
    namespaces: plan.game.namespaces,
    boardKubeconfig,
    now: clock.now(),
  });
  await writeSecretFile(plan.tokenFile, `${identities.operatorToken}\n`);
  const runtime = await startBoard(config, io, {
    kubeconfig: boardKubeconfig,
    listen: plan.listen,
    audiences: [],
    operatorNamespace: broadsideNamespace,
    audit: options.audit,
  });
  try {
    const code = await openGame(localUrl(runtime.server.url), identities.operatorToken, plan.game, clock);
    return {
      boardUrl: runtime.server.url,
      playerUrl: playerUrl(plan, runtime.server.port),
      code,
      ...identities,
      end: async () => {
        await runtime.board.close(identities.operatorUser);
        // The game's faults only: a GameDay's end is no halt of whatever else runs on the cluster.
        const reverted = await runtime.revertAll(plan.game.namespaces);
        await runtime.stop();
        await rm(boardKubeconfig, { force: true });
        return { reverted };
      },
    };
  } catch (error: unknown) {
    await runtime.stop();
    throw error;
  }
}

/** The board's URL on this machine (for this process and the operator's browser): a wildcard address is reached on loopback. */
export function localUrl(url: string): string {
  return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:");
}

/**
 * Opens the game as the operator would (POST /api/operator/game with the operator's token), waiting
 * while RBAC has not caught up with the fresh RoleBindings (403). Returns the game's code.
 */
async function openGame(url: string, token: string, body: object, clock: Clock): Promise<string> {
  const deadline = clock.now() + grantTimeoutMs;
  for (;;) {
    const response = await fetch(`${url}/api/operator/game`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(60_000),
    });
    const answer = (await response.json().catch(() => ({}))) as {
      code?: string;
      error?: { code?: string; message?: string };
    };
    if (response.status === 201 && typeof answer.code === "string") return answer.code;
    if (response.status !== 403 || clock.now() > deadline) throw notOpened(response.status, answer);
    await clock.sleep(250);
  }
}

/** The board's refusal to open the game, with its code when it is one of ours. */
function notOpened(status: number, answer: { error?: { code?: string; message?: string } }): BroadsideError {
  const code = answer.error?.code ?? "";
  return new BroadsideError(
    code in errorCatalog ? (code as ErrorCode) : "BRD_INTERNAL",
    `the board did not open the game (HTTP ${status}): ${answer.error?.message ?? JSON.stringify(answer)}`,
  );
}
