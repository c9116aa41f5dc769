import type { Command } from "commander";
import { runDemo } from "../demo/demo.js";
import type { CliConfig } from "./config.js";
import type { CliIo } from "./options.js";
import { sandboxEnvironment } from "./sandbox-commands.js";

export function registerDemoCommand(program: Command, config: CliConfig, io: CliIo): void {
  program
    .command("demo")
    .description("Start the sandbox, deploy a demo fleet, delete a pod and show its replacement with timings")
    .option("--name <name>", "sandbox to run the demo on", "demo")
    .option(
      "--keep",
      "leave the sandbox running afterwards (otherwise a sandbox the demo started is stopped)",
      false,
    )
    .action(async (options: { name: string; keep: boolean }) => {
      await runDemo({
        sandboxName: options.name,
        keepSandbox: options.keep,
        sandbox: sandboxEnvironment(config, io),
        print: (line) => {
          io.out(`${line}\n`);
        },
        progress: (line) => {
          io.err(`${line}\n`);
        },
      });
    });
}
