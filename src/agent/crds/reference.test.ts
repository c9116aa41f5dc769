import { readFileSync } from "node:fs";
import { join } from "node:path";
import { format, resolveConfig } from "prettier";
import { describe, expect, it } from "vitest";
import { crdFiles } from "./generate.js";
import { referencePath, renderReference } from "./reference.js";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

describe("docs/crd-reference.md, the CRDs' field reference", () => {
  const rendered = renderReference(crdFiles());

  it("is what `npm run crds` writes from the CRDs, as prettier lays it out", async () => {
    const path = join(repoRoot, referencePath);
    const options = (await resolveConfig(path)) ?? {};
    const expected = await format(rendered, { ...options, filepath: path });
    expect(readFileSync(path, "utf8")).toBe(expected);
  });

  it("has a section per kind and a row per field, with what the API server enforces", () => {
    expect(rendered).toContain("## PodChaos (broadside.dev/v1alpha1)");
    expect(rendered).toContain("## PodChaos (chaos-mesh.org/v1alpha1)");
    expect(rendered).toMatch(/\| `spec\.mode` \| string \| required; one of `one`, `all`, `fixed`/);
    expect(rendered).toMatch(/\| `spec\.gracePeriod` \| integer \| ≥ 0; ≤ 86400 \|/);
    // A CEL rule relating fields is listed under the table, with the field it names.
    expect(rendered).toContain(
      "- `spec`: value is required for mode fixed, fixed-percent, random-max-percent",
    );
    // A scalar's own rule stays in its row.
    expect(rendered).toMatch(/\| `spec\.duration` \| string \| [^\n]*must be at most 168h \|/);
  });
});
