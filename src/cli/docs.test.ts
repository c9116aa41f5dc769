import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { readConfig } from "./config.js";
import { buildProgram } from "./main.js";

/** The CLI's flags and the docs that describe them, tied: a flag added without its line fails here. */

const docs = (name: string) => readFileSync(join(import.meta.dirname, "..", "..", "docs", name), "utf8");
const program = await buildProgram(readConfig({}), { out: () => undefined, err: () => undefined });

function commandAt(path: readonly string[]): Command {
  let command = program;
  for (const name of path) {
    const next = command.commands.find((sub) => sub.name() === name);
    if (next === undefined) throw new Error(`no command ${path.join(" ")}`);
    command = next;
  }
  return command;
}

/** Every long flag of every command, as `command path: --flag`. */
function flagsOf(command: Command, path: readonly string[] = []): string[] {
  const own = command.options.flatMap((option) => (option.long === undefined ? [] : [option.long]));
  return [
    ...own.map((flag) => `${path.join(" ")}: ${flag}`),
    ...command.commands.flatMap((sub) => flagsOf(sub, [...path, sub.name()])),
  ];
}

/** The text of a markdown section, from its heading to the next heading of its level or above. */
function section(text: string, heading: string): string {
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const level = heading.split(" ")[0] ?? "##";
  const rest = text.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n#{1,${level.length}} `));
  return end < 0 ? rest : rest.slice(0, end);
}

describe("the flags and their docs", () => {
  it("has every flag of every command in docs/cli.md", () => {
    const cli = docs("cli.md");
    expect(flagsOf(program)).toContain("kill: --max-shots");
    const missing = flagsOf(program).filter((entry) => !cli.includes(entry.split(": ")[1] ?? ""));
    expect(missing).toEqual([]);
  });

  it("has every flag of `broadside agent` in the Flags table of docs/agent.md", () => {
    const table = section(docs("agent.md"), "## Flags");
    const flags = flagsOf(commandAt(["agent"])).map((entry) => entry.split(": ")[1] ?? "");
    expect(flags).toContain("--resync");
    expect(flags.filter((flag) => flag !== "--help" && !table.includes(`\`${flag}\``))).toEqual([]);
  });
});
