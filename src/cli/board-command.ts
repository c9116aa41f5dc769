import type { Command } from "commander";
import { pino, type Logger } from "pino";
import { formatListenAddress, parseListenAddress, type ListenAddress } from "../agent/http/address.js";
import { ApiLatencyRing } from "../board/api-latencies.js";
import { startBoardService, type BoardService } from "../board/serve.js";
import { describeError, usageError } from "../core/errors.js";
import { dnsLabelProblem } from "../core/names.js";
import { ClusterAccessReviewer } from "../kube/access-review.js";
import { broadsideNamespace } from "../kube/ledger-store.js";
import { PodCache } from "../kube/pod-cache.js";
import type { CliConfig } from "./config.js";
import { connectEngine } from "./engine-setup.js";
import { addClusterFlags, describeSummary, recoverLeftovers, type ClusterFlags } from "./engine-context.js";
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
  const problem = dnsLabelProblem(flags.operatorNamespace);
  if (problem !== undefined)
    throw usageError(operatorNamespaceFlag, `${JSON.stringify(flags.operatorNamespace)}: ${problem}`);
  return {
    listen,
    audiences: boardAudiences(audience, audienceFlag),
    operatorNamespace: flags.operatorNamespace,
  };
}

/** The audiences an operator's token must be minted for: none, or the one `flag` names, checked. */
export function boardAudiences(audience: string | undefined, flag: string): string[] {
  if (audience === undefined) return [];
  if (!/^[\x21-\x7e]{1,253}$/.test(audience)) {
    throw usageError(flag, "must be 1 to 253 printable characters without spaces");
  }
  return [audience];
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
      const running = await startBoard(config, io, { ...flags, ...settings, audit });
      io.out(`board listening on ${running.server.url} (${formatListenAddress(settings.listen)})\n`);
      await untilSignalled();
      await running.stop();
    });
}

export interface BoardRuntimeOptions extends ClusterFlags {
  readonly listen: ListenAddress;
  readonly audiences: readonly string[];
  readonly operatorNamespace: string;
  /** The audit log (and the board's own log): stderr for `broadside board`, a file for `gameday`. */
  readonly audit: Logger;
}

/** The board as `broadside board` runs it: the shared service (board/serve.ts) and its own pod cache. */
export type BoardRuntime = BoardService;

/**
 * The board as `broadside board` serves it, in this process: the engine over an informer cache of pods,
 * the sea over the game's namespaces, leftovers of crashed runs reverted first, the server listening.
 */
export async function startBoard(
  config: CliConfig,
  io: CliIo,
  options: BoardRuntimeOptions,
): Promise<BoardRuntime> {
  const { audit } = options;
  // Opt-in, as in the agent: only namespaces annotated broadside.dev/chaos=enabled can be a sea.
  const latencies = new ApiLatencyRing();
  const connected = connectEngine(config, io, { ...options, optIn: true, observer: latencies });
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
  try {
    await recoverLeftovers(ctx);
    const service = await startBoardService(ctx, {
      listen: options.listen,
      operatorNamespace: options.operatorNamespace,
      reviewer: new ClusterAccessReviewer(connected.kube, options.audiences),
      audit,
      latencies,
      // A board that crashed kept fogs and anchors on: a new one keeps none of its games, so it ends them.
      onLeftoverRecovered: (summary) => {
        audit.info({ recovered: describeSummary(summary) }, "recovered a board's drift left behind");
      },
    });
    return {
      ...service,
      stop: async () => {
        await service.stop();
        await podCache.stop();
      },
    };
  } catch (error: unknown) {
    await podCache.stop();
    throw error;
  }
}

/** Resolves at the first SIGINT or SIGTERM (Ctrl-C): the long-running commands then stop cleanly. */
export function untilSignalled(): Promise<void> {
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
