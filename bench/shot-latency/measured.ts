import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";

/**
 * A tiny python3 wrapper that starts one program (os.posix_spawnp, argv array, no shell; the program
 * inherits the wrapper's stdin, stdout and stderr, so its output reaches the benchmark directly), waits
 * for it with os.wait4 and writes, to the file named by its first argument, the epoch ms just before the
 * spawn and just after the wait, the exit code, the program's peak RSS (ru_maxrss, KiB on Linux) and its
 * CPU time (user and system, ms), which a loaded machine disturbs less than the wall clock.
 * The wrapper's own start-up (about 15 ms) is before `spawnedAt`, so the benchmark measures from there.
 * -I -S: isolated, no site packages, the quickest start.
 */
const wrapper = `
import json, os, sys, time
report, argv = sys.argv[1], sys.argv[2:]
started = time.time()
pid = os.posix_spawnp(argv[0], argv, os.environ)
_, status, usage = os.wait4(pid, 0)
exited = time.time()
code = os.waitstatus_to_exitcode(status)
with open(report, "w") as out:
    json.dump({"spawnedAt": started * 1000, "exitedAt": exited * 1000, "code": code, "maxRssKiB": usage.ru_maxrss, "cpuMs": (usage.ru_utime + usage.ru_stime) * 1000}, out)
sys.exit(code if code >= 0 else 128 - code)
`;

const usageSchema = z.object({
  spawnedAt: z.number(),
  exitedAt: z.number(),
  code: z.number().int(),
  maxRssKiB: z.number().int().nonnegative(),
  cpuMs: z.number().nonnegative(),
});

/** What the wrapper reports about the one program it ran. */
export type Usage = z.infer<typeof usageSchema>;

export interface Measured {
  readonly child: ChildProcess;
  /** Epoch ms at which the benchmark spawned the wrapper (its start-up runs from here to `spawnedAt`). */
  readonly wrapperSpawnedAt: number;
  /** The wrapper's report, once the child has exited. */
  readonly usage: () => Promise<Usage>;
}

let reports = 0;

/** Spawns `program args` under the wrapper; `scratch` is a directory for the report file. */
export function spawnMeasured(
  program: string,
  args: readonly string[],
  scratch: string,
  options: SpawnOptions,
): Measured {
  reports += 1;
  const report = join(scratch, `usage-${process.pid}-${reports}.json`);
  const wrapperSpawnedAt = Date.now();
  const child = spawn("python3", ["-I", "-S", "-c", wrapper, report, program, ...args], options);
  const usage = async (): Promise<Usage> => {
    const parsed = usageSchema.parse(JSON.parse(await readFile(report, "utf8")));
    await rm(report, { force: true });
    return parsed;
  };
  return { child, wrapperSpawnedAt, usage };
}
