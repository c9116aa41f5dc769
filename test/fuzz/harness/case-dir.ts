import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";

/**
 * The directory one CLI case runs in. Every folder the CLI may write to (HOME's state and cache folders,
 * the working directory with its report folder) sits four levels deep inside it, and canary files sit at
 * each level on the way: a name that walks out of its folder with up to four "..", as the hostile values
 * do, lands on a canary or beside one, inside this directory, where the snapshot sees it. Nothing the CLI
 * does can reach further than that without being caught by the check of the directory's parent.
 */

export interface CaseLayout {
  readonly root: string;
  readonly home: string;
  readonly stateDir: string;
  readonly cacheDir: string;
  readonly cwd: string;
}

/** Where writes are allowed: the CLI's own state and cache folders, and the working directory. */
function allowedZones(layout: CaseLayout): string[] {
  return [layout.stateDir, layout.cacheDir, layout.cwd].map((dir) => relative(layout.root, dir));
}

/** A sandbox that is not the case's: its folder must survive every case. */
export const neighbourSandbox = "zz-neighbour-9";

export function makeCaseDir(parent: string, files: Readonly<Record<string, string>>): CaseLayout {
  const root = mkdtempSync(join(parent, "case-"));
  const layout: CaseLayout = {
    root,
    home: join(root, "home"),
    stateDir: join(root, "home", "state", "a", "b", "sandboxes"),
    cacheDir: join(root, "home", "cache", "a", "b", "broadside"),
    cwd: join(root, "work", "a", "b", "cwd"),
  };
  for (const dir of [layout.stateDir, layout.cacheDir, layout.cwd]) mkdirSync(dir, { recursive: true });
  for (const dir of [
    "",
    "home",
    "home/state",
    "home/state/a",
    "home/state/a/b",
    "home/cache/a/b",
    "work",
    "work/a",
    "work/a/b",
  ]) {
    writeFileSync(join(root, dir, "CANARY"), `canary of ${dir || "the case root"}\n`);
  }
  // Another sandbox's state and keys: `sandbox down` of one sandbox must leave them alone.
  mkdirSync(join(layout.stateDir, neighbourSandbox, "pki"), { recursive: true });
  writeFileSync(join(layout.stateDir, neighbourSandbox, "pki", "ca.key"), "another sandbox's key\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(layout.cwd, name), text);
  return layout;
}

/** Path (relative to the root) to a fingerprint: "dir", or the file's size and hash. */
export type Snapshot = ReadonlyMap<string, string>;

function fingerprint(path: string): string {
  const stat = lstatSync(path);
  if (stat.isDirectory()) return "dir";
  if (stat.isSymbolicLink()) return "symlink";
  if (stat.size > 1_000_000) return `file ${String(stat.size)} ${String(stat.mtimeMs)}`;
  return `file ${createHash("sha1").update(readFileSync(path)).digest("hex")}`;
}

export function snapshot(root: string, into = new Map<string, string>(), dir = root): Map<string, string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    const print = fingerprint(path);
    into.set(relative(root, path), print);
    if (print === "dir") snapshot(root, into, path);
  }
  return into;
}

function inZone(path: string, zones: readonly string[]): boolean {
  return zones.some((zone) => path === zone || path.startsWith(`${zone}${sep}`));
}

/**
 * Every change outside the allowed folders: "created x", "deleted y", "changed z". `alsoAllowed` are
 * paths the user named for writing (`report --output FILE`), relative to the working directory.
 */
export function changesOutside(
  layout: CaseLayout,
  before: Snapshot,
  after: Snapshot,
  alsoAllowed: readonly string[] = [],
): string[] {
  const zones = [
    ...allowedZones(layout),
    ...alsoAllowed.map((path) => relative(layout.root, resolve(layout.cwd, path))),
  ];
  const changes: string[] = [];
  for (const [path, print] of before) {
    const now = after.get(path);
    if (now === undefined) changes.push(`deleted ${path}`);
    else if (now !== print && !inZone(path, zones)) changes.push(`changed ${path}`);
  }
  for (const path of after.keys()) {
    if (!before.has(path) && !inZone(path, zones)) changes.push(`created ${path}`);
  }
  return changes;
}

/** Files created or changed anywhere in the case directory, for the credential check. */
export function writtenFiles(before: Snapshot, after: Snapshot): string[] {
  return [...after]
    .filter(([path, print]) => print.startsWith("file") && before.get(path) !== print)
    .map(([path]) => path);
}

export function removeCaseDir(layout: CaseLayout): void {
  rmSync(layout.root, { recursive: true, force: true });
}
