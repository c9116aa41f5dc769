import { Command, CommanderError } from "commander";
import { BroadsideError, describeError, ExitCode } from "../core/errors.js";
import { readConfig } from "./config.js";
import { registerDemoCommand } from "./demo-command.js";
import { registerSandboxCommands } from "./sandbox-commands.js";

/** Parses argv, runs one command, and returns the process exit code (documented in docs/cli.md). */
export async function main(argv: readonly string[]): Promise<number> {
  const config = readConfig(process.env);
  const program = new Command("broadside")
    .description("Chaos engineering for Kubernetes: break things on purpose, measure how the cluster heals.")
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  registerSandboxCommands(program, config);
  registerDemoCommand(program, config);
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
  } catch (error: unknown) {
    return exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // Commander has printed its own message; help and version are not errors.
    return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  }
  if (error instanceof BroadsideError) {
    process.stderr.write(`error [${error.code}]: ${error.message}\n`);
    if (error.cause !== undefined) process.stderr.write(`  caused by: ${describeError(error.cause)}\n`);
    return error.exitCode;
  }
  process.stderr.write(`error [BRD_INTERNAL]: ${describeError(error)}\n`);
  if (error instanceof Error && error.stack !== undefined) process.stderr.write(`${error.stack}\n`);
  return ExitCode.failure;
}
