import { readdir, readFile, rename, rm, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import type { SandboxName } from "../sandbox-name.js";
import { isOwnCgroupDir } from "./cgroups.js";
import { checkPodUid, isOwnInterfaceName, isOwnNetnsName } from "./names.js";
import type { PodUid } from "./names.js";

/*
 * What the sandbox made, written to its state directory before it is made (so a run killed half way
 * leaves a record of what it may have made) and removed once it is gone again. `sandbox down`, `sandbox
 * up` after a crash and the traffic process at its start remove exactly what the records name, and
 * nothing else: a record whose names are not ones this sandbox makes is refused, never acted on.
 */

export const networkRecordSchema = z.object({
  kind: z.literal("network"),
  bridge: z.string(),
  cidr: z.string(),
  gateway: z.string(),
  /** The sandbox's own cgroup in each hierarchy. */
  cgroups: z.array(z.string()),
});
export type NetworkRecord = z.infer<typeof networkRecordSchema>;

export const bodyRecordSchema = z.object({
  kind: z.literal("body"),
  uid: z.string(),
  namespace: z.string(),
  pod: z.string(),
  ip: z.string(),
  netns: z.string(),
  hostVeth: z.string(),
  cgroups: z.object({ pods: z.array(z.string()), leaves: z.array(z.string()) }),
});
export type BodyRecord = z.infer<typeof bodyRecordSchema>;

/** Why a record read back cannot be trusted, or undefined. */
export function networkRecordProblem(record: NetworkRecord, sandbox: SandboxName): string | undefined {
  if (!isOwnInterfaceName(record.bridge, sandbox))
    return `bridge ${JSON.stringify(record.bridge)} is not this sandbox's`;
  const foreign = record.cgroups.find((dir) => !isOwnCgroupDir(dir, sandbox));
  return foreign === undefined ? undefined : `cgroup ${JSON.stringify(foreign)} is not this sandbox's`;
}

export function bodyRecordProblem(record: BodyRecord, sandbox: SandboxName): string | undefined {
  if (checkPodUid(record.uid) === undefined) return `uid ${JSON.stringify(record.uid)} is not a UUID`;
  if (!isOwnNetnsName(record.netns, sandbox))
    return `netns ${JSON.stringify(record.netns)} is not this sandbox's`;
  if (!isOwnInterfaceName(record.hostVeth, sandbox))
    return `link ${JSON.stringify(record.hostVeth)} is not this sandbox's`;
  const dirs = [...record.cgroups.pods, ...record.cgroups.leaves];
  const foreign = dirs.find((dir) => !isOwnCgroupDir(dir, sandbox));
  return foreign === undefined ? undefined : `cgroup ${JSON.stringify(foreign)} is not this sandbox's`;
}

/** The records of one sandbox; FileRecords keeps them in its state directory. */
export interface RecordStore {
  readNetwork(): Promise<NetworkRecord | undefined>;
  writeNetwork(record: NetworkRecord): Promise<void>;
  forgetNetwork(): Promise<void>;
  bodies(): Promise<BodyRecord[]>;
  writeBody(record: BodyRecord & { uid: PodUid }): Promise<void>;
  forgetBody(uid: string): Promise<void>;
}

/** Records as files in `<state dir>/bodies/`: network.json and body-<uid>.json, each written whole. */
export class FileRecords implements RecordStore {
  constructor(private readonly dir: string) {}

  async readNetwork(): Promise<NetworkRecord | undefined> {
    const json = await this.readJson("network.json");
    return json === undefined ? undefined : networkRecordSchema.parse(json);
  }

  writeNetwork(record: NetworkRecord): Promise<void> {
    return this.writeJson("network.json", record);
  }

  forgetNetwork(): Promise<void> {
    return rm(join(this.dir, "network.json"), { force: true });
  }

  async bodies(): Promise<BodyRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const records: BodyRecord[] = [];
    for (const name of names.filter((entry) => /^body-[0-9a-f-]{36}\.json$/.test(entry)).sort()) {
      const parsed = bodyRecordSchema.safeParse(await this.readJson(name));
      if (parsed.success) records.push(parsed.data);
    }
    return records;
  }

  writeBody(record: BodyRecord & { uid: PodUid }): Promise<void> {
    return this.writeJson(`body-${record.uid}.json`, record);
  }

  async forgetBody(uid: string): Promise<void> {
    const checked = checkPodUid(uid);
    if (checked !== undefined) await rm(join(this.dir, `body-${checked}.json`), { force: true });
  }

  private async readJson(name: string): Promise<unknown> {
    try {
      return JSON.parse(await readFile(join(this.dir, name), "utf8")) as unknown;
    } catch {
      return undefined;
    }
  }

  private async writeJson(name: string, record: object): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const temporary = join(this.dir, `.${name}.${process.pid}.tmp`);
    await writeFile(temporary, JSON.stringify(record), { mode: 0o600 });
    await rename(temporary, join(this.dir, name));
  }
}
