import { join } from "node:path";
import { z } from "zod";
import { spawnMeasured } from "./measured.js";
import { collect, describeExit, exitOf, tail } from "./processes.js";
import type { ShotTarget } from "./shots.js";

/**
 * The fan-out: one cold `broadside kill --mode all` over every pod of a namespace, at the CLI's default
 * client limit (50 requests/s, bursts of 300). Issue 14's goal: 6,000 pods within 1.1× the limit's
 * minimum, 6,000 / 50 = 120 s.
 */
export interface FanOutMeasurement {
  readonly pods: number;
  /** Spawn to exit of the one process. */
  readonly exitMs: number;
  /** Spawn to the last DELETE answered (the largest `shot.at`). */
  readonly lastShotMs: number;
  readonly accepted: number;
  readonly refused: number;
  readonly apiRequests: number;
  readonly maxRssKiB: number;
  /** pods / 50 QPS: the time the client limit allows at best for one DELETE per pod. */
  readonly limitMinimumMs: number;
  /** exitMs / limitMinimumMs; the goal is at most 1.1. */
  readonly ratio: number;
}

export const defaultQps = 50;

const fanOutResultSchema = z.object({
  targets: z.array(z.object({ shot: z.object({ accepted: z.boolean(), at: z.number() }) })),
  apiRequests: z.number().int().nonnegative(),
});

export function fanOutArgs(repoRoot: string, target: ShotTarget): string[] {
  return [
    join(repoRoot, "bin", "broadside.js"),
    "kill",
    "-n",
    target.namespace,
    "-l",
    target.selector,
    "--mode",
    "all",
    "--unsafe",
    "--no-wait",
    "--grace-period",
    "0",
    "-o",
    "json",
    "--kubeconfig",
    target.kubeconfig,
  ];
}

export async function fanOut(
  repoRoot: string,
  target: ShotTarget,
  pods: number,
  scratch: string,
): Promise<FanOutMeasurement> {
  const run = spawnMeasured(process.execPath, fanOutArgs(repoRoot, target), scratch, {
    cwd: repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
  });
  if (run.child.stdout === null || run.child.stderr === null) throw new Error("broadside kill: no pipes");
  const stdout = collect(run.child.stdout);
  const stderr = collect(run.child.stderr);
  const exit = await exitOf(run.child, "broadside kill --mode all", 15 * 60_000);
  if (exit.code !== 0) throw new Error(`broadside kill --mode all: ${describeExit(exit)}\n${tail(stderr())}`);
  const usage = await run.usage();
  const result = fanOutResultSchema.parse(JSON.parse(stdout()));
  const shots = result.targets.map((t) => t.shot);
  const accepted = shots.filter((shot) => shot.accepted).length;
  const exitMs = usage.exitedAt - usage.spawnedAt;
  const limitMinimumMs = (pods / defaultQps) * 1000;
  return {
    pods,
    exitMs,
    lastShotMs: Math.max(...shots.map((shot) => shot.at)) - usage.spawnedAt,
    accepted,
    refused: shots.length - accepted,
    apiRequests: result.apiRequests,
    maxRssKiB: usage.maxRssKiB,
    limitMinimumMs,
    ratio: exitMs / limitMinimumMs,
  };
}

export function fanOutTable(measured: FanOutMeasurement): string {
  const s = (ms: number) => (ms / 1000).toFixed(1);
  const rows = [
    "| pods | spawn to exit, s | spawn to last DELETE answered, s | accepted / refused | API requests | peak RSS MiB | pods / 50 QPS, s | exit / that | goal ≤ 1.1 |",
    "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    `| ${measured.pods.toLocaleString("en-US")} | ${s(measured.exitMs)} | ${s(measured.lastShotMs)} | ${measured.accepted} / ${measured.refused} | ${measured.apiRequests} | ${Math.round(measured.maxRssKiB / 1024)} | ${s(measured.limitMinimumMs)} | ${measured.ratio.toFixed(2)} | ${measured.ratio <= 1.1 ? "met" : "not met"} |`,
  ];
  return `${rows.join("\n")}\n`;
}
