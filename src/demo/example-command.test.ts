import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { demoExample } from "./demo.js";
import { exampleRunArgs, withFlag } from "./example-command.js";

const root = join(import.meta.dirname, "..", "..");

describe("the command line every example carries", () => {
  it("is read from its comment, the file first", () => {
    expect(
      exampleRunArgs("# intro\n# broadside run examples/a.yaml --sandbox demo --for 1m\nkind: X\n", "a.yaml"),
    ).toEqual(["examples/a.yaml", "--sandbox", "demo", "--for", "1m"]);
  });

  it("is required", () => {
    expect(() => exampleRunArgs("kind: X\n", "a.yaml")).toThrow('a.yaml: has no "# broadside run ..." line');
  });

  it("names its own file, in every example", async () => {
    // Duel files say `# broadside duel ...`; src/duel/file.test.ts checks theirs.
    const files = (await readdir(join(root, "examples"))).filter(
      (file) => file.endsWith(".yaml") && !file.startsWith("duel-"),
    );
    for (const file of files) {
      const args = exampleRunArgs(await readFile(join(root, "examples", file), "utf8"), file);
      expect(args[0]).toBe(`examples/${file}`);
    }
    expect(files).toContain(demoExample.replace("examples/", ""));
  });

  it("can have a flag's value replaced, or the flag added", () => {
    expect(withFlag(["f", "--sandbox", "demo", "--for", "1m"], "--sandbox", "it")).toEqual([
      "f",
      "--sandbox",
      "it",
      "--for",
      "1m",
    ]);
    expect(withFlag(["f"], "--report-dir", "/tmp/r")).toEqual(["f", "--report-dir", "/tmp/r"]);
  });
});
