import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Failures found by a fuzz run, kept all rather than stopping at the first: a run then says every
 * distinct way the product fails, each with its smallest example, which is what a fixer needs.
 */

export interface Violation {
  /** The rule broken: "exit code", "internal error", "not refused", ... */
  readonly rule: string;
  /** The class of input: "kill: hostile value of -n". */
  readonly group: string;
  /** What happened, first line. */
  readonly observed: string;
  /** The input, as a reader can replay it. */
  readonly input: string;
}

/** The same failure twice is one finding: messages compared with their quoted values blanked out. */
function signature(violation: Violation): string {
  const observed = violation.observed
    .replace(/"(?:[^"\\]|\\.)*"/g, '"…"')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\d+/g, "N")
    .slice(0, 160);
  return `${violation.group} | ${violation.rule} | ${observed}`;
}

export class Findings {
  private readonly smallest = new Map<string, { violation: Violation; count: number }>();
  cases = 0;
  /** Cases that broke at least one rule. */
  failedCases = 0;
  /** Cases that crashed: an internal error, an exception that is not Broadside's, a stack trace. */
  crashedCases = 0;

  /** Counts one case and the rules it broke. */
  count(rules: readonly string[]): void {
    this.cases += 1;
    if (rules.length > 0) this.failedCases += 1;
    if (rules.some((rule) => rule.startsWith("internal error") || rule === "stack trace"))
      this.crashedCases += 1;
  }

  constructor(
    readonly name: string,
    readonly seed: number,
  ) {}

  add(violation: Violation): void {
    const key = signature(violation);
    const known = this.smallest.get(key);
    if (known === undefined) this.smallest.set(key, { violation, count: 1 });
    else {
      known.count += 1;
      if (violation.input.length < known.violation.input.length) known.violation = violation;
    }
  }

  get total(): number {
    return [...this.smallest.values()].reduce((sum, entry) => sum + entry.count, 0);
  }

  /** One paragraph per distinct failure: the rule, how often, what was seen, the smallest input. */
  report(): string {
    const entries = [...this.smallest.values()].sort((a, b) => b.count - a.count);
    const lines = entries.map(
      ({ violation, count }) =>
        `- [${violation.rule}] ${violation.group} (${String(count)} case(s))\n    observed: ${violation.observed}\n    input: ${violation.input}`,
    );
    return `${this.name}: ${String(this.failedCases)} of ${String(this.cases)} case(s) failed (${String(this.total)} broken rule(s), ${String(entries.length)} distinct) (seed ${String(this.seed)}; replay with BROADSIDE_FUZZ_SEED=${String(this.seed)})\n${lines.join("\n")}`;
  }

  /** For scripts/fuzz.mjs: the counts of this run, in the folder it names. */
  record(dir: string | undefined): void {
    if (dir === undefined || dir === "") return;
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${this.name.replace(/[^a-z0-9]+/gi, "-")}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        name: this.name,
        seed: this.seed,
        cases: this.cases,
        failed: this.failedCases,
        crashed: this.crashedCases,
        distinct: this.smallest.size,
      }),
    );
  }
}

/** Text as a failure list quotes it: one line, escapes visible, long text cut. */
export function shown(text: string, max = 300): string {
  const one = JSON.stringify(text);
  return one.length > max ? `${one.slice(0, max)}…(${String(text.length)} chars)` : one;
}
