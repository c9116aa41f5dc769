import { readFileSync } from "node:fs";
import { Command, CommanderError } from "commander";
import { BroadsideError, describeError, errorCatalog, ExitCode } from "../core/errors.js";
import { apiStatus, networkErrorCode } from "../kube/client.js";
import { readConfig } from "./config.js";
import { processIo, type CliIo } from "./options.js";
import { registerChaosCommands } from "./chaos-commands.js";
import { registerDemoCommand } from "./demo-command.js";
import { registerLedgerCommands } from "./ledger-commands.js";
import { registerReportCommand } from "./report-command.js";
import { registerRunCommand } from "./run-command.js";
import { registerSandboxCommands } from "./sandbox-commands.js";

/** Parses argv, runs one command, and returns the process exit code (documented in docs/cli.md). */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = processIo,
): Promise<number> {
  const config = readConfig(env);
  const program = new Command("broadside")
    .description("Chaos engineering for Kubernetes: break things on purpose, measure how the cluster heals.")
    .version(packageVersion())
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  registerSandboxCommands(program, config, io);
  registerDemoCommand(program, config, io);
  registerChaosCommands(program, config, io);
  registerLedgerCommands(program, io);
  registerRunCommand(program, config, io);
  registerReportCommand(program, io);
  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (error: unknown) {
    return exitCodeFor(error, io);
  }
}

function packageVersion(): string {
  const packageJson = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
  return (JSON.parse(packageJson) as { version: string }).version;
}

function exitCodeFor(error: unknown, io: CliIo): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message; help and version are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof BroadsideError) {
    io.err(`error [${error.code}]: ${error.message}\n`);
    if (error.cause !== undefined) io.err(`  caused by: ${describeError(error.cause)}\n`);
    return error.exitCode;
  }
  const network = networkErrorCode(error);
  if (network !== undefined) {
    io.err(
      `error [BRD_KUBE_UNREACHABLE]: cannot reach the Kubernetes API (${network}): ${describeError(error)}\n`,
    );
    return errorCatalog.BRD_KUBE_UNREACHABLE.exitCode;
  }
  const status = apiStatus(error);
  if (status !== undefined) {
    io.err(`error [BRD_KUBE_API]: the Kubernetes API answered ${status}: ${describeError(error)}\n`);
    return errorCatalog.BRD_KUBE_API.exitCode;
  }
  io.err(`error [BRD_INTERNAL]: ${describeError(error)}\n`);
  if (error instanceof Error && error.stack !== undefined) io.err(`${error.stack}\n`);
  return ExitCode.failure;
}
