import { inject } from "vitest";

declare module "vitest" {
  export interface ProvidedContext {
    fuzzSeed: number;
    fuzzRuns: number;
    fuzzRoot: string;
    unreachableKubeconfig: string;
    fuzzSecret: string;
    fuzzSummaryDir: string;
  }
}

/**
 * The run's settings, chosen once by test/fuzz/global-setup.ts and printed there: the seed (from
 * BROADSIDE_FUZZ_SEED or drawn), the number of generated cases (BROADSIDE_FUZZ_RUNS, default 10,000 in
 * all), the folder every case's own directory is made in, and a kubeconfig that points at a port
 * nothing listens on.
 */
export function fuzzSettings() {
  return {
    seed: inject("fuzzSeed"),
    runs: inject("fuzzRuns"),
    root: inject("fuzzRoot"),
    kubeconfig: inject("unreachableKubeconfig"),
    secret: inject("fuzzSecret"),
    summaryDir: inject("fuzzSummaryDir"),
  };
}

/** Each test's share of the run: its weight of the total, so that --runs scales every test alike. */
export function share(runs: number, weight: number): number {
  return Math.max(1, Math.round((runs * weight) / 100));
}

/** A seed of its own for each test, so that one test replays alone with the run's seed. */
export function seedFor(seed: number, test: string): number {
  let hash = seed | 0;
  for (const char of test) hash = Math.imul(hash ^ char.charCodeAt(0), 0x01000193);
  return hash | 0;
}
