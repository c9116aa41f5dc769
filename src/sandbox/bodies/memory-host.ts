import { dirname } from "node:path";
import type { Host, RunOutcome } from "./host.js";
import type { Argv } from "./network.js";
import type { BodyRecord, NetworkRecord, RecordStore } from "./records.js";

/**
 * An in-memory machine for the pod bodies' unit tests: every `ip` argv is recorded (and answered with
 * success unless a test scripts a failure), cgroup directories and files live in maps, and killing a
 * pid empties it out of every cgroup.procs.
 */
export class MemoryHost implements Host {
  readonly ran: string[] = [];
  readonly dirs = new Set<string>();
  readonly files = new Map<string, string>();
  readonly killed: { pid: number; signal: NodeJS.Signals }[] = [];
  /** Answers by argv joined with spaces; unlisted argv succeed with empty output. */
  readonly answers = new Map<string, RunOutcome>();

  constructor(existingDirs: readonly string[] = []) {
    for (const dir of existingDirs) this.dirs.add(dir);
  }

  run(argv: Argv): Promise<RunOutcome> {
    const line = argv.join(" ");
    this.ran.push(line);
    return Promise.resolve(this.answers.get(line) ?? { exitCode: 0, stdout: "", stderr: "" });
  }

  mkdir(path: string): Promise<void> {
    if (this.dirs.has(path)) return Promise.reject(errno("EEXIST", path));
    if (!this.dirs.has(dirname(path))) return Promise.reject(errno("ENOENT", path));
    this.dirs.add(path);
    this.files.set(`${path}/cgroup.procs`, "");
    return Promise.resolve();
  }

  rmdir(path: string): Promise<void> {
    if (!this.dirs.has(path)) return Promise.reject(errno("ENOENT", path));
    if ((this.files.get(`${path}/cgroup.procs`) ?? "") !== "") return Promise.reject(errno("EBUSY", path));
    this.dirs.delete(path);
    for (const file of [...this.files.keys()]) if (dirname(file) === path) this.files.delete(file);
    return Promise.resolve();
  }

  write(path: string, value: string): Promise<void> {
    if (!this.dirs.has(dirname(path))) return Promise.reject(errno("ENOENT", path));
    if (path.endsWith("/cgroup.procs")) {
      const listed = this.files.get(path) ?? "";
      this.files.set(path, `${listed}${value}\n`);
    } else this.files.set(path, value);
    return Promise.resolve();
  }

  read(path: string): Promise<string> {
    const text = this.files.get(path);
    return text === undefined ? Promise.reject(errno("ENOENT", path)) : Promise.resolve(text);
  }

  exists(path: string): Promise<boolean> {
    return Promise.resolve(this.dirs.has(path) || this.files.has(path));
  }

  kill(pid: number, signal: NodeJS.Signals): boolean {
    this.killed.push({ pid, signal });
    let found = false;
    for (const [path, text] of this.files) {
      if (!path.endsWith("/cgroup.procs")) continue;
      const kept = text.split("\n").filter((line) => line !== "" && line !== String(pid));
      if (kept.length !== text.split("\n").filter((line) => line !== "").length) found = true;
      this.files.set(path, kept.map((line) => `${line}\n`).join(""));
    }
    this.onKill?.(pid, signal);
    return found;
  }

  /** Told of every kill, after the pid left the cgroups: a test's stand-in process can exit then. */
  onKill: ((pid: number, signal: NodeJS.Signals) => void) | undefined;
}

function errno(code: string, path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${code}: ${path}`);
  error.code = code;
  return error;
}

/** Records in memory. */
export class MemoryRecords implements RecordStore {
  network: NetworkRecord | undefined;
  readonly bodyRecords = new Map<string, BodyRecord>();

  readNetwork(): Promise<NetworkRecord | undefined> {
    return Promise.resolve(this.network);
  }

  writeNetwork(record: NetworkRecord): Promise<void> {
    this.network = record;
    return Promise.resolve();
  }

  forgetNetwork(): Promise<void> {
    this.network = undefined;
    return Promise.resolve();
  }

  bodies(): Promise<BodyRecord[]> {
    return Promise.resolve([...this.bodyRecords.values()]);
  }

  writeBody(record: BodyRecord): Promise<void> {
    this.bodyRecords.set(record.uid, record);
    return Promise.resolve();
  }

  forgetBody(uid: string): Promise<void> {
    this.bodyRecords.delete(uid);
    return Promise.resolve();
  }
}
