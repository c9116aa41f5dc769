import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BroadsideError, errorCatalog, type ErrorCode } from "./errors.js";

/** The rows of docs/errors.md's table: code and exit status, as a reader sees them. */
function documentedCodes(): Map<string, number> {
  const page = readFileSync(new URL("../../docs/errors.md", import.meta.url), "utf8");
  const rows = [...page.matchAll(/^\|\s*`(BRD_[A-Z_]+)`\s*\|\s*(\d+)\s*\|/gm)];
  return new Map(rows.map(([, code = "", exit = ""]) => [code, Number(exit)]));
}

describe("the error catalogue and docs/errors.md say the same thing", () => {
  const documented = documentedCodes();

  it("documents every code of the catalogue, with its exit status", () => {
    for (const [code, spec] of Object.entries(errorCatalog)) {
      expect(documented.get(code), `${code} in docs/errors.md`).toBe(spec.exitCode);
    }
  });

  it("documents no code the catalogue lacks", () => {
    const catalogued = new Set(Object.keys(errorCatalog));
    expect([...documented.keys()].filter((code) => !catalogued.has(code))).toEqual([]);
  });

  it("gives every error its code's exit status", () => {
    for (const code of Object.keys(errorCatalog) as ErrorCode[]) {
      expect(new BroadsideError(code, "x").exitCode).toBe(errorCatalog[code].exitCode);
    }
  });
});
