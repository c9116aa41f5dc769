import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { measuredSeconds, splitIntoShards, unmeasured } from "./integration-shards.mjs";

const integrationFiles = readdirSync(join(import.meta.dirname, "..", "test", "integration"))
  .filter((name) => name.endsWith(".test.ts"))
  .map((name) => `test/integration/${name}`);

describe("the integration tier, split in two shards by measured time", () => {
  it("puts every file in exactly one shard", () => {
    const shards = splitIntoShards(integrationFiles, 2);
    expect(shards.flatMap((shard) => shard.files).sort()).toEqual([...integrationFiles].sort());
  });

  it("balances the shards: they differ by less than the longest file", () => {
    const [first, second] = splitIntoShards(integrationFiles, 2);
    const longest = Math.max(...Object.values(measuredSeconds));
    expect(Math.abs((first?.seconds ?? 0) - (second?.seconds ?? 0))).toBeLessThan(longest);
  });

  it("counts a file it has not measured as `unmeasured` seconds, and splits the same way every time", () => {
    const files = ["a.test.ts", "b.test.ts", "c.test.ts"];
    const shards = splitIntoShards(files, 2, { "a.test.ts": 50 });
    expect(shards).toEqual([
      { files: ["a.test.ts"], seconds: 50 },
      { files: ["b.test.ts", "c.test.ts"], seconds: 2 * unmeasured },
    ]);
    expect(splitIntoShards(files, 2, { "a.test.ts": 50 })).toEqual(shards);
  });

  it("has a measured duration for every integration file, so the split is by what was measured", () => {
    const names = integrationFiles.map((file) => file.split("/").pop() ?? "");
    expect(names.filter((name) => !(name in measuredSeconds))).toEqual([]);
  });
});
