import { describe, expect, it } from "vitest";
import { describeEntry, loadCorpus, one, runEntry } from "./harness/corpus.js";
import { fuzzSettings } from "./settings.js";

/**
 * The hostile corpus, entry by entry: each must get the answer its header gives, and no entry may crash,
 * print a credential or a raw control character, or write outside its folders. Entries that need a
 * cluster run in test/integration/fuzz-e2e.test.ts.
 */

const settings = fuzzSettings();
const entries = loadCorpus().filter((entry) => one(entry, "cluster") !== "yes");

describe("the hostile corpus gets the right answers", () => {
  it("has an entry for every class of the issue", () => {
    expect(entries.length).toBeGreaterThanOrEqual(30);
  });

  it.each(entries.map((entry) => [entry.name, entry] as const))("%s", async (_name, entry) => {
    const { problems, result } = await runEntry(entry, {
      parent: settings.root,
      kubeconfig: settings.kubeconfig,
      secret: settings.secret,
    });
    expect(problems, describeEntry(entry, result, problems)).toEqual([]);
  });
});
