import { describe, expect, it } from "vitest";
import { formatPath } from "./field-path.js";

describe("formatPath", () => {
  it("writes paths as a reader of the JSON addresses fields", () => {
    expect(formatPath(["phases", "chaos", "probes", 0, "sent"], "(the document)")).toBe(
      "phases.chaos.probes[0].sent",
    );
    expect(formatPath(["errors", "odd key"], "(the document)")).toBe('errors["odd key"]');
    expect(formatPath([], "(the document)")).toBe("(the document)");
  });

  it.each<[string, PropertyKey[], string]>([
    ["", [], "(manifest)"],
    ["", ["selector", "pods", "demo", 0], "selector.pods.demo[0]"],
    [
      "spec",
      ["selector", "labelSelectors", "app.kubernetes.io/name"],
      'spec.selector.labelSelectors["app.kubernetes.io/name"]',
    ],
    ["", [0], "[0]"],
  ])("%j + %j is %s", (prefix, segments, path) => {
    expect(formatPath(segments, "(manifest)", prefix)).toBe(path);
  });
});
