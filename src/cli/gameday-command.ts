import type { Command } from "commander";
import { existsSync, type Stats } from "node:fs";
import { lstat, mkdir, readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { pino } from "pino";
import QRCode from "qrcode";
import { parseGameRules, weapons as ruleWeapons } from "../core/board/rules.js";
import { systemClock } from "../core/clock.js";
import { usageError } from "../core/errors.js";
import { withDemoFleet } from "../demo/demo.js";
import { parseFrontDoorPorts } from "../demo/front-door-ports.js";
import { assertPortsFree } from "../sandbox/traffic/port-check.js";
import { untilSignalled } from "./board-command.js";
import type { CliConfig } from "./config.js";
import { localUrl, openGameday, type Gameday } from "./gameday.js";
import {
  gamedayDefaults,
  isGamedayTokenFile,
  isLoopbackOnly,
  planGameday,
  shownPath,
  type GamedayFlags,
  type GamedayPlan,
} from "./gameday-plan.js";
import type { CliIo } from "./options.js";
import { sandboxEnvironment } from "./sandbox-commands.js";

/**
 * `broadside gameday`: one command for a presenter's laptop (docs/board.md, "How to run a GameDay"). It
 * starts the sandbox and the demo fleet with traffic (as `broadside demo` does), opens a game on the
 * fleet's namespaces, prints the players' URL, the code and a QR code, and where the operator's login
 * is, and runs until Ctrl-C: then the game is closed, every open fault reverted, the board and the
 * sandbox stopped (unless --keep). The board logs to a file, never to the terminal.
 */

export function registerGamedayCommand(program: Command, config: CliConfig, io: CliIo): void {
  program
    .command("gameday")
    .description(
      "Start the sandbox and the demo fleet, open a Battleship game on it, print the players' URL, code and QR code; Ctrl-C ends it",
    )
    .option("--name <name>", "sandbox to run the GameDay on", gamedayDefaults.name)
    .option(
      "--keep",
      "leave the sandbox running afterwards (the game is closed and reverted either way)",
      false,
    )
    .option(
      "--listen <host:port>",
      "where the board listens; loopback by default, 0.0.0.0:8090 lets phones on the network in",
      gamedayDefaults.listen,
    )
    .option("--public-url <url>", "the URL players open, when they reach the board through a tunnel or proxy")
    .option(
      "--weapons <list>",
      `weapons the players have, separated by commas (${ruleWeapons.join(", ")}; net needs the node daemon's network faults)`,
      gamedayDefaults.weapons,
    )
    .option("--unsafe", "let a ship be sunk: lifts the per-ship cap (rules: unsafe)", false)
    .option("--limit-player <shots/per>", "each player's reload, e.g. 1/3s (rules: limits.player)")
    .option("--limit-game <shots/per>", "the fleet's budget, e.g. 3/1s (rules: limits.game)")
    .option("--limit-players <n>", "players who may join (rules: limits.players; default 500)")
    .option(
      "--dir <dir>",
      "where the board's audit log and the operator's token are written",
      gamedayDefaults.dir,
    )
    .option(
      "--token-file <path>",
      "where the operator's token is written, mode 0600 (default: DIR/operator-token)",
    )
    .option("--print-token", "also print the operator's token (never on a screen the audience sees)", false)
    .option(
      "--front-door-ports <ports>",
      "the demo fleet's front doors on 127.0.0.1, as `broadside demo` takes them (a base, three ports, or auto)",
      (value: string) => parseFrontDoorPorts(value, "--front-door-ports"),
    )
    .action(async (flags: GamedayFlags) => {
      const plan = planGameday(
        {
          ...flags,
          ...(config.frontDoorPorts === undefined || flags.frontDoorPorts !== undefined
            ? {}
            : { frontDoorPorts: config.frontDoorPorts }),
        },
        process.cwd(),
      );
      const tokenDir = dirname(plan.tokenFile);
      if (tokenDir !== plan.dir && !existsSync(tokenDir)) {
        throw usageError("--token-file", `the directory ${tokenDir} does not exist`);
      }
      await refuseForeignTokenFile(plan.tokenFile);
      if (plan.listen.port !== 0) {
        await assertPortsFree(
          [{ port: plan.listen.port, what: "the board (--listen)" }],
          "choose another with --listen",
        );
      }
      await runGameday(config, io, plan);
    });
}

async function runGameday(config: CliConfig, io: CliIo, plan: GamedayPlan): Promise<void> {
  const print = (line: string): void => {
    io.out(`${line}\n`);
  };
  // From now on Ctrl-C ends the GameDay in order, also while it is still being set up.
  const signalled = untilSignalled();
  await withDemoFleet(
    {
      sandboxName: plan.sandboxName,
      keepSandbox: plan.keepSandbox,
      sandbox: sandboxEnvironment(config, io),
      frontDoorPorts: plan.frontDoorPorts,
      clock: systemClock,
      print,
      progress: (line) => {
        io.err(`${line}\n`);
      },
    },
    async (state) => {
      await mkdir(plan.dir, { recursive: true, mode: 0o700 });
      const logFile = join(plan.dir, "board.log");
      const audit = pino({ base: { component: "board" } }, pino.destination({ dest: logFile, sync: true }));
      const gameday = await openGameday(config, io, {
        plan,
        adminKubeconfig: state.adminKubeconfig,
        clock: systemClock,
        audit,
      });
      try {
        const cwd = process.cwd();
        for (const line of gamedayLines(gameday, plan, { cwd, logFile })) print(line);
        await drawQrCode(io, gameday.playerUrl);
        if (plan.printToken) print(`Operator's token (keep it off the projector): ${gameday.operatorToken}`);
        if (isLoopbackOnly(plan)) io.err(`${loopbackWarning(plan)}\n`);
        print("Ctrl-C ends the GameDay: the game is closed, every open fault reverted, the board stopped.");
        await signalled;
        io.err("ending the GameDay: closing the game and reverting every open fault\n");
      } finally {
        const { reverted } = await gameday.end();
        print(`Game closed; ${reverted} open ${reverted === 1 ? "fault" : "faults"} reverted.`);
      }
    },
  );
}

/** What the presenter reads: where the players go, the code, the rules, where the operator's login is. */
export function gamedayLines(
  gameday: Pick<Gameday, "boardUrl" | "playerUrl" | "code" | "operatorUser" | "expiresAt">,
  plan: Pick<GamedayPlan, "game" | "tokenFile" | "sandboxName">,
  where: { readonly cwd: string; readonly logFile: string },
): string[] {
  const rules = parseGameRules(plan.game);
  const allowed = ruleWeapons.filter((weapon) => rules.weapons[weapon].allowed);
  const { player, game } = rules.limits;
  return [
    `GameDay on sandbox "${plan.sandboxName}": the board listens on ${gameday.boardUrl}`,
    "",
    `Players: open ${gameday.playerUrl} and join with the code ${gameday.code}`,
    `Game: ${listed(allowed)} on ${rules.namespaces.join(", ")}; each player ${player.shots} per ${player.per.toString()}, ` +
      `the fleet ${game.shots} per ${game.per.toString()}, up to ${rules.maxPlayers} players; ` +
      (rules.unsafe ? "ships can be sunk (--unsafe)" : "no ship can be sunk"),
    `Operator: log in at ${localUrl(gameday.boardUrl)}/ on this machine as ${gameday.operatorUser} with the token in ` +
      `${shownPath(plan.tokenFile, where.cwd)} (mode 0600, valid until ${new Date(gameday.expiresAt).toISOString()})`,
    `Audit log: ${shownPath(where.logFile, where.cwd)}`,
    "",
  ];
}

/** "torpedo, mine and fog", as a sentence lists things. */
function listed(items: readonly string[]): string {
  return items.length <= 1 ? items.join("") : `${items.slice(0, -1).join(", ")} and ${items.at(-1) ?? ""}`;
}

export function loopbackWarning(plan: Pick<GamedayPlan, "listen">): string {
  return (
    `The board listens on ${plan.listen.host} only: phones cannot reach it. ` +
    `To let the audience in, run with --listen 0.0.0.0:${plan.listen.port === 0 ? 8090 : plan.listen.port} ` +
    "(or put it behind a tunnel and pass --public-url)."
  );
}

/**
 * The players' URL as a QR code: qrcode's terminal renderer (its own white margin and black modules, so
 * it scans on dark and light themes) when stdout is a terminal; its plain UTF-8 blocks, with no escape
 * sequence, when stdout is a file or a pipe.
 */
export async function qrCode(url: string, terminal: boolean): Promise<string> {
  return terminal
    ? QRCode.toString(url, { type: "terminal", small: true, errorCorrectionLevel: "M" })
    : QRCode.toString(url, { type: "utf8", errorCorrectionLevel: "M" });
}

async function drawQrCode(io: CliIo, url: string): Promise<void> {
  const drawn = io.outIsTty === true ? io.drawn : undefined;
  const picture = await qrCode(url, drawn !== undefined);
  const text = picture.endsWith("\n") ? picture : `${picture}\n`;
  if (drawn === undefined) io.out(text);
  else drawn(text);
}

/**
 * The operator's token replaces a file at --token-file only when a GameDay wrote it (isGamedayTokenFile):
 * a typo pointing at someone's file must not destroy it. Checked before anything starts.
 */
async function refuseForeignTokenFile(path: string): Promise<void> {
  let stats: Stats;
  try {
    stats = await lstat(path);
  } catch {
    return; // Nothing there: the token is written afresh.
  }
  const text = stats.isFile() && stats.size <= 16_384 ? await readFile(path, "utf8") : "";
  if (!isGamedayTokenFile({ regular: stats.isFile(), mode: stats.mode }, text)) {
    throw usageError(
      "--token-file",
      `${path} exists and is not a token file a GameDay wrote (mode 0600, one token); move it away or choose another path`,
    );
  }
}
