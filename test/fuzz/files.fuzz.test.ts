import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { docKinds, validDoc, type DocKind } from "./generators/documents.js";
import { mutate } from "./generators/mutations.js";
import { render } from "./generators/render.js";
import { checkFileCase, type FileCase } from "./harness/file-case.js";
import { Findings } from "./harness/violations.js";
import { fuzzSettings, seedFor, share } from "./settings.js";

/**
 * The parser and planner of `broadside run FILE`, driven directly with generated files of every kind:
 * valid ones, and valid ones with one thing made hostile. Each must plan, or be refused with exit 2 naming
 * the file and the field; what plans must hold only names, bounded durations and every selector key
 * written. 60% of the run's cases, shared by the five kinds.
 */

const settings = fuzzSettings();

function fileCases(kind: DocKind, secret: string): fc.Arbitrary<FileCase> {
  return validDoc(kind).chain((base) =>
    fc
      .oneof(
        { weight: 1, arbitrary: fc.constant({ kind, doc: base }) },
        { weight: 9, arbitrary: mutate(kind, base, secret) },
      )
      .chain((mutated) => render(mutated.doc).map((rendered): FileCase => ({ ...mutated, rendered }))),
  );
}

describe("every generated experiment file is planned or refused cleanly", () => {
  it.each(docKinds)("%s files", (kind) => {
    const seed = seedFor(settings.seed, `files ${kind}`);
    const findings = new Findings(`files ${kind}`, seed);
    fc.assert(
      fc.property(fileCases(kind, settings.secret), (fileCase) => {
        checkFileCase(fileCase, settings.secret, findings);
      }),
      { seed, numRuns: share(settings.runs, 12) },
    );
    findings.record(settings.summaryDir);
    expect(findings.failedCases, findings.report()).toBe(0);
  });
});
