import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseExperimentFile } from "./load.js";

const examplesDir = join(import.meta.dirname, "..", "..", "..", "examples");

/** Duel files (docs/duel.md) are `broadside duel`'s, checked by src/duel/file.test.ts. */
const isDuel = (file: string): boolean => file.startsWith("duel-");

describe("every file under examples/ is a valid experiment file", async () => {
  const files = (await readdir(examplesDir)).filter((file) => file.endsWith(".yaml") && !isDuel(file));

  it("has examples to check", () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)("%s parses without errors", async (file) => {
    const loaded = parseExperimentFile(await readFile(join(examplesDir, file), "utf8"), file);
    expect(loaded.kind).toMatch(/^(Experiment|PodChaos|Schedule|NetworkChaos|StressChaos)$/);
  });
});
