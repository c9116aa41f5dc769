import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { Duration } from "../core/duration.js";
import { BroadsideError, describeError, ExitCode } from "../core/errors.js";
import { redactUrl } from "../core/redact.js";
import { printable } from "../core/terminal-text.js";
import { readConfig, type CliConfig } from "./config.js";
import { processIo, type CliIo } from "./options.js";

/** Adds one module's commands to the program. */
type Registrar = (program: Command, config: CliConfig, io: CliIo) => void;

interface CommandModule {
  /** The top-level commands the module registers. */
  readonly names: readonly string[];
  readonly load: () => Promise<Registrar>;
}

/**
 * Every command module, in the order help lists them, loaded only when needed: `broadside agent` loads
 * the agent's modules and not the sandbox's, the demo's or the experiment runner's, which saves start-up
 * time and the memory of a resident process. The names are checked against what each module registers
 * (main.test.ts).
 */
export const commandModules: readonly CommandModule[] = [
  {
    names: ["sandbox"],
    load: async () => (await import("./sandbox-commands.js")).registerSandboxCommands,
  },
  { names: ["demo"], load: async () => (await import("./demo-command.js")).registerDemoCommand },
  { names: ["kill", "evict"], load: async () => (await import("./chaos-commands.js")).registerChaosCommands },
  {
    names: ["fail", "drift", "squeeze", "scale"],
    load: async () => (await import("./timed-chaos-commands.js")).registerTimedChaosCommands,
  },
  {
    names: ["bandwidth", "partition", "delay", "loss"],
    load: async () => (await import("./network-commands.js")).registerNetworkCommands,
  },
  { names: ["stress"], load: async () => (await import("./stress-command.js")).registerStressCommand },
  {
    names: ["recover", "halt", "resume", "status"],
    load: async () => (await import("./ledger-commands.js")).registerLedgerCommands,
  },
  { names: ["run"], load: async () => (await import("./run-command.js")).registerRunCommand },
  { names: ["duel"], load: async () => (await import("./duel-command.js")).registerDuelCommand },
  {
    names: ["report"],
    load: async () => {
      const { registerReportCommand } = await import("./report-command.js");
      return (program, _config, io) => {
        registerReportCommand(program, io);
      };
    },
  },
  {
    names: ["agent"],
    load: async () => {
      const { registerAgentCommand } = await import("./agent-command.js");
      return (program, config, io) => {
        registerAgentCommand(program, config, io, packageVersion());
      };
    },
  },
  { names: ["daemon"], load: async () => (await import("./daemon-command.js")).registerDaemonCommand },
  { names: ["board"], load: async () => (await import("./board-command.js")).registerBoardCommand },
  { names: ["gameday"], load: async () => (await import("./gameday-command.js")).registerGamedayCommand },
  {
    names: ["convert"],
    load: async () => {
      const { registerConvertCommand } = await import("./convert-command.js");
      return (program, _config, io) => {
        registerConvertCommand(program, io);
      };
    },
  },
];

/**
 * Parses argv, runs one command, and returns the process exit code (documented in docs/cli.md). Nothing
 * escapes as an exception: the environment is read inside the same error handling as the command.
 */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  rawIo: CliIo = processIo,
): Promise<number> {
  const io = terminalSafe(rawIo);
  try {
    const program = await buildProgram(readConfig(env), io, modulesFor(argv.slice(2)));
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error: unknown) {
    return await exitCodeFor(error, io);
  }
}

/**
 * Everything printed passes here: names, titles and messages from files and the cluster may hold
 * terminal escape sequences, and URLs may hold credentials; neither reaches the screen.
 */
function terminalSafe(io: CliIo): CliIo {
  return {
    out: (text) => {
      io.out(printable(redactUrl(text)));
    },
    err: (text) => {
      io.err(printable(redactUrl(text)));
    },
    ...(io.outIsTty === undefined ? {} : { outIsTty: io.outIsTty }),
    drawn: (text) => {
      (io.drawn ?? io.out)(onlyColours(text) ? text : printable(text));
    },
  };
}

/** Select Graphic Rendition: ESC [ digits ; m, which sets colours and nothing else. */
const colourSequence = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*m`, "g");

/** Colour sequences and line feeds are the only controls in `text`. */
export function onlyColours(text: string): boolean {
  const rest = text.replace(colourSequence, "");
  return printable(rest) === rest;
}

/**
 * The modules a command line needs: the one that registers its command; none for a bare `--version`;
 * all of them for anything else (help, no command, a mistyped one), so help lists every command and a
 * typo still gets its "did you mean".
 */
export function modulesFor(args: readonly string[]): readonly CommandModule[] {
  const [first] = args;
  if (args.length === 1 && first === "--version") return [];
  const owner = commandModules.find((module) => first !== undefined && module.names.includes(first));
  return owner === undefined ? commandModules : [owner];
}

/** The program with the commands of `modules` (all of them unless told otherwise). */
export async function buildProgram(
  config: CliConfig,
  io: CliIo,
  modules: readonly CommandModule[] = commandModules,
): Promise<Command> {
  const program = new Command("broadside")
    .description("Chaos engineering for Kubernetes: break things on purpose, measure how the cluster heals.")
    // --version only: a short -V would also match a flag's value that starts with "-V" (`--container -V?`).
    .version(packageVersion(), "--version", "print the version")
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  const registrars = await Promise.all(modules.map((module) => module.load()));
  for (const register of registrars) register(program, config, io);
  describeDurationDefaults(program);
  return program;
}

/** Help shows a duration default as it is typed ("5m"), not as the object behind it. */
function describeDurationDefaults(command: Command): void {
  for (const option of command.options) {
    if (option.defaultValue instanceof Duration)
      option.defaultValueDescription = option.defaultValue.toString();
  }
  for (const subcommand of command.commands) describeDurationDefaults(subcommand);
}

function packageVersion(): string {
  const packageJson = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(packageJson) as { version: string }).version;
}

/**
 * Errors that are not Broadside's own but have a known meaning get their catalogue code: a connection
 * that failed, an API answer that refused. Anything else is a bug. The Kubernetes client's helpers are
 * loaded only here, on an error, so `--version` and the commands that need no cluster never load it.
 */
async function asBroadsideError(error: unknown): Promise<BroadsideError | undefined> {
  if (error instanceof BroadsideError) return error;
  const { apiErrorMessage, apiStatus, kubeErrorCode, networkErrorCode } =
    await import("../kube/api-errors.js");
  const network = networkErrorCode(error);
  if (network !== undefined) {
    return new BroadsideError(
      "BRD_KUBE_UNREACHABLE",
      `cannot reach the Kubernetes API (${network}): ${describeError(error)}`,
    );
  }
  if (apiStatus(error) !== undefined) return new BroadsideError(kubeErrorCode(error), apiErrorMessage(error));
  return undefined;
}

async function exitCodeFor(error: unknown, io: CliIo): Promise<number> {
  if (error instanceof CommanderError) {
    // Commander has printed its own message; help and version are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const known = await asBroadsideError(error);
  if (known !== undefined) {
    io.err(`error [${known.code}]: ${known.message}\n`);
    if (known.cause !== undefined) {
      const { apiErrorMessage } = await import("../kube/api-errors.js");
      io.err(`  caused by: ${apiErrorMessage(known.cause)}\n`);
    }
    return known.exitCode;
  }
  io.err(`error [BRD_INTERNAL]: ${describeError(error)}\n`);
  if (error instanceof Error && error.stack !== undefined) io.err(`${error.stack}\n`);
  return ExitCode.failure;
}
