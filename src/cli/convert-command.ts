import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { usageError } from "../core/errors.js";
import { convertChaosMeshManifest } from "../experiments/files/convert.js";
import { readInputFile } from "./input-file.js";
import type { CliIo } from "./options.js";

interface ConvertFlags {
  readonly output?: string;
}

/**
 * `broadside convert FILE [-o OUT]`: a Chaos Mesh PodChaos or Schedule, checked, with its apiVersion
 * changed to broadside.dev/v1alpha1 and nothing else (experiments/files/convert.ts). Writes to stdout, or
 * to OUT. Nothing touches a cluster.
 */
export function registerConvertCommand(program: Command, io: CliIo): void {
  program
    .command("convert")
    .description(
      "Check a Chaos Mesh PodChaos or Schedule manifest and rewrite its apiVersion to broadside.dev/v1alpha1, keeping comments and layout",
    )
    .argument("<file>", "the Chaos Mesh manifest (YAML)")
    .option("-o, --output <file>", "write the converted manifest here instead of stdout")
    .action(async (file: string, flags: ConvertFlags) => {
      const text = await readInputFile(file, "<file>");
      const converted = convertChaosMeshManifest(text, file);
      for (const warning of converted.warnings) io.err(`warning: ${warning}\n`);
      if (flags.output === undefined) {
        io.out(converted.text);
        return;
      }
      await writeFile(flags.output, converted.text).catch((error: unknown) => {
        throw usageError(
          "--output",
          `cannot write ${flags.output}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
        );
      });
    });
}
