import { join } from "node:path";
import { z } from "zod";
import type { StressWork } from "../core/node-work.js";
import { parseOomKills, parseProcs } from "../sandbox/bodies/cgroups.js";

/*
 * StressChaos on the node (ADR 0040), the pure part: where a container's cgroups are (from its process's
 * /proc/<pid>/cgroup), its memory limit, the stressor's configuration and argv, and the writes that put
 * the stressor into the container's cgroups before it allocates anything. The daemon (timed.ts) carries it
 * out through the StressHost seam; stress-main.ts is the stressor itself.
 */

export const cgroupMount = "/sys/fs/cgroup";

/** A container's cgroup directories: v1's memory and cpu hierarchies, or v2's one directory (twice). */
export interface StressCgroups {
  readonly version: "v1" | "v2";
  readonly memory: string;
  readonly cpu: string;
}

/** Cgroup paths Broadside writes into: under the mount, no `..`, plain names only. */
function saneCgroupPath(path: string): boolean {
  return path.startsWith("/") && !path.split("/").includes("..") && /^[A-Za-z0-9_./:,=@+-]*$/.test(path);
}

/**
 * The container's cgroups as its process's /proc/<pid>/cgroup names them: on v1 the lines of the memory
 * and cpu controllers (`4:memory:/kubepods/...`, `3:cpu,cpuacct:/kubepods/...`) under
 * <mount>/<controllers>; on v2 the unified line (`0::/kubepods.slice/...`) under <mount>. v1 wins when
 * its memory controller is listed (a hybrid host lists both).
 */
export function stressCgroupsOf(
  procCgroup: string,
  mount = cgroupMount,
): StressCgroups | { problem: string } {
  const lines = procCgroup
    .split("\n")
    .map((line) => /^(\d+):([^:]*):(.*)$/.exec(line.trim()))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => ({ controllers: match[2] ?? "", path: match[3] ?? "" }));
  const v1 = (controller: string) => lines.find((line) => line.controllers.split(",").includes(controller));
  const memory = v1("memory");
  const cpu = v1("cpu");
  if (memory !== undefined && cpu !== undefined) {
    if (!saneCgroupPath(memory.path) || !saneCgroupPath(cpu.path))
      return { problem: "the process's cgroup paths do not read as cgroup paths" };
    return {
      version: "v1",
      memory: join(mount, memory.controllers, memory.path),
      cpu: join(mount, cpu.controllers, cpu.path),
    };
  }
  const unified = lines.find((line) => line.controllers === "");
  if (unified !== undefined && memory === undefined) {
    if (!saneCgroupPath(unified.path)) return { problem: "the process's cgroup path does not read as one" };
    const dir = join(mount, unified.path);
    return { version: "v2", memory: dir, cpu: dir };
  }
  return { problem: "the process is in no memory and cpu cgroup (neither v1 hierarchies nor v2)" };
}

/** The file holding the cgroup's memory limit. */
export function memoryLimitFile(cgroups: StressCgroups): string {
  return join(cgroups.memory, cgroups.version === "v1" ? "memory.limit_in_bytes" : "memory.max");
}

/** The file counting the cgroup's OOM kills. */
export function oomFile(cgroups: StressCgroups): string {
  return join(cgroups.memory, cgroups.version === "v1" ? "memory.oom_control" : "memory.events");
}

/** The file of the memory the cgroup uses now. */
export function memoryUsageFile(cgroups: StressCgroups): string {
  return join(cgroups.memory, cgroups.version === "v1" ? "memory.usage_in_bytes" : "memory.current");
}

/**
 * v1 writes "unlimited" as the largest page-aligned 64-bit value (9223372036854771712), v2 as "max":
 * any limit of 2^60 bytes or more counts as none.
 */
export function parseMemoryLimit(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return value >= 2 ** 60 ? undefined : value;
}

export { parseOomKills, parseProcs };

/** What the stressor is told: its share of memory per worker, its CPU workers, and when it ends itself. */
export const stressorConfigSchema = z.strictObject({
  memory: z
    .strictObject({
      workers: z.number().int().min(1).max(64),
      bytesPerWorker: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    })
    .optional(),
  cpu: z
    .strictObject({ workers: z.number().int().min(1).max(64), load: z.number().min(0).max(100) })
    .optional(),
  /** Epoch ms: the stressor exits by itself then, whatever became of its daemon. */
  untilMs: z.number().int().nonnegative(),
});
export type StressorConfig = z.infer<typeof stressorConfigSchema>;

/** The stressor outlives the fault's end by this much at most, as the proxy does (its own end). */
export const stressorGraceMs = 10_000;

/**
 * The stressor's configuration from the work's stressors and the container's memory limit (bytes, or
 * undefined for none). A percentage needs a limit; a memory stress on a container without one is refused
 * unless the writer said --unsafe (the seed's safety check; the CLI checked the pod spec already).
 */
export function stressorConfig(
  stress: StressWork,
  limitBytes: number | undefined,
  endsAt: number,
): StressorConfig | { refused: string } {
  const { memory, cpu } = stress;
  const memoryConfig = memory === undefined ? undefined : memoryShare(memory, limitBytes);
  if (memoryConfig !== undefined && "refused" in memoryConfig) return memoryConfig;
  return {
    ...(memoryConfig === undefined ? {} : { memory: memoryConfig }),
    ...(cpu === undefined ? {} : { cpu: { workers: cpu.workers, load: cpu.load } }),
    untilMs: endsAt + stressorGraceMs,
  };
}

function memoryShare(
  memory: NonNullable<StressWork["memory"]>,
  limitBytes: number | undefined,
): NonNullable<StressorConfig["memory"]> | { refused: string } {
  if (limitBytes === undefined && memory.unlimitedAllowed !== true)
    return {
      refused:
        "the container has no memory limit, so a memory stress would take the node's memory (--unsafe allows it)",
    };
  const ofLimit = limitBytes === undefined ? 0 : Math.floor((limitBytes * (memory.percent ?? 0)) / 100);
  const total = memory.bytes ?? ofLimit;
  if (total < 1) return { refused: `${memory.percent ?? 0}% of the memory limit is nothing to allocate` };
  return { workers: memory.workers, bytesPerWorker: Math.max(1, Math.ceil(total / memory.workers)) };
}

/** `node stress-main.js --work <name> --config <json>`: an argv array, never a shell. */
export function stressorArgv(
  program: { readonly node: string; readonly script: string },
  work: string,
  config: StressorConfig,
): string[] {
  return [program.node, program.script, "--work", work, "--config", JSON.stringify(config)];
}

/** The line the daemon writes to the stressor's stdin once it is in the container's cgroups. */
export const goLine = "go";

/** Into the memory and the cpu cgroup (one write on v2): the whole process, cgroup.procs. */
export function placementWrites(cgroups: StressCgroups, pid: number): { path: string; value: string }[] {
  const dirs = [...new Set([cgroups.memory, cgroups.cpu])];
  return dirs.map((dir) => ({ path: join(dir, "cgroup.procs"), value: String(pid) }));
}

/**
 * The work name of a stressor from its /proc/<pid>/cmdline (NUL-separated argv), when the argv is
 * `<node> <script> --work <name> ...` with this daemon's script; else undefined.
 */
export function stressorWorkOf(cmdline: string, script: string): string | undefined {
  const argv = cmdline.split("\0");
  if (argv[1] !== script || argv[2] !== "--work") return undefined;
  const work = argv[3] ?? "";
  return /^nodework-[0-9]{8}t[0-9]{6}-[0-9a-f]{6}$/.test(work) ? work : undefined;
}

/** A stressor process found running on the node. */
export interface RunningStressor {
  readonly pid: number;
  readonly work: string;
}

/** What the daemon does stress through: cgroup files, and the stressor's processes. */
export interface StressHost {
  read(path: string): Promise<string>;
  write(path: string, value: string): Promise<void>;
  /**
   * Starts a stressor that waits; `place(pid)` puts it into the cgroups and journals it; only then is it
   * told to go. Resolves with its pid; rejects (the stressor killed) when `place` throws or it exits first.
   */
  start(work: string, config: StressorConfig, place: (pid: number) => Promise<void>): Promise<number>;
  /** The stressors running on this node (the start-up scan for leftovers). */
  running(): Promise<RunningStressor[]>;
}

/** "memory 512MiB in 1 worker, cpu 2 workers at 80%", for statuses. */
export function describeStress(stress: StressWork | undefined): string {
  if (stress === undefined) return "";
  const parts: string[] = [];
  const { memory, cpu } = stress;
  if (memory !== undefined)
    parts.push(
      `memory ${memory.bytes === undefined ? `${memory.percent ?? 0}% of the limit` : formatBytes(memory.bytes)} in ${memory.workers} worker(s)`,
    );
  if (cpu !== undefined) parts.push(`cpu ${cpu.workers} worker(s) at ${cpu.load}%`);
  return parts.join(", ");
}

export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return Number.isInteger(mib) ? `${mib}MiB` : `${bytes} bytes`;
}
