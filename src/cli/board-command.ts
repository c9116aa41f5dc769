import type { Command } from "commander";
import { pino } from "pino";
import { formatListenAddress, parseListenAddress } from "../agent/http/address.js";
import { engineShots } from "../board/engine-shots.js";
import { Board } from "../board/board.js";
import { kubeSeaFeed } from "../board/kube-sea-feed.js";
import { startBoardServer } from "../board/server.js";
import { newTokenSecret, PlayerTokens } from "../core/board/tokens.js";
import { describeError, usageError } from "../core/errors.js";
import { dnsLabelProblem } from "../core/names.js";
import { ClusterAccessReviewer } from "../kube/access-review.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { PodCache } from "../kube/pod-cache.js";
import type { CliConfig } from "./config.js";
import { connectEngine } from "./engine-setup.js";
import { addClusterFlags, recoverLeftovers, type ClusterFlags } from "./engine-context.js";
import type { CliIo } from "./options.js";

interface BoardFlags extends ClusterFlags {
  readonly listen: string;
  readonly audience?: string;
  readonly operatorNamespace: string;
}

export const defaultBoardListen = "127.0.0.1:8090";
const audienceFlag = "--audience";
const operatorNamespaceFlag = "--operator-namespace";

/** The board's settings from its flags, every one checked before anything starts. */
export function boardSettings(flags: BoardFlags) {
  const listen = parseListenAddress(flags.listen, "--listen");
  const audience = flags.audience;
  if (audience !== undefined && !/^[\x21-\x7e]{1,253}$/.test(audience)) {
    throw usageError(audienceFlag, "must be 1 to 253 printable characters without spaces");
  }
  const problem = dnsLabelProblem(flags.operatorNamespace);
  if (problem !== undefined)
    throw usageError(operatorNamespaceFlag, `${JSON.stringify(flags.operatorNamespace)}: ${problem}`);
  return {
    listen,
    audiences: audience === undefined ? [] : [audience],
    operatorNamespace: flags.operatorNamespace,
  };
}

/**
 * `broadside board`: the GameDay board (docs/board.md), standalone against a kubeconfig. The engine
 * picks its targets from an informer cache of pods, as the agent's does; the sea follows the game's
 * namespaces; the audit log is JSON lines on stderr. SIGINT and SIGTERM stop it, exit 0.
 */
export function registerBoardCommand(program: Command, config: CliConfig, io: CliIo): void {
  addClusterFlags(program.command("board"))
    .description("Serve the GameDay board: operators open games, players fire at pods, spectators watch")
    .option(
      "--listen <host:port>",
      "where the board listens (loopback by default: reach it with port-forward)",
      defaultBoardListen,
    )
    .option(
      `${audienceFlag} <name>`,
      "refuse operator tokens not minted for this audience (kubectl create token --audience)",
    )
    .option(
      `${operatorNamespaceFlag} <namespace>`,
      "where an operator's `operate boards.broadside.dev` is asked for every operator route",
      broadsideNamespace,
    )
    .action(async (flags: BoardFlags) => {
      const settings = boardSettings(flags);
      const audit = pino({ base: { component: "board" } }, pino.destination(2));
      // Opt-in, as in the agent: only namespaces annotated broadside.dev/chaos=enabled can be a sea.
      const connected = connectEngine(config, io, { ...flags, optIn: true });
      const podCache = new PodCache({
        watches: connected.ctx.watches,
        clock: connected.ctx.clock,
        fallback: connected.ctx.podFacts,
        onError: (error) => {
          audit.warn({ err: describeError(error) }, "pod cache");
        },
      });
      const ctx = {
        ...connected.ctx,
        podFacts: podCache,
        progress: (message: string) => {
          audit.info({ progress: message }, "progress");
        },
      };
      await recoverLeftovers(ctx);
      const board = new Board({
        engine: engineShots(ctx),
        seaFeed: kubeSeaFeed({
          watches: ctx.watches,
          clock: ctx.clock,
          onError: (error) => {
            audit.warn({ err: describeError(error) }, "sea");
          },
        }),
        tokens: new PlayerTokens({ secret: newTokenSecret(), clock: ctx.clock }),
        clock: ctx.clock,
        audit,
      });
      const server = await startBoardServer(settings.listen, {
        board,
        reviewer: new ClusterAccessReviewer(connected.kube, settings.audiences),
        operatorNamespace: settings.operatorNamespace,
        log: audit,
      });
      io.out(`board listening on ${server.url} (${formatListenAddress(settings.listen)})\n`);
      await untilSignalled();
      await server.close();
      await board.stop();
      await podCache.stop();
    });
}

function untilSignalled(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve();
    };
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
}
