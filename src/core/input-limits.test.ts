import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { countLimits, documentLimits, durationLimits, faultDurationLimits } from "./input-limits.js";

/** docs/security.md's table of limits, as input -> limit. */
function documentedLimits(): Map<string, string> {
  const page = readFileSync(new URL("../../docs/security.md", import.meta.url), "utf8");
  const table = page.slice(page.indexOf("## Limits"));
  const rows = [...table.matchAll(/^\|\s*(.+?)\s*\|\s*(.+?)\s*\|$/gm)];
  return new Map(rows.map(([, input = "", limit = ""]) => [input.replace(/^`|`$/g, ""), limit]));
}

describe("docs/security.md lists every limit the code enforces, with its value", () => {
  const documented = documentedLimits();

  it.each(Object.entries(durationLimits))("duration limit %s", (_, limit) => {
    const range =
      "min" in limit
        ? `${limit.min.toString()} to ${limit.max.toString()}`
        : `at most ${limit.max.toString()}`;
    expect(documented.get(limit.fields)).toBe(range);
  });

  it.each(Object.entries(countLimits))("count limit %s", (_, limit) => {
    expect(documented.get(limit.fields)).toBe(`${limit.min} to ${limit.max}`);
  });

  it("the fault-duration setting, and the document limits", () => {
    expect(documented.get("BROADSIDE_MAX_FAULT_DURATION")).toBe(
      `${faultDurationLimits.defaultMax.toString()} by default, at most ${faultDurationLimits.ceiling.toString()}`,
    );
    expect([...documented.entries()].find(([input]) => input.startsWith("file size"))?.[1]).toBe(
      `${documentLimits.fileBytes} bytes`,
    );
    expect(documented.get("nesting depth of a file's maps and lists")).toBe(String(documentLimits.depth));
    expect(documented.get("YAML alias expansions")).toBe(String(documentLimits.yamlAliases));
  });
});
