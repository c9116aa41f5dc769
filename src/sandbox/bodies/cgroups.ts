import { join } from "node:path";
import type { SandboxName } from "../sandbox-name.js";
import { containerCgroup, podCgroup, sandboxCgroup } from "./names.js";
import type { ContainerName, PodUid } from "./names.js";

/*
 * The cgroups of pod bodies, planned as directories to make and files to write, so the plan is checked
 * exactly in unit tests and carried out by the small CgroupFs seam. Both layouts are handled:
 * - v1 (these machines): the memory and cpu hierarchies, each with the sandbox's cgroup at its root;
 * - v2 (unified): one hierarchy, controllers enabled down the tree (cgroup.subtree_control), processes
 *   only in leaves.
 * A body's leaf is `broadside-<sandbox>/pod<uid>/<container>`, as the kubelet's cgroupfs driver lays out
 * `kubepods/.../pod<uid>/<container id>`.
 */

export type CgroupLayout =
  | { readonly version: "v1"; readonly memory: string; readonly cpu: string }
  | { readonly version: "v2"; readonly root: string };

/** What the machine's cgroups look like (cgroupLayoutOf reads it through this). */
export interface CgroupProbe {
  exists(path: string): Promise<boolean>;
  read(path: string): Promise<string>;
}

export const cgroupMount = "/sys/fs/cgroup";

/** The container's limits: memory in bytes, CPU in millicores; absent means unlimited. */
export interface Limits {
  readonly memoryBytes?: number | undefined;
  readonly cpuMillis?: number | undefined;
}

/** One file write of a plan. */
export interface CgroupWrite {
  readonly path: string;
  readonly value: string;
}

export interface CgroupPlan {
  /** Made in order, each one level below the previous (mkdir without -p: a missing parent is an error). */
  readonly mkdirs: readonly string[];
  readonly writes: readonly CgroupWrite[];
}

/** The CFS period the CPU limit is expressed in, as the kubelet uses: 100 ms. */
export const cfsPeriodUs = 100_000;

/**
 * The machine's layout: v2 when /sys/fs/cgroup is the unified hierarchy with the memory and cpu
 * controllers; else v1 when its memory and cpu hierarchies are mounted; else undefined with the reason.
 */
export async function cgroupLayoutOf(
  probe: CgroupProbe,
  mount = cgroupMount,
): Promise<{ layout: CgroupLayout } | { problem: string }> {
  const controllers = join(mount, "cgroup.controllers");
  if (await probe.exists(controllers)) {
    const available = (await probe.read(controllers)).trim().split(/\s+/);
    if (available.includes("memory") && available.includes("cpu"))
      return { layout: { version: "v2", root: mount } };
    return { problem: `the unified cgroup hierarchy at ${mount} lacks the memory or cpu controller` };
  }
  const memory = join(mount, "memory");
  const cpu = join(mount, "cpu");
  const v1 =
    (await probe.exists(join(memory, "memory.limit_in_bytes"))) &&
    (await probe.exists(join(cpu, "cpu.cfs_quota_us")));
  if (v1) return { layout: { version: "v1", memory, cpu } };
  return {
    problem: `no cgroup v2 hierarchy with memory and cpu, nor v1 memory and cpu hierarchies, under ${mount}`,
  };
}

export function hierarchyRoots(layout: CgroupLayout): string[] {
  return layout.version === "v1" ? [layout.memory, layout.cpu] : [layout.root];
}

/** The sandbox's own cgroup in each hierarchy. */
export function sandboxCgroupDirs(layout: CgroupLayout, sandbox: SandboxName): string[] {
  return hierarchyRoots(layout).map((root) => join(root, sandboxCgroup(sandbox)));
}

/** Made by `sandbox up`: the sandbox's cgroup; on v2 with memory and cpu handed down to its children. */
export function sandboxCgroupPlan(layout: CgroupLayout, sandbox: SandboxName): CgroupPlan {
  const dirs = sandboxCgroupDirs(layout, sandbox);
  if (layout.version === "v1") return { mkdirs: dirs, writes: [] };
  return {
    mkdirs: dirs,
    writes: [
      { path: join(layout.root, "cgroup.subtree_control"), value: "+memory +cpu" },
      ...dirs.map((dir) => ({ path: join(dir, "cgroup.subtree_control"), value: "+memory +cpu" })),
    ],
  };
}

/** A body's cgroup directories: the pod's in each hierarchy, and the container's leaf below each. */
export interface BodyCgroups {
  readonly pods: readonly string[];
  readonly leaves: readonly string[];
  /** Where the OOM kills of the leaf are counted. */
  readonly oomFile: string;
}

export function bodyCgroups(
  layout: CgroupLayout,
  sandbox: SandboxName,
  uid: PodUid,
  container: ContainerName,
): BodyCgroups {
  const roots = hierarchyRoots(layout);
  const leaves = roots.map((root) => join(root, containerCgroup(sandbox, uid, container)));
  const memoryLeaf = leaves[0] ?? "";
  return {
    pods: roots.map((root) => join(root, podCgroup(sandbox, uid))),
    leaves,
    oomFile: join(memoryLeaf, layout.version === "v1" ? "memory.oom_control" : "memory.events"),
  };
}

/**
 * Makes a body's cgroups and sets the container's limits. On v1 the memory limit goes to the memory
 * leaf and the CPU quota to the cpu leaf; on v2 both go to the one leaf, with memory.oom.group so an
 * OOM kill takes the whole container (the kubelet's default on v2).
 */
export function bodyCgroupPlan(layout: CgroupLayout, cgroups: BodyCgroups, limits: Limits): CgroupPlan {
  const mkdirs = cgroups.pods.flatMap((pod, index) => [pod, cgroups.leaves[index] ?? ""]);
  const [first = "", second = first] = cgroups.leaves;
  const writes: CgroupWrite[] = [];
  if (layout.version === "v1") {
    if (limits.memoryBytes !== undefined)
      writes.push({ path: join(first, "memory.limit_in_bytes"), value: String(limits.memoryBytes) });
    if (limits.cpuMillis !== undefined) {
      writes.push({ path: join(second, "cpu.cfs_period_us"), value: String(cfsPeriodUs) });
      writes.push({ path: join(second, "cpu.cfs_quota_us"), value: String(quotaUs(limits.cpuMillis)) });
    }
    return { mkdirs, writes };
  }
  writes.push(
    ...cgroups.pods.map((pod) => ({ path: join(pod, "cgroup.subtree_control"), value: "+memory +cpu" })),
  );
  if (limits.memoryBytes !== undefined)
    writes.push({ path: join(first, "memory.max"), value: String(limits.memoryBytes) });
  writes.push({ path: join(first, "memory.oom.group"), value: "1" });
  if (limits.cpuMillis !== undefined)
    writes.push({ path: join(first, "cpu.max"), value: `${quotaUs(limits.cpuMillis)} ${cfsPeriodUs}` });
  return { mkdirs, writes };
}

/** The CFS quota of `millis` millicores per period; at least 1 ms, the kernel's minimum. */
export function quotaUs(millis: number): number {
  return Math.max(1000, Math.round((millis * cfsPeriodUs) / 1000));
}

/** Puts a process into every leaf (the whole thread group: cgroup.procs, not tasks). */
export function joinWrites(cgroups: Pick<BodyCgroups, "leaves">, pid: number): CgroupWrite[] {
  return cgroups.leaves.map((leaf) => ({ path: join(leaf, "cgroup.procs"), value: String(pid) }));
}

/** Leaves first, then the pods' directories: rmdir only removes an empty cgroup. */
export function bodyCgroupTeardown(cgroups: Pick<BodyCgroups, "pods" | "leaves">): string[] {
  return [...cgroups.leaves, ...cgroups.pods];
}

/** The `oom_kill` counter of memory.oom_control (v1) or memory.events (v2); 0 when absent. */
export function parseOomKills(text: string): number {
  const match = /^oom_kill\s+(\d+)$/m.exec(text);
  return match === null ? 0 : Number(match[1]);
}

/** The pids listed in a cgroup.procs file. */
export function parseProcs(text: string): number[] {
  return text
    .split("\n")
    .filter((line) => /^\d+$/.test(line))
    .map(Number);
}

/** Whether `path` is one of this sandbox's cgroup directories (for records read back from disk). */
export function isOwnCgroupDir(path: string, sandbox: SandboxName, mount = cgroupMount): boolean {
  if (!path.startsWith(`${mount}/`) || path.split("/").includes("..")) return false;
  const segments = path.slice(mount.length + 1).split("/");
  const at = segments.indexOf(sandboxCgroup(sandbox));
  // <mount>[/<controller>]/broadside-<sandbox>[/pod<uid>[/<container>]]
  return at >= 0 && at <= 1 && segments.length - at <= 3 && segments.every((s) => /^[a-z0-9._-]+$/.test(s));
}
