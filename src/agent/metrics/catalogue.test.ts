import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { AgentMetrics } from "./agent-metrics.js";
import { metricDefinitions } from "./catalogue.js";

/**
 * docs/metrics.md is the catalogue people read; catalogue.ts is the one the code builds. These tests keep
 * the page, the definitions and the registry's scrape saying the same thing.
 */

interface Documented {
  readonly name: string;
  readonly type: string;
  readonly labels: readonly string[];
}

/**
 * The rows of the page's "Catalogue" section whose name is one of ours: `| \`broadside_x\` | type |
 * \`a\`, \`b\` | ... |`. The duel's metrics have a section of their own (src/duel/metrics.test.ts).
 */
function documentedMetrics(section = "## Catalogue"): Documented[] {
  const page = readFileSync(new URL("../../../docs/metrics.md", import.meta.url), "utf8");
  const from = page.indexOf(`\n${section}\n`);
  const rest = page.slice(from + section.length + 2);
  const to = rest.indexOf("\n## ");
  return (to < 0 ? rest : rest.slice(0, to))
    .split("\n")
    .filter((line) => line.startsWith("| `broadside_"))
    .map((line) => {
      const [name = "", type = "", labels = ""] = line.split("|").slice(1, 4).map(unquoted);
      return { name, type, labels: labels === "" ? [] : labels.split(",").map(unquoted) };
    });
}

function unquoted(cell: string): string {
  return cell.trim().replace(/^`|`$/g, "");
}

/** `# TYPE name type` lines of a scrape, for the metrics with our prefix. */
async function scrapedTypes(): Promise<Map<string, string>> {
  const text = await new AgentMetrics({ version: "0", processMetrics: true, maxFieldManagers: 1 }).render();
  const types = [...text.matchAll(/^# TYPE (broadside_\S+) (\S+)$/gm)];
  return new Map(types.map(([, name = "", type = ""]) => [name, type]));
}

describe("docs/metrics.md lists exactly the catalogue", () => {
  it("has one row per metric, with its type and labels, and no other", () => {
    const defined = metricDefinitions.map(({ name, type, labelNames }) => ({
      name,
      type,
      labels: [...labelNames],
    }));
    expect(documentedMetrics()).toEqual(defined);
  });

  it("matches what /metrics serves: every catalogue metric with its type, nothing else under broadside_", async () => {
    const defined = new Map(metricDefinitions.map(({ name, type }) => [name, type]));
    expect(await scrapedTypes()).toEqual(defined);
  });

  it("follows Prometheus' naming: prefix, snake_case, _total only on counters, seconds on histograms", () => {
    for (const { name, type } of metricDefinitions) {
      expect(name).toMatch(/^broadside_[a-z][a-z0-9]*(_[a-z0-9]+)*$/);
      expect(name.endsWith("_total"), name).toBe(type === "counter");
      if (type === "histogram") expect(name, name).toMatch(/_seconds$/);
    }
  });

  it("gives every histogram buckets that rise", () => {
    for (const { name, type, buckets } of metricDefinitions) {
      if (type !== "histogram") continue;
      expect(buckets?.length, name).toBeGreaterThan(0);
      expect(
        [...(buckets ?? [])].sort((a, b) => a - b),
        name,
      ).toEqual(buckets);
    }
  });
});
