import { basename, join } from "node:path";
import type { SandboxName } from "../sandbox/sandbox-name.js";
import { parseProcs } from "../sandbox/bodies/cgroups.js";
import { bodyRecordProblem } from "../sandbox/bodies/records.js";
import type { RecordStore } from "../sandbox/bodies/records.js";
import type { ContainerTarget, FoundNetns, FoundProcess, ProcessFinder } from "./finder.js";
import { oldestProcess } from "./proc.js";
import type { ProcessTable } from "./proc.js";

/**
 * The sandbox's finder: the pod body records the sandbox writes before it makes a body
 * (src/sandbox/bodies/records.ts) name the body's cgroup leaf per hierarchy,
 * `broadside-<sandbox>/pod<uid>/<container>`, as the kubelet's cgroupfs driver lays out
 * `kubepods/.../pod<uid>/<container id>`. The container's process is the oldest in its leaf's
 * cgroup.procs. A record whose names are not this sandbox's is refused, never read further.
 */
export class SandboxRecordsFinder implements ProcessFinder {
  readonly name = "sandbox";

  constructor(
    private readonly sandbox: SandboxName,
    private readonly records: Pick<RecordStore, "bodies">,
    private readonly cgroups: { read(path: string): Promise<string> },
    private readonly processes: ProcessTable,
  ) {}

  /** The body's named namespace, /run/netns/<name> (`ip netns add` made it): it outlives the body's process. */
  async netns(target: ContainerTarget): Promise<FoundNetns> {
    const where = `pod ${target.pod.namespace}/${target.pod.name}`;
    const record = (await this.records.bodies()).find((body) => body.uid === target.pod.uid);
    if (record === undefined)
      return { found: false, reason: `${where} has no body in sandbox ${this.sandbox}` };
    const problem = bodyRecordProblem(record, this.sandbox);
    if (problem !== undefined)
      return { found: false, reason: `the body record of ${where} is refused: ${problem}` };
    return { found: true, path: join("/run/netns", record.netns), how: `netns ${record.netns}` };
  }

  async netnsPaths(): Promise<string[]> {
    return (await this.records.bodies())
      .filter((record) => bodyRecordProblem(record, this.sandbox) === undefined)
      .map((record) => join("/run/netns", record.netns));
  }

  async find(target: ContainerTarget): Promise<FoundProcess> {
    const where = `pod ${target.pod.namespace}/${target.pod.name}`;
    const record = (await this.records.bodies()).find((body) => body.uid === target.pod.uid);
    if (record === undefined)
      return { found: false, reason: `${where} has no body in sandbox ${this.sandbox}` };
    const problem = bodyRecordProblem(record, this.sandbox);
    if (problem !== undefined)
      return { found: false, reason: `the body record of ${where} is refused: ${problem}` };
    const leaf = record.cgroups.leaves.find((dir) => basename(dir) === target.container);
    if (leaf === undefined) {
      const bodies = record.cgroups.leaves.map((dir) => basename(dir));
      return {
        found: false,
        reason: `${where} has a body for container ${[...new Set(bodies)].join(", ")} only, not ${target.container}`,
      };
    }
    const procs = await this.cgroups.read(join(leaf, "cgroup.procs")).catch(() => "");
    const oldest = await oldestProcess(this.processes, parseProcs(procs));
    if (oldest === undefined)
      return { found: false, reason: `container ${target.container} of ${where} has no running process` };
    return { found: true, ...oldest, how: `cgroup ${leaf}` };
  }
}
