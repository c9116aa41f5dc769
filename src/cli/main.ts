import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { Duration } from "../core/duration.js";
import { BroadsideError, describeError, ExitCode } from "../core/errors.js";
import { redactUrl } from "../core/redact.js";
import { printable } from "../core/terminal-text.js";
import { apiErrorMessage, apiStatus, kubeErrorCode, networkErrorCode } from "../kube/client.js";
import { readConfig, type CliConfig } from "./config.js";
import { processIo, type CliIo } from "./options.js";
import { registerAgentCommand } from "./agent-command.js";
import { registerChaosCommands } from "./chaos-commands.js";
import { registerConvertCommand } from "./convert-command.js";
import { registerDemoCommand } from "./demo-command.js";
import { registerLedgerCommands } from "./ledger-commands.js";
import { registerReportCommand } from "./report-command.js";
import { registerRunCommand } from "./run-command.js";
import { registerSandboxCommands } from "./sandbox-commands.js";

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
    await buildProgram(readConfig(env), io).parseAsync(argv);
    return ExitCode.ok;
  } catch (error: unknown) {
    return exitCodeFor(error, io);
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
  };
}

export function buildProgram(config: CliConfig, io: CliIo): Command {
  const program = new Command("broadside")
    .description("Chaos engineering for Kubernetes: break things on purpose, measure how the cluster heals.")
    // --version only: a short -V would also match a flag's value that starts with "-V" (`--container -V?`).
    .version(packageVersion(), "--version", "print the version")
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerSandboxCommands(program, config, io);
  registerDemoCommand(program, config, io);
  registerChaosCommands(program, config, io);
  registerLedgerCommands(program, config, io);
  registerRunCommand(program, config, io);
  registerReportCommand(program, io);
  registerAgentCommand(program, config, io, packageVersion());
  registerConvertCommand(program, io);
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
 * that failed, an API answer that refused. Anything else is a bug.
 */
function asBroadsideError(error: unknown): BroadsideError | undefined {
  if (error instanceof BroadsideError) return error;
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

function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message; help and version are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  const known = asBroadsideError(error);
  if (known !== undefined) {
    io.err(`error [${known.code}]: ${known.message}\n`);
    if (known.cause !== undefined) io.err(`  caused by: ${apiErrorMessage(known.cause)}\n`);
    return known.exitCode;
  }
  io.err(`error [BRD_INTERNAL]: ${describeError(error)}\n`);
  if (error instanceof Error && error.stack !== undefined) io.err(`${error.stack}\n`);
  return ExitCode.failure;
}
