import { lstat, mkdir, readdir, readFile, realpath, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { BroadsideError, describeError } from "../core/errors.js";
import { SandboxName } from "./sandbox-name.js";

/**
 * Every file of one sandbox, below its state directory `<state root>/<name>`. Built only from a checked
 * SandboxName, so a name from input cannot point anywhere else.
 */
export interface SandboxLayout {
  readonly name: SandboxName;
  /** The state root as configured (BROADSIDE_STATE_DIR). */
  readonly root: string;
  readonly dir: string;
  readonly pkiDir: string;
  readonly logsDir: string;
  readonly etcdDataDir: string;
  readonly adminKubeconfig: string;
  readonly viewerKubeconfig: string;
  readonly kwokConfig: string;
  readonly stateFile: string;
  readonly lockFile: string;
  readonly markerFile: string;
  /** Records of what the pod bodies are made of (src/sandbox/bodies/records.ts). */
  readonly bodiesDir: string;
}

/** Written by `up` into every state directory it makes; nothing without it is ever deleted. */
export const markerFileName = ".broadside-sandbox";

export function sandboxLayout(stateRoot: string, name: SandboxName): SandboxLayout {
  const dir = join(stateRoot, name);
  return {
    name,
    root: stateRoot,
    dir,
    pkiDir: join(dir, "pki"),
    logsDir: join(dir, "logs"),
    etcdDataDir: join(dir, "etcd"),
    adminKubeconfig: join(dir, "kubeconfig"),
    viewerKubeconfig: join(dir, "viewer.kubeconfig"),
    kwokConfig: join(dir, "kwok.yaml"),
    stateFile: join(dir, "state.json"),
    lockFile: join(dir, "lock"),
    markerFile: join(dir, markerFileName),
    bodiesDir: join(dir, "bodies"),
  };
}

/**
 * Makes the sandbox's state directory (owner-only: it holds private keys) with its marker, or confirms
 * that the one already there is this sandbox's own.
 */
export async function prepareStateDir(layout: SandboxLayout): Promise<void> {
  await mkdir(layout.root, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
    throw dirError(layout, "cannot be made: its state root cannot be made", error);
  });
  try {
    await mkdir(layout.dir, { mode: 0o700 });
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw dirError(layout, "cannot be made", error);
    await confirmOwnStateDir(layout);
    return;
  }
  await writeFile(layout.markerFile, `${layout.name}\n`, { flag: "wx", mode: 0o600 });
}

/** Whether anything (a directory, a file, a symlink) is at the sandbox's path. */
export async function stateDirExists(layout: SandboxLayout): Promise<boolean> {
  try {
    await lstat(layout.dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Refuses (BRD_SANDBOX_DIR_REFUSED) unless the sandbox's path is a real directory (not a symlink) lying
 * directly in the state root once both are resolved, and holding a marker that names this sandbox.
 */
export async function confirmOwnStateDir(layout: SandboxLayout): Promise<void> {
  const info = await lstat(layout.dir).catch((error: unknown) => {
    throw dirError(layout, "cannot be read", error);
  });
  if (!info.isDirectory()) throw dirError(layout, "is not a directory (a symlink or a file)");
  const [realRoot, realDir] = await Promise.all([realpath(layout.root), realpath(layout.dir)]);
  if (realDir !== join(realRoot, layout.name)) {
    throw dirError(layout, `resolves to ${realDir}, not to its place in the state root ${realRoot}`);
  }
  const marker = await lstat(layout.markerFile).catch(() => undefined);
  const named = marker?.isFile() === true ? (await readFile(layout.markerFile, "utf8")).trim() : undefined;
  if (named !== layout.name) {
    throw dirError(
      layout,
      named === undefined
        ? `has no ${markerFileName} marker: Broadside did not make it, or an older Broadside did (before markers); check what it holds and remove it yourself`
        : `has a marker naming "${named}", not "${layout.name}"`,
    );
  }
}

/**
 * Removes the sandbox's state directory, confined: only after confirmOwnStateDir, just before the removal
 * (fs.rm removes symlinks inside it without following them). False when there was nothing to remove.
 */
export async function removeStateDir(layout: SandboxLayout): Promise<boolean> {
  if (!(await stateDirExists(layout))) return false;
  await confirmOwnStateDir(layout);
  await rm(layout.dir, { recursive: true, force: true });
  return true;
}

/** Empties the sandbox's state directory for a fresh start, keeping its lock and marker (confined likewise). */
export async function clearStateDir(layout: SandboxLayout): Promise<void> {
  await confirmOwnStateDir(layout);
  const kept = new Set([layout.lockFile, layout.markerFile]);
  for (const entry of await readdir(layout.dir)) {
    const path = join(layout.dir, entry);
    if (!kept.has(path)) await rm(path, { recursive: true, force: true });
  }
}

/** The sandboxes with a state directory under the root (entries that are not names are left out). */
export async function listSandboxNames(stateRoot: string): Promise<SandboxName[]> {
  const entries = await readdir(stateRoot, { withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => SandboxName.check(entry.name))
    .filter((name) => name !== undefined)
    .sort();
}

function dirError(layout: SandboxLayout, problem: string, cause?: unknown): BroadsideError {
  const why =
    cause === undefined ? "" : ` (${(cause as NodeJS.ErrnoException).code ?? describeError(cause)})`;
  return new BroadsideError(
    "BRD_SANDBOX_DIR_REFUSED",
    `sandbox "${layout.name}": ${layout.dir} ${problem}${why}; nothing in it was changed`,
    cause === undefined ? undefined : { cause },
  );
}
