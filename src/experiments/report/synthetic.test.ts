import { describe, expect, it } from "vitest";
import { syntheticSamples } from "./synthetic.js";

describe("synthetic samples", () => {
  it("are reproducible from their seed", () => {
    const spec = { probe: "p", start: 0, end: 2000, intervalMs: 200, jitterMs: 20, seed: 9 };
    expect(syntheticSamples(spec)).toEqual(syntheticSamples(spec));
  });
});
