import type { z } from "zod";
import { BroadsideError } from "../../core/errors.js";
import { isRecord } from "../../core/objects.js";
import { formatPath } from "../../core/field-path.js";

/**
 * Problems found in an experiment file, collected rather than thrown one by one, so that a single run of
 * `broadside run` names every bad field at once. Each problem renders as `<file>: <path>: <problem>`, the
 * path as a user reads it (`spec.method[1].duration`), with the line the field is on when it is known.
 */

export type PathSegment = string | number;

/** What a path names when it is empty: the manifest as a whole. */
export const manifestRoot = "(manifest)";
export type FieldPath = readonly PathSegment[];

/** The line (1-based) a field is on, when the YAML source knows it. */
export type Locator = (path: FieldPath) => number | undefined;

interface FieldProblem {
  readonly path: FieldPath;
  readonly problem: string;
}

type Issue = z.core.$ZodIssue;

export function segmentsOf(path: readonly PropertyKey[]): PathSegment[] {
  return path.map((segment) => (typeof segment === "symbol" ? String(segment) : segment));
}

/** The value at `path` in plain data read from YAML, or undefined when the path leads nowhere. */
export function valueAt(root: unknown, path: FieldPath): unknown {
  let value = root;
  for (const segment of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<PathSegment, unknown>)[segment];
  }
  return value;
}

/** A value as a message quotes it: strings in quotes, collections by their shape. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "a list";
  if (value === null) return "null";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  return typeof value;
}

const typeNames: Readonly<Record<string, string>> = {
  string: "a string",
  number: "a number",
  int: "a whole number",
  boolean: "true or false",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
};

/** zod's own wording ("Invalid input: expected ...") is replaced; messages our schemas chose are kept. */
function isZodDefault(message: string): boolean {
  return /^(Invalid input|Invalid option|Too small|Too big|Invalid string|Invalid discriminator)/.test(
    message,
  );
}

function typeProblem(issue: Extract<Issue, { code: "invalid_type" }>, got: unknown): string {
  if (got === undefined) return "is required";
  if (!isZodDefault(issue.message)) return issue.message;
  return `must be ${typeNames[issue.expected] ?? issue.expected}, got ${describeValue(got)}`;
}

function valueProblem(issue: Extract<Issue, { code: "invalid_value" }>, got: unknown): string {
  if (!isZodDefault(issue.message)) return issue.message;
  const values = issue.values.map((value) => String(value));
  const expected = values.length === 1 ? `must be ${values.join("")}` : `must be one of ${values.join(", ")}`;
  return got === undefined
    ? `is required: ${expected.replace(/^must be /, "")}`
    : `${expected}, got ${describeValue(got)}`;
}

type SizeIssue = Extract<Issue, { code: "too_small" | "too_big" }>;

function sizeProblem(issue: SizeIssue): string {
  if (!isZodDefault(issue.message)) return issue.message;
  const small = issue.code === "too_small";
  const limit = Number(small ? issue.minimum : issue.maximum);
  if (issue.origin === "array")
    return small ? `must have at least ${limit} item(s)` : `must have at most ${limit} items`;
  if (issue.origin === "string") return small ? "must not be empty" : `must be at most ${limit} characters`;
  const inclusive = issue.inclusive === true;
  if (small) return inclusive ? `must be at least ${limit}` : `must be more than ${limit}`;
  return inclusive ? `must be at most ${limit}` : `must be less than ${limit}`;
}

/** The wording of one issue that is not a union or unknown keys (those are handled where they arise). */
function issueProblem(issue: Issue, got: unknown): string {
  switch (issue.code) {
    case "invalid_type":
      return typeProblem(issue, got);
    case "invalid_value":
      return valueProblem(issue, got);
    case "too_small":
    case "too_big":
      return sizeProblem(issue);
    default:
      return issue.message;
  }
}

/**
 * Of the branches of a failed union, the one the user meant, so that `{wait: 5}` reports "wait: must be a
 * duration" rather than "fault is required". A branch is plausible when the object has at least one key
 * it knows (and, for a discriminated union, its discriminator); among plausible branches the one whose
 * failures are least about the object's shape (unknown keys at its top, missing top-level keys) wins.
 * Undefined when none is plausible or two fit equally: the union's own message then says what is expected.
 */
function chosenBranch(
  branches: readonly (readonly Issue[])[],
  at: FieldPath,
  root: unknown,
): number | undefined {
  const fits = branches.map((issues) => branchFit(issues, at, root));
  const plausible = fits.filter((fit): fit is number => fit !== undefined);
  const best = Math.min(...plausible);
  const winners = fits.flatMap((fit, index) => (fit === best ? [index] : []));
  return winners.length === 1 ? winners[0] : undefined;
}

function isMissing(issue: Issue, at: FieldPath, root: unknown): boolean {
  return issue.path.length === 1 && valueAt(root, [...at, ...segmentsOf(issue.path)]) === undefined;
}

/** The number of shape failures of a branch, or undefined when the branch cannot be what the user meant. */
function branchFit(issues: readonly Issue[], at: FieldPath, root: unknown): number | undefined {
  const topUnknown = issues.flatMap((issue) =>
    issue.code === "unrecognized_keys" && issue.path.length === 0 ? issue.keys : [],
  );
  const input = valueAt(root, at);
  if (isRecord(input)) {
    const missingDiscriminator = issues.some(
      (issue) => issue.code === "invalid_union" && issue.errors.length === 0 && isMissing(issue, at, root),
    );
    const known = Object.keys(input).filter((key) => !topUnknown.includes(key));
    if (missingDiscriminator || known.length === 0) return undefined;
  }
  return issues.filter((issue) =>
    issue.code === "unrecognized_keys" ? issue.path.length === 0 : isMissing(issue, at, root),
  ).length;
}

function startsWith(path: FieldPath, prefix: FieldPath): boolean {
  return path.length >= prefix.length && prefix.every((segment, index) => path[index] === segment);
}

/** Collects problems with their paths; throws them all as one usage error. */
export class Problems {
  private readonly fields: FieldProblem[] = [];
  /** Messages that already carry their path, such as fromChaosMesh's. */
  private readonly messages: string[] = [];
  /** Paths already explained better than the schema would, whose schema issues are left out. */
  private readonly explained: FieldPath[] = [];

  add(path: FieldPath, problem: string): void {
    this.fields.push({ path, problem });
  }

  /** Records a problem that replaces whatever the schema finds at or inside `path`. */
  explain(path: FieldPath, problem: string): void {
    this.add(path, problem);
    this.explained.push(path);
  }

  /** Takes the message of a usage error raised by shared code with the field's path already in it. */
  addError(error: unknown): void {
    if (!(error instanceof BroadsideError) || error.code !== "BRD_USAGE") throw error;
    this.messages.push(error.message);
  }

  /** Records zod issues found at `base` in `root` (the whole document as read from YAML). */
  addIssues(issues: readonly Issue[], base: FieldPath, root: unknown): void {
    for (const issue of issues) this.addIssue(issue, [...base, ...segmentsOf(issue.path)], root);
  }

  private addIssue(issue: Issue, path: FieldPath, root: unknown): void {
    if (this.explained.some((prefix) => startsWith(path, prefix))) return;
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) this.add([...path, key], "unknown field");
      return;
    }
    if (issue.code === "invalid_union" && issue.errors.length > 0) {
      const branch = chosenBranch(issue.errors, path, root);
      const branchIssues = branch === undefined ? undefined : issue.errors[branch];
      if (branchIssues !== undefined) {
        this.addIssues(branchIssues, path, root);
        return;
      }
    }
    this.add(path, issueProblem(issue, valueAt(root, path)));
  }

  /** True when some problem concerns `path` or a field inside it. */
  hasUnder(path: FieldPath): boolean {
    return this.fields.some((problem) => startsWith(problem.path, path));
  }

  get empty(): boolean {
    return this.fields.length === 0 && this.messages.length === 0;
  }

  /** Throws every problem as one usage error, a line each, in the order of the file where lines are known. */
  throwIfAny(fileName: string, locate: Locator): void {
    if (this.empty) return;
    const located = this.fields.map((problem) => ({ ...problem, line: locate(problem.path) }));
    located.sort((a, b) => (a.line ?? Number.MAX_SAFE_INTEGER) - (b.line ?? Number.MAX_SAFE_INTEGER));
    const lines = [
      ...located.map(({ path, problem, line }) => {
        const where = line === undefined ? "" : ` (line ${line})`;
        return `${fileName}: ${formatPath(path, manifestRoot)}: ${problem}${where}`;
      }),
      ...this.messages.map((message) => `${fileName}: ${message}`),
    ];
    throw new BroadsideError("BRD_USAGE", [...new Set(lines)].join("\n"));
  }
}
