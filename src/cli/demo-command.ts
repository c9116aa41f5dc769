import type { Command } from "commander";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { systemClock } from "../core/clock.js";
import { demoExample, withDemoFleet } from "../demo/demo.js";
import { exampleRunArgs, withFlag } from "../demo/example-command.js";
import { SandboxName } from "../sandbox/sandbox-name.js";
import { defaultFrontDoorPorts, parseFrontDoorPorts, type FrontDoorPorts } from "../demo/front-door-ports.js";
import type { CliConfig } from "./config.js";
import type { CliIo } from "./options.js";
import { failOnVerdict, parseRunArgs, runFile } from "./run-command.js";
import { sandboxEnvironment } from "./sandbox-commands.js";

interface DemoFlags {
  readonly name: string;
  readonly keep: boolean;
  readonly reportDir: string;
  readonly frontDoorPorts?: FrontDoorPorts;
}

export function registerDemoCommand(program: Command, config: CliConfig, io: CliIo): void {
  program
    .command("demo")
    .description(
      `Start the sandbox, deploy a demo fleet with real traffic, and run ${demoExample} (about a minute)`,
    )
    .option("--name <name>", "sandbox to run the demo on", "demo")
    .option(
      "--keep",
      "leave the sandbox running afterwards (otherwise a sandbox the demo started is stopped)",
      false,
    )
    .option("--report-dir <dir>", "where the JSON and HTML reports are written", "broadside-reports")
    .option(
      "--front-door-ports <ports>",
      "the front doors' ports on 127.0.0.1: a base (default 18080: checkout, storefront, ledger-writer on 18080-18082), three ports (checkout,storefront,ledger-writer), or auto (free ports); also BROADSIDE_FRONT_DOOR_PORTS",
      (value: string) => parseFrontDoorPorts(value, "--front-door-ports"),
    )
    .action(async (flags: DemoFlags) => {
      const print = (line: string): void => {
        io.out(`${line}\n`);
      };
      const outcome = await withDemoFleet(
        {
          sandboxName: SandboxName.parse(flags.name, "--name"),
          keepSandbox: flags.keep,
          sandbox: sandboxEnvironment(config, io),
          frontDoorPorts: flags.frontDoorPorts ?? config.frontDoorPorts ?? defaultFrontDoorPorts,
          clock: systemClock,
          print,
          progress: (line) => {
            io.err(`${line}\n`);
          },
        },
        async () => {
          // The example's own command line, on this sandbox: what the README shows is what runs.
          const file = join(config.packageRoot, demoExample);
          const args = withFlag(
            withFlag(exampleRunArgs(await readFile(file, "utf8"), demoExample), "--sandbox", flags.name),
            "--report-dir",
            flags.reportDir,
          );
          print(`Running: broadside run ${args.join(" ")}`);
          const { flags: runFlags } = await parseRunArgs(args);
          return runFile(config, io, file, runFlags);
        },
      );
      if (outcome === undefined) return;
      const html = outcome.files.find((path) => path.endsWith(".html"));
      if (html !== undefined) print(`\nThe HTML report, with its latency timeline: ${html}`);
      failOnVerdict(outcome.report);
    });
}
