import { describe, expect, it } from "vitest";
import { BroadsideError } from "../../core/errors.js";
import { buildRunReport } from "./build.js";
import { parseRunReport, renderJson } from "./json.js";
import { exampleRunInput } from "./synthetic.js";

function usageMessage(action: () => unknown): string {
  try {
    action();
  } catch (error: unknown) {
    expect(error).toBeInstanceOf(BroadsideError);
    if (error instanceof BroadsideError) {
      expect(error.code).toBe("BRD_USAGE");
      return error.message;
    }
  }
  throw new Error("expected a usage error");
}

/** The example report as parsed JSON, to be damaged by a test. */
function exampleJson(): Record<string, unknown> {
  const parsed: unknown = JSON.parse(renderJson(buildRunReport(exampleRunInput())));
  if (typeof parsed !== "object" || parsed === null) throw new Error("the example is not an object");
  return { ...parsed };
}

describe("reading a report back", () => {
  it("names the path of a bad field", () => {
    const json = exampleJson();
    const samples = json.samples;
    if (!Array.isArray(samples)) throw new Error("no samples");
    const damaged = samples.map((s: unknown, index) =>
      index === 3 && typeof s === "object" ? { ...s, ok: "yes" } : s,
    );
    const message = usageMessage(() =>
      parseRunReport(JSON.stringify({ ...json, samples: damaged }), "run.json"),
    );
    expect(message).toMatch(/^run\.json: samples\[3\]\.ok: /);
    expect(message).toContain("boolean");
  });

  it("names nested paths inside phases", () => {
    const json = exampleJson();
    const phases = json.phases as { chaos: { probes: Record<string, unknown>[] } };
    const figures = phases.chaos.probes[0];
    phases.chaos.probes[0] = { ...figures, sent: "many" };
    const message = usageMessage(() => parseRunReport(JSON.stringify(json), "run.json"));
    expect(message).toMatch(/^run\.json: phases\.chaos\.probes\[0\]\.sent: /);
  });

  it("refuses another schema version with a message saying so", () => {
    const message = usageMessage(() =>
      parseRunReport(JSON.stringify({ ...exampleJson(), schemaVersion: 1 }), "run.json"),
    );
    expect(message).toContain("schemaVersion: this Broadside reads schemaVersion 2");
  });

  it("refuses a document that is not a run report", () => {
    const message = usageMessage(() => parseRunReport('{"kind":"Pod"}', "pod.json"));
    expect(message).toMatch(/^pod\.json: apiVersion: /);
    expect(message).toContain("more");
  });

  it("refuses text that is not JSON", () => {
    expect(usageMessage(() => parseRunReport("{not json", "run.json"))).toMatch(/^run\.json: is not JSON: /);
  });

  it("names the whole document when it is not an object", () => {
    expect(usageMessage(() => parseRunReport("[]", "run.json"))).toMatch(/^run\.json: \(the document\): /);
  });

  it("refuses samples of a probe the report does not declare, naming the sample", () => {
    const json = exampleJson();
    const samples = json.samples as Record<string, unknown>[];
    samples[5] = { ...samples[5], probe: "ghost" };
    const message = usageMessage(() => parseRunReport(JSON.stringify(json), "run.json"));
    expect(message).toBe('run.json: samples[5].probe: names undeclared probe "ghost"');
  });

  it("drops fields it does not know, so an additive change does not break older readers", () => {
    const text = JSON.stringify({ ...exampleJson(), addedLater: { anything: true } });
    expect(parseRunReport(text, "run.json")).not.toHaveProperty("addedLater");
  });
});
