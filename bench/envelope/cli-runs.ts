import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { collect, describeExit, exitOf, tail } from "../shot-latency/processes.js";

/** One CLI process, spawn to exit, as bench/envelope/peak-rss.py measured it. */
export interface CliRun {
  readonly ms: number;
  /** Peak resident set of the process (getrusage ru_maxrss of the waited child). */
  readonly peakMiB: number;
  readonly stdoutBytes: number;
}

const wrapperOutput = z.object({
  code: z.number(),
  ms: z.number(),
  maxRssKiB: z.number(),
  stdoutBytes: z.number(),
});

const wrapper = join(dirname(fileURLToPath(import.meta.url)), "peak-rss.py");

/** Where a dry run looks: every namespace (-A), or one. */
export type DryRunScope = { readonly all: true } | { readonly namespace: string };

/** `broadside kill --dry-run` with its default (table) output, as a user runs it. */
export function dryRunArgs(
  repoRoot: string,
  kubeconfig: string,
  scope: DryRunScope,
  selector: string,
): string[] {
  const where = "all" in scope ? ["-A"] : ["-n", scope.namespace];
  const bin = join(repoRoot, "bin", "broadside.js");
  return [bin, "kill", "--dry-run", ...where, "-l", selector, "--kubeconfig", kubeconfig];
}

/** Runs `node ARGS...` under the wrapper (argv arrays only); fails on a non-zero exit. */
export async function timedNode(repoRoot: string, args: readonly string[]): Promise<CliRun> {
  const child = spawn("python3", [wrapper, process.execPath, ...args], {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const exit = await exitOf(child, "broadside kill --dry-run", 15 * 60_000);
  if (exit.code !== 0) throw new Error(`peak-rss.py failed (${describeExit(exit)}): ${tail(err())}`);
  const result = wrapperOutput.parse(JSON.parse(out()));
  if (result.code !== 0) {
    throw new Error(`node ${args.slice(1).join(" ")} exited with ${result.code}: ${tail(err())}`);
  }
  return { ms: result.ms, peakMiB: result.maxRssKiB / 1024, stdoutBytes: result.stdoutBytes };
}
