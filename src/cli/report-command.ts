import type { Command } from "commander";
import { writeFile } from "node:fs/promises";
import { usageError } from "../core/errors.js";
import { parseReportFormat, renderReport, type ReportFormat } from "../experiments/report/formats.js";
import { figureMismatches } from "../experiments/report/build.js";
import { parseRunReport } from "../experiments/report/json.js";
import { readInputFile } from "./input-file.js";
import type { CliIo } from "./options.js";

interface ReportFlags {
  readonly format: ReportFormat;
  readonly output?: string;
}

/** `broadside report run.json --format md|junit|html|text|json`: any format, regenerated from the JSON. */
export function registerReportCommand(program: Command, io: CliIo): void {
  program
    .command("report")
    .description("Render a run's JSON report (run.json) as text, json, md, junit or html")
    .argument("<run.json>", "a report written by broadside run")
    .option(
      "--format <format>",
      "text, json, md, junit or html",
      (value: string) => parseReportFormat(value),
      "text",
    )
    .option("--output <file>", "write to this file instead of stdout")
    .action(async (file: string, flags: ReportFlags) => {
      const text = await readInputFile(file, "<run.json>");
      const report = parseRunReport(text, file);
      // Every figure must follow from the raw samples kept in the report; a hand-edited figure is refused.
      const mismatches = figureMismatches(report);
      if (mismatches.length > 0) {
        throw usageError(file, `figures do not match the samples at ${mismatches.join(", ")}`);
      }
      const rendered = renderReport(report, flags.format);
      if (flags.output === undefined) io.out(rendered.endsWith("\n") ? rendered : `${rendered}\n`);
      else await writeOutput(flags.output, rendered);
    });
}

/** --output is a path the user chose; one that cannot be written is their input, named, not a crash. */
async function writeOutput(path: string, text: string): Promise<void> {
  if (path.trim() === "") throw usageError("--output", "is empty; name a file, or leave it out for stdout");
  await writeFile(path, text).catch((error: unknown) => {
    throw usageError(
      "--output",
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  });
}
